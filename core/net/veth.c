/* veth.c - veth pairs, one end possibly in another namespace. See ip-link(8) "type veth". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int fwsh_veth_add(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec)
{
        struct change ch, inv;
        int r;

        if ((r = fwsh_name_check(ctx, spec->name)) < 0 || (r = fwsh_name_check(ctx, spec->peer)) < 0)
                return r;
        if (strcmp(spec->name, spec->peer) == 0 && !spec->peer_netns)
                return ctx_fail(ctx, -EINVAL, "both ends are called %s", spec->name);
        if (spec->peer_netns && (r = fwsh_netns_check(ctx, spec->peer_netns)) < 0)
                return r;
        change_init(&ch, CH_LINK_NEW, spec->name);
        snprintf(ch.kind, sizeof(ch.kind), "veth");
        snprintf(ch.veth.peer, sizeof(ch.veth.peer), "%s", spec->peer);
        if (spec->peer_netns)
                snprintf(ch.veth.peer_netns, sizeof(ch.veth.peer_netns), "%s", spec->peer_netns);
        ch.set.up = spec->up;
        lab_mark(ctx, &ch);
        change_init(&inv, CH_LINK_DEL, spec->name);
        return change_apply(ctx, &ch, &inv);
}
