/* batch_commit.c - making what a batch queued (batch.c): each kind of request
 * in a run of its own, many to one sendmsg, acks read after (as bench/floor.c
 * does). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "batch.h"

/* ---- committing -------------------------------------------------------------------- */

/* The links are made a window of CHUNK of one kind at a time, every step for
 * the window before the next one: a window's messages go in one sendmsg, and
 * a link made but not yet tagged (the kernel ignores IFLA_IFALIAS on create;
 * a tap's ioctl takes no tag at all) is one of at most CHUNK, should fwsh be
 * killed before the tags go out and `fwsh down` have to miss it. */
#define CHUNK 32

typedef int build_fn(struct fwsh_ctx *ctx, const struct batch *b, struct item *it,
                     struct nl_msg **ret);

/* One message from build() for each link of the window (none if it sets no
 * message), in one sendmsg. creates: the messages make the links; mark the
 * ones made (a refused one is not ours: a link of its name may be someone
 * else's). */
static int send_each(struct fwsh_ctx *ctx, const struct batch *b, struct item **win, size_t n,
                     build_fn *build, bool creates, struct item **failed)
{
        struct nl_msg *msgs[CHUNK];
        struct item *of[CHUNK];
        int errs[CHUNK];
        size_t k = 0, bad = 0;
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++) {
                struct nl_msg *m = NULL;

                if ((r = build(ctx, b, win[i], &m)) < 0)
                        *failed = win[i];
                else if (m) {
                        msgs[k] = m;
                        of[k++] = win[i];
                }
        }
        if (r < 0 || k == 0) {
                for (size_t i = 0; i < k; i++)
                        nlmsg_free(msgs[i]);
                return r;
        }
        r = nl_query_batch(ctx, msgs, k, &bad, errs);
        if (r < 0)
                *failed = of[bad < k ? bad : k - 1];
        for (size_t i = 0; creates && i < k; i++)
                of[i]->made = errs[i] == 0;
        return r;
}

static int bridge_create(struct fwsh_ctx *ctx, const struct batch *b, struct item *it,
                         struct nl_msg **ret)
{
        struct change create, rest, ch;

        (void)b;
        item_change(it, &ch);
        link_new_split(&ch, &create, &rest);
        return link_msg(ctx, &create, true, ret);
}

/* The tag, and up after IPv6 is off; by ifindex. */
static int bridge_rest(struct fwsh_ctx *ctx, const struct batch *b, struct item *it,
                       struct nl_msg **ret)
{
        struct change create, rest, ch;

        (void)b;
        item_change(it, &ch);
        if (!link_new_split(&ch, &create, &rest))
                return 0;
        rest.ifindex = it->ifindex;
        return link_msg(ctx, &rest, false, ret);
}

/* The tap's tag, by name, while fwsh holds it (see make_taps). */
static int tap_tag(struct fwsh_ctx *ctx, const struct batch *b, struct item *it,
                   struct nl_msg **ret)
{
        struct change tag, rest, ch;

        (void)b;
        item_change(it, &ch);
        tap_new_split(&ch, &tag, &rest);
        return link_msg(ctx, &tag, false, ret);
}

/* The tap's other settings, by name as tap_kernel_new sets them (the ioctl that
 * made it says no ifindex); its bridge, if this batch makes it, by the
 * ifindex it got. */
static int tap_rest(struct fwsh_ctx *ctx, const struct batch *b, struct item *it,
                    struct nl_msg **ret)
{
        struct change tag, rest, ch;

        item_change(it, &ch);
        tap_new_split(&ch, &tag, &rest);
        if (ch.master_name[0]) {
                const struct item *br = batch_find(b, ch.master_name);
                if (!br || br->ifindex <= 0)
                        return ctx_fail(ctx, -ENODEV, "bridge %s was not made", ch.master_name);
                rest.set.master = br->ifindex;
        }
        return link_msg(ctx, &rest, false, ret);
}

static int make_bridges_tagged(struct fwsh_ctx *ctx, const struct batch *b, struct item **win,
                               size_t n, struct item **failed);

/* A window of bridges, under an intent record (intent.c): the creates; the
 * ifindex of each made; IPv6 off where asked, before it goes up; the tags, and
 * up. */
static int make_bridges(struct fwsh_ctx *ctx, const struct batch *b, struct item **win, size_t n,
                        struct item **failed)
{
        const char *names[CHUNK];
        char intent[128];
        int r;

        for (size_t i = 0; i < n; i++)
                names[i] = win[i]->name;
        if ((r = intent_begin(ctx, names, n, intent, sizeof(intent))) < 0)
                return r;
        r = make_bridges_tagged(ctx, b, win, n, failed);
        intent_end(intent); /* each tagged, or removed again by unmake */
        return r;
}

static int make_bridges_tagged(struct fwsh_ctx *ctx, const struct batch *b, struct item **win,
                               size_t n, struct item **failed)
{
        int r = send_each(ctx, b, win, n, bridge_create, true, failed);

        for (size_t i = 0; i < n; i++) {
                int index;

                if (!win[i]->made)
                        continue;
                if ((index = fwsh_link_index(ctx, win[i]->name)) < 0) {
                        if (r == 0) {
                                *failed = win[i];
                                r = ctx_fail(ctx, index, "made, then gone");
                        }
                        continue;
                }
                win[i]->ifindex = index;
        }
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct change ch;

                item_change(win[i], &ch);
                if ((r = link_new_sysctl(ctx, &ch)) < 0)
                        *failed = win[i];
        }
        return r < 0 ? r : send_each(ctx, b, win, n, bridge_rest, false, failed);
}

