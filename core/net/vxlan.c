/* vxlan.c - VXLAN links: a bridge on one host and one on another become one
 * L2 segment (fwsh.hosts.stretch). See ip-link(8) "type vxlan". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
