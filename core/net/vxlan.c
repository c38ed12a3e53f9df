/* vxlan.c - VXLAN links: a bridge on one host and one on another become one
 * L2 segment (fwsh.hosts.stretch). See ip-link(8) "type vxlan". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <netlink/attr.h>

#include "internal.h"

/* ---- a VXLAN's options, one row each -------------------------------------------------- */

/* The outer addresses and the underlay's link are not rows: they are
 * addresses and a name, which fwsh_vxlan_add checks and puts itself. The
 * VNI's range (1 to 16777215) is checked there too, with its reason. Each
 * row: name, ip's word, attribute, width, unit, flags, min, max, default,
 * config, help. */
enum { ID, PORT, LEARNING, TTL };
static const struct fwsh_opt_row ROWS[] = {
        [ID] = { "id", "id", IFLA_VXLAN_ID, NLA_U32, FWSH_OPT_INT, 0, 0, UINT32_MAX, -1, NULL,
                 "the VNI, 1 to 16777215 (needed)" },
        [PORT] = { "dstport", "dstport", IFLA_VXLAN_PORT, NLA_U16, FWSH_OPT_INT, FWSH_ROW_BE16, 1,
                   UINT16_MAX, 4789, NULL, "the UDP port of the outer packets (4789, IANA's)" },
        [LEARNING] = { "learning", "learning", IFLA_VXLAN_LEARNING, NLA_U8, FWSH_OPT_BOOL,
                       FWSH_ROW_WORD, 0, 1, 1, NULL, "learn remote MACs from what arrives (on)" },
        [TTL] = { "ttl", "ttl", IFLA_VXLAN_TTL, NLA_U8, FWSH_OPT_INT, 0, 0, UINT8_MAX, 0, NULL,
                  "the outer packets' TTL; 0: the kernel's route default (0)" },
};
_Static_assert(FWSH_N(ROWS) <= FWSH_OPTS_MAX, "a value per row");

static const struct fwsh_opt_table vxlan_opts = { "vxlan", ROWS, FWSH_N(ROWS) };

/* An IPv4 or IPv6 address into buf (16 bytes); its family, or 0. */
static int parse_addr(const char *s, uint8_t *buf)
{
        if (inet_pton(AF_INET, s, buf) == 1)
                return AF_INET;
        if (inet_pton(AF_INET6, s, buf) == 1)
                return AF_INET6;
        return 0;
}

/* The creation spec asks for, checked, into *ch. */
static int vxlan_change(struct fwsh_ctx *ctx, const struct fwsh_vxlan_spec *spec, struct change *ch)
{
        int64_t id = fwsh_opt_get(&spec->opts, ID);
        int r, lf = 0, rf = 0;

        if ((r = fwsh_name_check(ctx, spec->name)) < 0)
                return r;
        if (id < 1 || id > 0xffffff)
                return ctx_fail(ctx, -EINVAL, "id %lld: a VNI is 1 to 16777215", (long long)id);
        if ((r = opts_check(ctx, &vxlan_opts, &spec->opts)) < 0)
                return r;
        change_init(ch, CH_LINK_NEW, spec->name);
        snprintf(ch->kind, sizeof(ch->kind), "vxlan");
        if (spec->local && !(lf = parse_addr(spec->local, ch->vxlan.local)))
                return ctx_fail(ctx, -EINVAL, "local %s: not an IPv4 or IPv6 address", spec->local);
        if (spec->remote && !(rf = parse_addr(spec->remote, ch->vxlan.remote)))
                return ctx_fail(ctx, -EINVAL, "remote %s: not an IPv4 or IPv6 address", spec->remote);
        if (lf && rf && lf != rf)
                return ctx_fail(ctx, -EINVAL, "local %s and remote %s: not of one family", spec->local,
                                spec->remote);
        if (spec->mtu != -1 && (spec->mtu < 68 || spec->mtu > 65535))
                return ctx_fail(ctx, -EINVAL, "mtu %lld: 68 to 65535", (long long)spec->mtu);
        if (spec->dev) {
                if ((r = fwsh_name_check(ctx, spec->dev)) < 0)
                        return r;
                if ((ch->vxlan.dev = fwsh_link_index(ctx, spec->dev)) < 0)
                        return ctx_fail(ctx, ch->vxlan.dev, "dev %s: no such link", spec->dev);
        }
        ch->vxlan.family = lf ? lf : rf;
        ch->vxlan.has_local = lf != 0;
        ch->vxlan.has_remote = rf != 0;
        ch->set.opts = spec->opts;
        /* ip's port, which is not the kernel's (8472, from before IANA's) */
        if (fwsh_opt_get(&ch->set.opts, PORT) < 0)
                fwsh_opt_put(&ch->set.opts, PORT, (uint32_t)ROWS[PORT].dflt);
        ch->set.mtu = spec->mtu;
        ch->set.up = spec->up;
        lab_mark(ctx, ch);
        return 0;
}

