/* bridge.c - bridges, grounding and not. See ip-link(8) "type bridge". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <netlink/attr.h>

#include "internal.h"

static int check_spec(struct fwsh_ctx *ctx, const struct fwsh_bridge_spec *spec)
{
        int r = opts_check(ctx, &bridge_opts, &spec->opts);

        if (r < 0)
                return r;
        if (spec->mtu > UINT32_MAX)
                return ctx_fail(ctx, -ERANGE, "mtu out of range");
        return fwsh_name_check(ctx, spec->name);
}

/* The creation spec asks for, once it is checked. */
static void bridge_change(struct fwsh_ctx *ctx, const struct fwsh_bridge_spec *spec, struct change *ch)
{
        change_init(ch, CH_LINK_NEW, spec->name);
        snprintf(ch->kind, sizeof(ch->kind), "bridge");
        ch->set.up = spec->up;
        ch->set.mtu = spec->mtu;
        ch->set.opts = spec->opts;
        ch->set.set_mac = spec->set_mac;
        memcpy(ch->set.mac, spec->mac, 6);
        lab_mark(ctx, ch);
        if (!spec->grounding) {
                /* Written before it goes up: no link-local address, no fe80::/64,
                 * no ff00::/8 (addrgenmode none alone leaves that one). */
                snprintf(ch->sysctl.path, sizeof(ch->sysctl.path), "net/ipv6/conf/%s/disable_ipv6",
                         spec->name);
                snprintf(ch->sysctl.value, sizeof(ch->sysctl.value), "1");
        }
}

int fwsh_bridge_add(struct fwsh_ctx *ctx, const struct fwsh_bridge_spec *spec)
{
        struct change ch, inv;
        int r = check_spec(ctx, spec);

        if (r < 0)
                return r;
        bridge_change(ctx, spec, &ch);
        change_init(&inv, CH_LINK_DEL, spec->name);
        r = change_apply(ctx, &ch, &inv);
        if (r == -EEXIST && !ctx->detail[0])
                return link_taken(ctx, spec->name);
        if (r == -EOPNOTSUPP && opts_need(&bridge_opts, &spec->opts) && !ctx->detail[0])
                return ctx_fail(ctx, r, "this kernel lacks what a bridge option needs (%s)",
                                opts_need(&bridge_opts, &spec->opts));
        return r;
}

int fwsh_bridge_ensure(struct fwsh_ctx *ctx, const struct fwsh_bridge_spec *spec)
{
        struct change want;
        int r = check_spec(ctx, spec);

        if (r < 0)
                return r;
        bridge_change(ctx, spec, &want);
        r = link_ensure(ctx, &want);
        if (r == 1 && (r = fwsh_bridge_add(ctx, spec)) == 0)
                return 1;
        return r;
}

int fwsh_bridge_grounding(struct fwsh_ctx *ctx, const char *name, struct fwsh_grounding *ret)
{
        struct fwsh_grounding g = { 0 };
        struct fwsh_link l;
        int r = fwsh_link_get(ctx, name, &l);

        if (r < 0)
                return r;
        if (strcmp(l.kind, "bridge") != 0)
                return ctx_fail(ctx, -EINVAL, "%s is a %s, not a bridge", name,
                                l.kind[0] ? l.kind : "plain link");
        if ((r = addr_count_dev(ctx, l.ifindex, AF_INET)) < 0)
                return r;
        g.ipv4_addrs = r;
        if ((r = addr_count_dev(ctx, l.ifindex, AF_INET6)) < 0)
                return r;
        g.ipv6_addrs = r;
        if ((r = route_count_dev(ctx, l.ifindex)) < 0)
                return r;
        g.routes = r;
        r = ipv6_disabled(ctx, name);
        g.ipv6_enabled = r == 0;
        g.grounding = g.ipv4_addrs || g.ipv6_addrs || g.routes;
        if (g.ipv4_addrs || g.ipv6_addrs)
                snprintf(g.why, sizeof(g.why), "%u IPv4 and %u IPv6 addresses",
                         g.ipv4_addrs, g.ipv6_addrs);
        else if (g.routes)
                snprintf(g.why, sizeof(g.why), "%u routes through it", g.routes);
        *ret = g;
        return 0;
}

/* What keeps a bridge grounding once its IPv6 is off (which takes IPv6
 * link-local addresses and IPv6 routes with it): IPv4 addresses and routes,
 * IPv6 addresses of wider scope. */
static int grounded_beyond_ipv6(struct fwsh_ctx *ctx, const char *name, char *why, size_t size)
{
        struct fwsh_addr *addrs = NULL;
        struct fwsh_route *routes = NULL;
        size_t na = 0, nr = 0, v4 = 0, v6 = 0, r4 = 0;
        int r = fwsh_addr_list(ctx, name, &addrs, &na);

        if (r == 0)
                r = fwsh_route_list(ctx, name, 0, &routes, &nr);
        for (size_t i = 0; r == 0 && i < na; i++) {
                if (addrs[i].family == AF_INET)
                        v4++;
                else if (addrs[i].scope != RT_SCOPE_LINK)
                        v6++;
        }
        for (size_t i = 0; r == 0 && i < nr; i++)
                r4 += routes[i].family == AF_INET;
        free(addrs);
        free(routes);
        if (r < 0)
                return r;
        snprintf(why, size, "%zu IPv4 and %zu IPv6 addresses, %zu IPv4 routes", v4, v6, r4);
        return v4 || v6 || r4;
}

