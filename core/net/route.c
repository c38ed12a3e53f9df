/* route.c - routes in the main (or a given) table. See ip-route(8). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "internal.h"

int route_kernel(struct fwsh_ctx *ctx, const struct change *ch)
{
        const struct fwsh_addr *dst = &ch->route.dst;
        bool add = ch->op == CH_ROUTE_NEW;
        uint32_t table = ch->route.table ? ch->route.table : RT_TABLE_MAIN;
        struct rtmsg rtm = {
                .rtm_family = (uint8_t)dst->family,
                .rtm_dst_len = dst->prefixlen,
                .rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
                /* As ip-route(8) does: a delete matches any scope, protocol and type. */
                .rtm_protocol = add ? RTPROT_BOOT : 0,
                .rtm_scope = !add ? RT_SCOPE_NOWHERE :
                             ch->route.has_via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
                .rtm_type = add ? RTN_UNICAST : 0,
        };
        struct nl_msg *msg = rtnl_request(add ? RTM_NEWROUTE : RTM_DELROUTE,
                                          add ? NLM_F_CREATE | NLM_F_EXCL : 0, &rtm, sizeof(rtm));
        int len = dst->family == AF_INET ? 4 : 16, r = 0;

        if (!msg)
                return -ENOMEM;
        if (dst->prefixlen && nla_put(msg, RTA_DST, len, dst->bytes) < 0)
                r = -ENOMEM;
        if (ch->route.has_via && nla_put(msg, RTA_GATEWAY, len, ch->route.via.bytes) < 0)
                r = -ENOMEM;
        if (ch->route.ifindex > 0 && nla_put_u32(msg, RTA_OIF, (uint32_t)ch->route.ifindex) < 0)
                r = -ENOMEM;
        if (ch->route.metric && nla_put_u32(msg, RTA_PRIORITY, ch->route.metric) < 0)
                r = -ENOMEM;
        if (table >= 256 && nla_put_u32(msg, RTA_TABLE, table) < 0)
                r = -ENOMEM;
        if (r < 0) {
                nlmsg_free(msg);
                return r;
        }
        r = nl_query(ctx, msg, NULL, NULL);
        /* The kernel says ESRCH, "No such process", with no words of its own. */
        if (r == -ESRCH && !ctx->detail[0])
                return ctx_fail(ctx, r, "no such route");
        return r;
}

/* Fills ch's route from the caller's words, checking them as ip-route(8) would. */
static int route_spec(struct fwsh_ctx *ctx, struct change *ch, const char *dst, const char *via,
                      const char *dev, uint32_t metric, uint32_t table)
{
        struct fwsh_link l;
        int r;

        if (!via && !dev)
                return ctx_fail(ctx, -EINVAL, "a route needs a gateway (via) or a device (dev)");
        if (via) {
                if (strchr(via, '/'))
                        return ctx_fail(ctx, -EINVAL, "gateway %s: an address, without a prefix length", via);
                r = fwsh_addr_parse(ctx, via, &ch->route.via);
                if (r < 0)
                        return r;
                ch->route.has_via = true;
        }
        if (strcmp(dst, "default") == 0) {
                ch->route.dst.family = via ? ch->route.via.family : AF_INET;
                snprintf(ch->route.dst.text, sizeof(ch->route.dst.text), "default");
        } else {
                r = fwsh_addr_parse(ctx, dst, &ch->route.dst);
                if (r < 0)
                        return r;
        }
        if (via && ch->route.via.family != ch->route.dst.family)
                return ctx_fail(ctx, -EINVAL, "gateway %s is not of the family of %s", via, dst);
        if (dev) {
                r = fwsh_link_get(ctx, dev, &l);
                if (r < 0)
                        return ctx_fail(ctx, r, "dev %s: %s", dev, ctx->detail);
                ch->route.ifindex = l.ifindex;
        }
        ch->route.metric = metric;
        ch->route.table = table ? table : RT_TABLE_MAIN;
        return 0;
}

static int route_change(struct fwsh_ctx *ctx, bool add, const char *dst, const char *via,
                        const char *dev, uint32_t metric, uint32_t table)
{
        struct change ch, inv;
        int r;

        change_init(&ch, add ? CH_ROUTE_NEW : CH_ROUTE_DEL, dst);
        r = route_spec(ctx, &ch, dst, via, dev, metric, table);
        if (r < 0)
                return r;
        inv = ch;
        inv.op = add ? CH_ROUTE_DEL : CH_ROUTE_NEW;
        return change_apply(ctx, &ch, &inv);
}

int fwsh_route_add(struct fwsh_ctx *ctx, const char *dst, const char *via, const char *dev,
                   uint32_t metric, uint32_t table)
{
        return route_change(ctx, true, dst, via, dev, metric, table);
}

int fwsh_route_delete(struct fwsh_ctx *ctx, const char *dst, const char *via, const char *dev,
                      uint32_t metric, uint32_t table)
{
        return route_change(ctx, false, dst, via, dev, metric, table);
}

struct route_vec {
        int ifindex;
        uint32_t table;
        bool unicast_only;
        struct fwsh_route *v;
        size_t n, cap;
};