/* A window of taps: the ioctls, one tap at a time; their tags in one
 * sendmsg; TUNSETPERSIST for each (until then each lives as long as its
 * descriptor: a SIGKILL leaves no untagged tap, a failure no tap); then their
 * other settings in one sendmsg. */
static int make_taps(struct fwsh_ctx *ctx, const struct batch *b, struct item **win, size_t n,
                     struct item **failed)
{
        int saved, r = ctx_enter(ctx, &saved);

        if (r < 0)
                return ctx_fail(ctx, r, "cannot enter the namespace");
        for (size_t i = 0; i < n; i++)
                win[i]->fd = -1;
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct change ch;

                item_change(win[i], &ch);
                if ((r = tap_tun_open(ctx, &ch, &win[i]->fd)) < 0)
                        *failed = win[i];
                else
                        win[i]->made = true;
        }
        ctx_leave(saved);
        if (r == -EEXIST)
                r = ctx_fail(ctx, r, "a link of that name was made during the batch");
        /* Each one's ifindex while its descriptor holds it: the name is
         * ours now, and its undo deletes by ifindex. */
        for (size_t i = 0; r == 0 && i < n; i++) {
                int index = fwsh_link_index(ctx, win[i]->name);

                if (index < 0) {
                        *failed = win[i];
                        r = ctx_fail(ctx, index, "made, then not found");
                } else {
                        win[i]->ifindex = index;
                }
        }
        if (r == 0)
                r = send_each(ctx, b, win, n, tap_tag, false, failed);
        for (size_t i = 0; i < n; i++) {
                struct item *it = win[i];

                if (it->fd < 0)
                        continue;
                if (r == 0 && (r = tap_tun_persist(ctx, it->fd)) < 0)
                        *failed = it;
                else if (r < 0 && it->fd >= 0)
                        close(it->fd);
                it->fd = -1;
                if (r < 0)
                        it->made = false; /* closed before it persisted: gone */
        }
        return r < 0 ? r : send_each(ctx, b, win, n, tap_rest, false, failed);
}

/* Every bridge, a window at a time, then every tap. */
static int make(struct fwsh_ctx *ctx, struct batch *b, struct item **failed)
{
        struct item *win[CHUNK];
        int r = 0;

        for (int bridges = 1; bridges >= 0; bridges--) {
                size_t i = 0;

                while (r == 0 && i < b->n) {
                        size_t n = 0;

                        for (; n < CHUNK && i < b->n; i++)
                                if (b->v[i]->bridge == bridges)
                                        win[n++] = b->v[i];
                        if (n)
                                r = bridges ? make_bridges(ctx, b, win, n, failed)
                                            : make_taps(ctx, b, win, n, failed);
                }
        }
        return r;
}

/* Removes what the batch made, newest first (taps before their bridges),
 * CHUNK to a sendmsg, by ifindex; by name only a link made in a window that
 * failed before its ifindex was read, which nothing else can hold yet. */
static void unmake(struct fwsh_ctx *ctx, struct batch *b)
{
        struct nl_msg *msgs[CHUNK];
        size_t i = b->n, bad;

        while (i > 0) {
                size_t n = 0;

                for (; n < CHUNK && i > 0; i--) {
                        struct item *it = b->v[i - 1];
                        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = it->ifindex };
                        struct nl_msg *m;

                        if (!it->made)
                                continue;
                        m = rtnl_request(RTM_DELLINK, 0, &ifi, sizeof(ifi));
                        if (m && it->ifindex <= 0 &&
                            nla_put_string(m, IFLA_IFNAME, it->name) < 0) {
                                nlmsg_free(m);
                                m = NULL;
                        }
                        if (m)
                                msgs[n++] = m;
                }
                if (n)
                        nl_query_batch(ctx, msgs, n, &bad, NULL);
        }
}

int fwsh_batch_commit(struct fwsh_ctx *ctx, struct fwsh_batch_failure *ret_failed)
{
        struct batch *b = ctx->batch;
        struct item *failed = NULL;
        int r;

        memset(ret_failed, 0, sizeof(*ret_failed));
        if (!b)
                return ctx_fail(ctx, -EINVAL, "no batch is open");
        ctx->batch = NULL; /* what follows goes to the kernel */
        r = journal_reserve(ctx, b->n);
        if (r < 0)
                ctx_fail(ctx, r, "no memory to record the batch for rollback");
        else
                r = make(ctx, b, &failed);
        for (size_t i = 0; r == 0 && i < b->n; i++) {
                struct change inv;
                change_init(&inv, CH_LINK_DEL, b->v[i]->name);
                inv.ifindex = b->v[i]->ifindex; /* every one made has it */
                journal_record(ctx, &inv); /* cannot fail: reserved */
        }
        if (r < 0) {
                char why[FWSH_DETAIL_MAX];

                snprintf(why, sizeof(why), "%s", ctx->detail);
                if (failed) {
                        snprintf(ret_failed->kind, sizeof(ret_failed->kind), "%s",
                                 failed->bridge ? "bridge" : "tap");
                        snprintf(ret_failed->name, sizeof(ret_failed->name), "%.*s",
                                 FWSH_NAME_MAX, failed->name);
                }
                unmake(ctx, b);
                ctx_fail(ctx, r, "%s", why);
        }
        batch_free(b);
        return r;
}