int fwsh_bridge_set_grounding(struct fwsh_ctx *ctx, const char *name, bool grounding)
{
        struct fwsh_grounding g;
        struct change ch, inv;
        char why[96];
        int r = fwsh_bridge_grounding(ctx, name, &g);

        if (r < 0)
                return r;
        if (!grounding && (r = grounded_beyond_ipv6(ctx, name, why, sizeof(why))) != 0)
                return r < 0 ? r : ctx_fail(ctx, -EBUSY, "%s has %s: remove them first", name, why);
        if (g.ipv6_enabled == grounding)
                return 0;
        change_init(&ch, CH_SYSCTL, name);
        snprintf(ch.sysctl.path, sizeof(ch.sysctl.path), "net/ipv6/conf/%s/disable_ipv6", name);
        snprintf(ch.sysctl.value, sizeof(ch.sysctl.value), "%d", !grounding);
        inv = ch;
        snprintf(inv.sysctl.value, sizeof(inv.sysctl.value), "%d", grounding);
        return change_apply(ctx, &ch, &inv);
}

int fwsh_bridge_ports(struct fwsh_ctx *ctx, const char *name, int **ret_ports, size_t *ret_n)
{
        struct fwsh_link br, *all = NULL;
        size_t n = 0, k = 0;
        int *ports, r = fwsh_link_get(ctx, name, &br);

        if (r < 0)
                return r;
        if (strcmp(br.kind, "bridge") != 0)
                return ctx_fail(ctx, -EINVAL, "%s is a %s, not a bridge", name,
                                br.kind[0] ? br.kind : "plain link");
        r = fwsh_link_list(ctx, &all, &n);
        if (r < 0)
                return r;
        ports = malloc((n ? n : 1) * sizeof(*ports));
        if (!ports) {
                free(all);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (all[i].master == br.ifindex)
                        ports[k++] = all[i].ifindex;
        free(all);
        *ret_ports = ports;
        *ret_n = k;
        return 0;
}

/* ---- the bridge kind ---------------------------------------------------------------- */

static struct nla_policy brport_policy[IFLA_BRPORT_MAX + 1] = {
        [IFLA_BRPORT_STATE] = { .type = NLA_U8 },
};

static void parse_bridge(struct nlattr *data, struct fwsh_link *l)
{
        struct nlattr *tb[IFLA_BR_MAX + 1];

        /* No policy: the option rows check their attributes' widths. */
        if (!data || nla_parse_nested(tb, IFLA_BR_MAX, data, NULL) < 0)
                return;
        opts_parse(&bridge_opts, tb, &l->opts);
        if (tb[IFLA_BR_BRIDGE_ID] && nla_len(tb[IFLA_BR_BRIDGE_ID]) >= (int)sizeof(struct ifla_bridge_id)) {
                const struct ifla_bridge_id *id = nla_data(tb[IFLA_BR_BRIDGE_ID]);
                snprintf(l->bridge.id, sizeof(l->bridge.id),
                         "%02x%02x.%02x%02x%02x%02x%02x%02x", id->prio[0], id->prio[1],
                         id->addr[0], id->addr[1], id->addr[2], id->addr[3], id->addr[4],
                         id->addr[5]);
        }
}

static void parse_port(struct nlattr *data, struct fwsh_link *l)
{
        struct nlattr *port[IFLA_BRPORT_MAX + 1];

        if (nla_parse_nested(port, IFLA_BRPORT_MAX, data, brport_policy) >= 0 && port[IFLA_BRPORT_STATE])
                l->port_state = nla_get_u8(port[IFLA_BRPORT_STATE]);
}

static bool has_data(const struct change *ch, bool create)
{
        (void)create;
        return opts_any(&ch->set.opts);
}

static int put(struct nl_msg *msg, const struct change *ch, bool create, int peer_fd)
{
        (void)create;
        (void)peer_fd;
        return opts_put(&bridge_opts, msg, &ch->set.opts);
}

static void explain(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool create)
{
        char words[256];

        (void)ctx;
        (void)create;
        opts_explain(&bridge_opts, &ch->set.opts, words, sizeof(words));
        out_put(o, "%s", words);
}

/* What ensure asks of a bridge beyond its rows: a non-grounding one must
 * have nothing that grounds it, and IPv6 off. */
static int matches(struct fwsh_ctx *ctx, const struct change *want, const struct fwsh_link *l)
{
        struct fwsh_grounding g;
        int r;

        if (!want->sysctl.path[0])
                return 0;
        if ((r = fwsh_bridge_grounding(ctx, l->name, &g)) < 0)
                return r;
        if (g.grounding || g.ipv6_enabled)
                return ctx_fail(ctx, -EEXIST, "exists as a grounding bridge (%s)",
                                g.why[0] ? g.why : "IPv6 enabled");
        return 0;
}

static bool recreate(struct fwsh_ctx *ctx, const struct fwsh_link *l, struct change *inv)
{
        change_init(inv, CH_LINK_NEW, l->name);
        if (l->has_mac) {
                inv->set.set_mac = true;
                memcpy(inv->set.mac, l->mac, 6);
        }
        opts_recreate(&bridge_opts, &l->opts, &inv->set.opts);
        /* A non-grounding bridge comes back with IPv6 off before it is up. */
        if (ipv6_disabled(ctx, l->name) == 1) {
                snprintf(inv->sysctl.path, sizeof(inv->sysctl.path),
                         "net/ipv6/conf/%s/disable_ipv6", l->name);
                snprintf(inv->sysctl.value, sizeof(inv->sysctl.value), "1");
        }
        return true;
}

static const struct link_kind bridge_kind = {
        .name = "bridge", .type = "fwsh.bridge", .ports = true, .opts = &bridge_opts,
        .parse = parse_bridge, .parse_port = parse_port, .has_data = has_data, .put = put,
        .explain = explain, .matches = matches, .recreate = recreate,
};
LINK_KIND_REGISTER(bridge_kind)