int fwsh_vxlan_add(struct fwsh_ctx *ctx, const struct fwsh_vxlan_spec *spec)
{
        struct change ch;
        int r = vxlan_change(ctx, spec, &ch);

        return r < 0 ? r : link_new_apply(ctx, &ch);
}

int fwsh_vxlan_ensure(struct fwsh_ctx *ctx, const struct fwsh_vxlan_spec *spec)
{
        struct change want;
        int r = vxlan_change(ctx, spec, &want);

        return r < 0 ? r : link_ensure_new(ctx, &want);
}

/* ---- the vxlan kind ----------------------------------------------------------------- */

/* A VXLAN's IFLA_INFO_DATA: as ip-link(8) puts it (remote and group both go
 * as the group attribute; the port in network order). */
static int put(struct nl_msg *msg, const struct change *ch, bool create, int peer_fd)
{
        bool v6 = ch->vxlan.family == AF_INET6;
        int alen = v6 ? 16 : 4;

        (void)create;
        (void)peer_fd;

        if (opts_put(&vxlan_opts, msg, &ch->set.opts) < 0)
                return -ENOMEM;
        if (ch->vxlan.has_local &&
            nla_put(msg, v6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, alen, ch->vxlan.local) < 0)
                return -ENOMEM;
        if (ch->vxlan.has_remote &&
            nla_put(msg, v6 ? IFLA_VXLAN_GROUP6 : IFLA_VXLAN_GROUP, alen, ch->vxlan.remote) < 0)
                return -ENOMEM;
        if (ch->vxlan.dev > 0 && nla_put_u32(msg, IFLA_VXLAN_LINK, (uint32_t)ch->vxlan.dev) < 0)
                return -ENOMEM;
        return 0;
}

static bool has_data(const struct change *ch, bool create)
{
        (void)ch;
        return create;
}

/* ip-link(8)'s words for a VXLAN: its rows, local, remote (or group), dev */
static void explain(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool create)
{
        char a[INET6_ADDRSTRLEN], words[256];
        struct fwsh_link dev;

        (void)create;
        opts_explain(&vxlan_opts, &ch->set.opts, words, sizeof(words));
        out_put(o, "%s", words);
        if (ch->vxlan.has_local) {
                out_put(o, " local");
                out_word(o, inet_ntop(ch->vxlan.family, ch->vxlan.local, a, sizeof(a)));
        }
        if (ch->vxlan.has_remote) {
                bool group = ch->vxlan.family == AF_INET ? (ch->vxlan.remote[0] & 0xf0) == 0xe0
                                                         : ch->vxlan.remote[0] == 0xff;
                out_put(o, group ? " group" : " remote");
                out_word(o, inet_ntop(ch->vxlan.family, ch->vxlan.remote, a, sizeof(a)));
        }
        if (ch->vxlan.dev > 0 && fwsh_link_get_index(ctx, ch->vxlan.dev, &dev) == 0) {
                out_put(o, " dev");
                out_word(o, dev.name);
        }
}