static void restart_routes(void *arg)
{
        ((struct route_vec *)arg)->n = 0;
}

static void addr_to_text(int family, const void *bytes, char *buf, size_t size)
{
        inet_ntop(family, bytes, buf, (socklen_t)size);
}

static int on_route(struct nlmsghdr *h, void *arg)
{
        struct route_vec *rv = arg;
        struct rtmsg *rtm = nlmsg_data(h);
        struct nlattr *tb[RTA_MAX + 1];
        struct fwsh_route *rt;
        uint32_t table;
        int oif = 0;

        if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
                return 0;
        if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
                return 0;
        table = tb[RTA_TABLE] && nla_len(tb[RTA_TABLE]) == 4 ? nla_get_u32(tb[RTA_TABLE])
                                                             : rtm->rtm_table;
        if (tb[RTA_OIF] && nla_len(tb[RTA_OIF]) == 4)
                oif = (int)nla_get_u32(tb[RTA_OIF]);
        if ((rv->table && table != rv->table) || (rv->ifindex && oif != rv->ifindex) ||
            (rv->unicast_only && rtm->rtm_type != RTN_UNICAST))
                return 0;
        if (rv->n == rv->cap) {
                size_t cap = rv->cap ? rv->cap * 2 : 16;
                struct fwsh_route *v = realloc(rv->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                rv->v = v;
                rv->cap = cap;
        }
        rt = &rv->v[rv->n++];
        memset(rt, 0, sizeof(*rt));
        rt->family = rtm->rtm_family;
        rt->table = table;
        rt->ifindex = oif;
        rt->scope = rtm->rtm_scope;
        rt->protocol = rtm->rtm_protocol;
        rt->type = rtm->rtm_type;
        if (tb[RTA_PRIORITY] && nla_len(tb[RTA_PRIORITY]) == 4)
                rt->metric = nla_get_u32(tb[RTA_PRIORITY]);
        if (rtm->rtm_dst_len == 0 || !tb[RTA_DST]) {
                snprintf(rt->dst, sizeof(rt->dst), "default");
        } else {
                char ip[INET6_ADDRSTRLEN];
                addr_to_text(rt->family, nla_data(tb[RTA_DST]), ip, sizeof(ip));
                snprintf(rt->dst, sizeof(rt->dst), "%s/%u", ip, rtm->rtm_dst_len);
        }
        if (tb[RTA_GATEWAY])
                addr_to_text(rt->family, nla_data(tb[RTA_GATEWAY]), rt->via, sizeof(rt->via));
        return 0;
}

static int route_dump(struct fwsh_ctx *ctx, struct route_vec *rv)
{
        struct rtmsg rtm = { .rtm_family = AF_UNSPEC };
        struct nl_msg *msg;
        int r;

        if (ctx->backend->routes) {
                size_t k = 0;
                r = ctx->backend->routes(ctx, &rv->v, &rv->n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < rv->n; i++)
                        if ((!rv->table || rv->v[i].table == rv->table) &&
                            (!rv->ifindex || rv->v[i].ifindex == rv->ifindex) &&
                            (!rv->unicast_only || rv->v[i].type == RTN_UNICAST))
                                rv->v[k++] = rv->v[i];
                rv->n = k;
                return 0;
        }
        msg = rtnl_request(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
        if (!msg)
                return -ENOMEM;
        r = nl_query_dump(ctx, msg, on_route, restart_routes, rv);
        if (r < 0) {
                free(rv->v);
                rv->v = NULL;
        }
        return r;
}

int fwsh_route_list(struct fwsh_ctx *ctx, const char *dev, uint32_t table,
                    struct fwsh_route **ret, size_t *ret_n)
{
        struct route_vec rv = { .table = table, .unicast_only = true };
        struct fwsh_link l;
        int r;

        if (dev) {
                r = fwsh_link_get(ctx, dev, &l);
                if (r < 0)
                        return r;
                rv.ifindex = l.ifindex;
        }
        r = route_dump(ctx, &rv);
        if (r < 0)
                return r;
        if (rv.n) {
                struct fwsh_link *links = NULL;
                size_t nl = 0;

                /* One dump for every route's device name, not one request per route. */
                if (fwsh_link_list(ctx, &links, &nl) == 0)
                        for (size_t i = 0; i < rv.n; i++)
                                for (size_t k = 0; k < nl; k++)
                                        if (links[k].ifindex == rv.v[i].ifindex)
                                                memcpy(rv.v[i].dev, links[k].name, sizeof(links[k].name));
                free(links);
        }
        *ret = rv.v;
        *ret_n = rv.n;
        return 0;
}

int route_count_dev(struct fwsh_ctx *ctx, int ifindex)
{
        struct route_vec rv = { .ifindex = ifindex };
        int r = route_dump(ctx, &rv);

        free(rv.v);
        return r < 0 ? r : (int)rv.n;
}

int route_dump_all(struct fwsh_ctx *ctx, struct fwsh_route **ret, size_t *ret_n)
{
        struct route_vec rv = { 0 };
        int r = route_dump(ctx, &rv);

        if (r < 0)
                return r;
        *ret = rv.v;
        *ret_n = rv.n;
        return 0;
}
