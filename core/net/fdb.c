/* fdb.c - a bridge's forwarding database: which port a MAC address was last
 * seen on. See bridge(8) "bridge fdb show". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "internal.h"

struct fdb_dump {
        int master;
        struct fwsh_fdb *v;
        size_t n, cap;
};

static void restart_fdb(void *arg)
{
        ((struct fdb_dump *)arg)->n = 0;
}

static int on_neigh(struct nlmsghdr *h, void *arg)
{
        struct fdb_dump *d = arg;
        struct nlattr *tb[NDA_MAX + 1];
        struct ndmsg *nd = nlmsg_data(h);
        struct fwsh_fdb *e;

        if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_BRIDGE)
                return 0;
        if (nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL) < 0 || !tb[NDA_LLADDR] ||
            nla_len(tb[NDA_LLADDR]) != 6)
                return 0;
        if (!tb[NDA_MASTER] || (int)nla_get_u32(tb[NDA_MASTER]) != d->master)
                return 0;
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 32;
                struct fwsh_fdb *v = realloc(d->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                d->v = v;
                d->cap = cap;
        }
        e = &d->v[d->n++];
        memset(e, 0, sizeof(*e));
        memcpy(e->mac, nla_data(tb[NDA_LLADDR]), 6);
        e->ifindex = nd->ndm_ifindex;
        e->state = nd->ndm_state;
        e->flags = nd->ndm_flags;
        e->local = (nd->ndm_state & NUD_PERMANENT) != 0;
        return 0;
}

int fwsh_fdb_list(struct fwsh_ctx *ctx, const char *bridge, struct fwsh_fdb **ret, size_t *ret_n)
{
        struct ndmsg nd = { .ndm_family = AF_BRIDGE };
        struct fdb_dump d = { 0 };
        struct fwsh_link br;
        struct nl_msg *msg;
        int r = fwsh_link_get(ctx, bridge, &br);

        if (r < 0)
                return r;
        if (!link_kind_find(br.kind)->ports)
                return ctx_fail(ctx, -EINVAL, "%s is a %s, not a bridge", bridge,
                                br.kind[0] ? br.kind : "link");
        d.master = br.ifindex;
        msg = rtnl_request(RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof(nd));
        if (!msg)
                return -ENOMEM;
        r = nl_query_dump(ctx, msg, on_neigh, restart_fdb, &d);
        if (r < 0) {
                free(d.v);
                return r;
        }
        *ret = d.v;
        *ret_n = d.n;
        return 0;
}

int fwsh_fdb_port(struct fwsh_ctx *ctx, const char *bridge, const uint8_t mac[6])
{
        struct fwsh_fdb *v = NULL;
        size_t n = 0;
        int r = fwsh_fdb_list(ctx, bridge, &v, &n), port = 0;

        if (r < 0)
                return r;
        for (size_t i = 0; i < n && !port; i++)
                if (memcmp(v[i].mac, mac, 6) == 0 && !v[i].local)
                        port = v[i].ifindex;
        free(v);
        return port;
}
