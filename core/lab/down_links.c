/* down_links.c - `fwsh down`'s bulk deletion of a lab's links, by identity.
 *
 * The kernel deletes a whole link group in one request (one synchronisation
 * for all; one by one costs about three times as long), but a group number is
 * anybody's to use: deleting the lab's group after listing it would also take
 * a link that joined the group in between. So the links listed as the lab's
 * (its tag) are first moved, each by its ifindex, into a group drawn at random
 * for this one deletion; a second listing checks that the group holds exactly
 * those links, still tagged, and only then is it deleted in one request. A
 * link that arrived in the lab's group meanwhile is never in the drawn one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "internal.h"

bool lab_link_tagged(const struct fwsh_link *l, const char *lab)
{
        const char *tag = fwsh_alias_lab(l->alias);

        return tag && strcmp(tag, lab) == 0 && strcmp(l->name, "lo") != 0;
}

/* A group number no listed link is in, neither the default nor the lab's. */
static uint32_t draw_group(const struct fwsh_link *links, size_t n, uint32_t avoid)
{
        for (;;) {
                uint32_t g = 0;
                bool used = false;

                if (getrandom(&g, sizeof(g), GRND_NONBLOCK) != (ssize_t)sizeof(g))
                        g = (uint32_t)rand();
                if (g == 0 || g == avoid)
                        continue;
                for (size_t i = 0; i < n && !used; i++)
                        used = links[i].group == g;
                if (!used)
                        return g;
        }
}

/* A request of type for the link ifindex (0: none) with IFLA_GROUP group:
 * NULL when out of memory. */
static struct nl_msg *group_request(int type, int ifindex, uint32_t group)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
        struct nl_msg *msg = rtnl_request(type, 0, &ifi, sizeof(ifi));

        if (msg && nla_put_u32(msg, IFLA_GROUP, group) < 0) {
                nlmsg_free(msg);
                msg = NULL;
        }
        return msg;
}

/* Moves ours[0..n) (indexes into links) into group, one request each, all in
 * one send. What each answered does not matter here: a link that went
 * meanwhile or refused is not in the group, and the listing after reads what
 * is; only a request that could not be made is an error. */
static int move_into(struct fwsh_ctx *ctx, const struct fwsh_link *links, const size_t *ours,
                     size_t n, uint32_t group)
{
        struct nl_msg **msgs = calloc(n, sizeof(*msgs));
        size_t failed;
        int r = msgs ? 0 : -ENOMEM;

        for (size_t i = 0; i < n && r == 0; i++)
                if (!(msgs[i] = group_request(RTM_SETLINK, links[ours[i]].ifindex, group)))
                        r = -ENOMEM;
        if (r == 0)
                (void)nl_query_batch(ctx, msgs, n, &failed, NULL);
        else
                for (size_t i = 0; i < n; i++)
                        nlmsg_free(msgs[i]);
        free(msgs);
        return r;
}

/* Whether group now holds only links of ours[0..n), by ifindex and name, each
 * still tagged: how many, or -EEXIST if anything else is in it. */
static int verify(struct fwsh_ctx *ctx, const char *lab, const struct fwsh_link *was,
                  const size_t *ours, size_t n, uint32_t group)
{
        struct fwsh_link *now = NULL;
        size_t nn = 0;
        int count = 0, r = fwsh_link_list(ctx, &now, &nn);

        if (r < 0)
                return r;
        for (size_t i = 0; i < nn && r == 0; i++) {
                bool listed = false;

                if (now[i].group != group)
                        continue;
                for (size_t j = 0; j < n && !listed; j++)
                        listed = was[ours[j]].ifindex == now[i].ifindex &&
                                 strcmp(was[ours[j]].name, now[i].name) == 0;
                if (!listed || !lab_link_tagged(&now[i], lab))
                        r = -EEXIST;
                count++;
        }
        free(now);
        return r < 0 ? r : count;
}

int lab_links_delete(struct fwsh_ctx *ctx, const char *lab, unsigned *count)
{
        struct fwsh_link *links = NULL;
        struct nl_msg *msg;
        size_t n = 0, k = 0, *ours = NULL;
        uint32_t group;
        int r;

        if (ctx->plan)
                return 0; /* the plan deletes one by one (lab.c) */
        if ((r = fwsh_link_list(ctx, &links, &n)) < 0)
                return r;
        if (n && !(ours = calloc(n, sizeof(*ours))))
                r = -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++)
                if (lab_link_tagged(&links[i], lab))
                        ours[k++] = i;
        group = draw_group(links, n, fwsh_lab_group(lab));
        if (r == 0 && k > 0)
                r = move_into(ctx, links, ours, k, group);
        if (r == 0 && k > 0)
                r = verify(ctx, lab, links, ours, k, group);
        free(ours);
        free(links);
        /* Something else is in the drawn group (a stale ifindex, now another
         * link's, was moved): delete nothing in bulk; lab.c's pass goes one by
         * one, by tag. */
        if (r <= 0)
                return r == -EEXIST ? 0 : r;
        if (!(msg = group_request(RTM_DELLINK, 0, group)))
                return -ENOMEM;
        k = (size_t)r;
        r = nl_query(ctx, msg, NULL, NULL);
        if (r == 0)
                *count += (unsigned)k;
        return r == -EOPNOTSUPP ? 0 : r; /* a kind that cannot be deleted so: one by one */
}