/* One end's address, IPv4 or IPv6, into a (16 bytes) and *family: whether there is one. */
static bool end(const struct nlattr *v4, const struct nlattr *v6, int *family, uint8_t *a)
{
        if (v4 && nla_len(v4) >= 4) {
                memcpy(a, nla_data(v4), 4);
                *family = AF_INET;
                return true;
        }
        if (v6 && nla_len(v6) >= 16) {
                memcpy(a, nla_data(v6), 16);
                *family = AF_INET6;
                return true;
        }
        return false;
}

static void parse(struct nlattr *data, struct fwsh_link *l)
{
        struct nlattr *tb[IFLA_VXLAN_MAX + 1];

        /* No policy: the option rows check their attributes' widths, and
         * end() the addresses'. */
        if (!data || nla_parse_nested(tb, IFLA_VXLAN_MAX, data, NULL) < 0)
                return;
        opts_parse(&vxlan_opts, tb, &l->opts);
        l->vxlan.has_local = end(tb[IFLA_VXLAN_LOCAL], tb[IFLA_VXLAN_LOCAL6], &l->vxlan.family,
                                 l->vxlan.local);
        l->vxlan.has_remote = end(tb[IFLA_VXLAN_GROUP], tb[IFLA_VXLAN_GROUP6], &l->vxlan.family,
                                  l->vxlan.remote);
        if (tb[IFLA_VXLAN_LINK] && nla_len(tb[IFLA_VXLAN_LINK]) >= 4)
                l->vxlan.dev = (int)nla_get_u32(tb[IFLA_VXLAN_LINK]);
}

static void plan_new(struct fwsh_link *l, const struct change *ch)
{
        l->vxlan = ch->vxlan;
}

/* A deleted VXLAN comes back with its rows and its ends (its dev by the
 * ifindex it had: if that is gone, the kernel refuses, and says so). */
static bool recreate(struct fwsh_ctx *ctx, const struct fwsh_link *l, struct change *inv)
{
        (void)ctx;
        change_init(inv, CH_LINK_NEW, l->name);
        opts_recreate(&vxlan_opts, &l->opts, &inv->set.opts);
        inv->vxlan = l->vxlan;
        return true;
}

/* An address as text, or "none". */
static const char *say(int family, bool has, const uint8_t *a, char *buf)
{
        return has && inet_ntop(family, a, buf, INET6_ADDRSTRLEN) ? buf : "none";
}

/* What ensure asks of a VXLAN beyond its rows: the ends asked for. */
static int matches(struct fwsh_ctx *ctx, const struct change *want, const struct fwsh_link *l)
{
        const uint8_t *w[2] = { want->vxlan.local, want->vxlan.remote };
        const uint8_t *h[2] = { l->vxlan.local, l->vxlan.remote };
        bool wants[2] = { want->vxlan.has_local, want->vxlan.has_remote };
        bool has[2] = { l->vxlan.has_local, l->vxlan.has_remote };
        static const char *const what[2] = { "local", "remote" };
        size_t alen = want->vxlan.family == AF_INET6 ? 16 : 4;

        for (int i = 0; i < 2; i++) {
                char hb[INET6_ADDRSTRLEN], wb[INET6_ADDRSTRLEN];

                if (!wants[i] || (has[i] && l->vxlan.family == want->vxlan.family &&
                                  memcmp(w[i], h[i], alen) == 0))
                        continue;
                return ctx_fail(ctx, -EEXIST, "exists with %s %s, not %s", what[i],
                                say(l->vxlan.family, has[i], h[i], hb),
                                say(want->vxlan.family, true, w[i], wb));
        }
        if (want->vxlan.dev > 0 && l->vxlan.dev != want->vxlan.dev)
                return ctx_fail(ctx, -EEXIST, "exists with dev ifindex %d, not %d", l->vxlan.dev,
                                want->vxlan.dev);
        return 0;
}

static const struct link_kind vxlan_kind = {
        .name = "vxlan", .type = "fwsh.vxlan", .opts = &vxlan_opts, .parse = parse,
        .has_data = has_data, .put = put, .explain = explain, .plan_new = plan_new,
        .matches = matches, .recreate = recreate,
};
LINK_KIND_REGISTER(vxlan_kind)
