/* veth.c - veth pairs, one end possibly in another namespace. See ip-link(8) "type veth". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/veth.h>
#include <netlink/attr.h>

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

/* ---- the veth kind ------------------------------------------------------------------ */

static int put_peer(struct nl_msg *msg, const struct change *ch, bool create, int peer_fd)
{
        struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
        struct nlattr *nest = nla_nest_start(msg, VETH_INFO_PEER);

        (void)create;

        if (!nest || nlmsg_append(msg, &peer, sizeof(peer), NLMSG_ALIGNTO) < 0 ||
            nla_put_string(msg, IFLA_IFNAME, ch->veth.peer) < 0)
                return -ENOMEM;
        if (peer_fd >= 0 && nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)peer_fd) < 0)
                return -ENOMEM;
        nla_nest_end(msg, nest);
        return 0;
}

static bool has_data(const struct change *ch, bool create)
{
        (void)ch;
        return create;
}

static void explain(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool create)
{
        (void)ctx;
        (void)create;
        out_put(o, " peer name");
        out_word(o, ch->veth.peer);
        if (ch->veth.peer_netns[0]) {
                out_put(o, " netns");
                out_word(o, ch->veth.peer_netns);
        }
}

static const struct link_kind veth_kind = {
        .name = "veth", .type = "fwsh.veth", .pair = true, .has_data = has_data, .put = put_peer,
        .explain = explain,
};
LINK_KIND_REGISTER(veth_kind)
