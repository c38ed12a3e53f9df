/* vxlan.c - VXLAN links: a bridge on one host and one on another become one
 * L2 segment (fwsh.hosts.stretch). See ip-link(8) "type vxlan". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <netlink/attr.h>

#include "internal.h"

/* An IPv4 or IPv6 address into buf (16 bytes); its family, or 0. */
static int parse_addr(const char *s, uint8_t *buf)
{
        if (inet_pton(AF_INET, s, buf) == 1)
                return AF_INET;
        if (inet_pton(AF_INET6, s, buf) == 1)
                return AF_INET6;
        return 0;
}

int fwsh_vxlan_add(struct fwsh_ctx *ctx, const struct fwsh_vxlan_spec *spec)
{
        struct change ch, inv;
        int r, lf = 0, rf = 0;

        if ((r = fwsh_name_check(ctx, spec->name)) < 0)
                return r;
        if (spec->id < 1 || spec->id > 0xffffff)
                return ctx_fail(ctx, -EINVAL, "id %u: a VNI is 1 to 16777215", spec->id);
        change_init(&ch, CH_LINK_NEW, spec->name);
        snprintf(ch.kind, sizeof(ch.kind), "vxlan");
        if (spec->local && !(lf = parse_addr(spec->local, ch.vxlan.local)))
                return ctx_fail(ctx, -EINVAL, "local %s: not an IPv4 or IPv6 address", spec->local);
        if (spec->remote && !(rf = parse_addr(spec->remote, ch.vxlan.remote)))
                return ctx_fail(ctx, -EINVAL, "remote %s: not an IPv4 or IPv6 address", spec->remote);
        if (lf && rf && lf != rf)
                return ctx_fail(ctx, -EINVAL, "local %s and remote %s: not of one family", spec->local,
                                spec->remote);
        if (spec->mtu != -1 && (spec->mtu < 68 || spec->mtu > 65535))
                return ctx_fail(ctx, -EINVAL, "mtu %lld: 68 to 65535", (long long)spec->mtu);
        if (spec->dev) {
                if ((r = fwsh_name_check(ctx, spec->dev)) < 0)
                        return r;
                if ((ch.vxlan.dev = fwsh_link_index(ctx, spec->dev)) < 0)
                        return ctx_fail(ctx, ch.vxlan.dev, "dev %s: no such link", spec->dev);
        }
        ch.vxlan.id = spec->id;
        ch.vxlan.family = lf ? lf : rf;
        ch.vxlan.has_local = lf != 0;
        ch.vxlan.has_remote = rf != 0;
        ch.vxlan.dstport = spec->dstport ? spec->dstport : 4789;
        ch.vxlan.nolearning = !spec->learning;
        ch.set.mtu = spec->mtu;
        ch.set.up = spec->up;
        lab_mark(ctx, &ch);
        change_init(&inv, CH_LINK_DEL, spec->name);
        return change_apply(ctx, &ch, &inv);
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

        if (nla_put_u32(msg, IFLA_VXLAN_ID, ch->vxlan.id) < 0 ||
            nla_put_u16(msg, IFLA_VXLAN_PORT, htons(ch->vxlan.dstport)) < 0 ||
            nla_put_u8(msg, IFLA_VXLAN_LEARNING, !ch->vxlan.nolearning) < 0)
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

/* ip-link(8)'s words for a VXLAN: id, local, remote (or group), dstport, dev */
static void explain(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool create)
{
        char a[INET6_ADDRSTRLEN];
        struct fwsh_link dev;

        (void)create;
        out_put(o, " id %u", ch->vxlan.id);
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
        out_put(o, " dstport %u", ch->vxlan.dstport);
        if (ch->vxlan.dev > 0 && fwsh_link_get_index(ctx, ch->vxlan.dev, &dev) == 0) {
                out_put(o, " dev");
                out_word(o, dev.name);
        }
        if (ch->vxlan.nolearning)
                out_put(o, " nolearning");
}

static const struct link_kind vxlan_kind = {
        .name = "vxlan", .type = "fwsh.vxlan", .has_data = has_data, .put = put, .explain = explain,
};
LINK_KIND_REGISTER(vxlan_kind)
