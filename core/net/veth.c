/* veth.c - veth pairs, one end possibly in another namespace. See ip-link(8) "type veth". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/veth.h>
#include <netlink/attr.h>

#include "internal.h"

/* A veth has no option rows: what it is made with (its peer's name and
 * namespace) names things rather than setting a value, and its MTU is a
 * generic setting. */

/* The creation spec asks for, checked, into *ch. */
static int veth_change(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec, struct change *ch)
{
        int r;

        if ((r = fwsh_name_check(ctx, spec->name)) < 0 || (r = fwsh_name_check(ctx, spec->peer)) < 0)
                return r;
        if (strcmp(spec->name, spec->peer) == 0 && !spec->peer_netns)
                return ctx_fail(ctx, -EINVAL, "both ends are called %s", spec->name);
        if (spec->peer_netns && (r = fwsh_netns_check(ctx, spec->peer_netns)) < 0)
                return r;
        change_init(ch, CH_LINK_NEW, spec->name);
        fwsh_strcpy(ch->kind, sizeof(ch->kind), "veth");
        fwsh_strcpy(ch->veth.peer, sizeof(ch->veth.peer), spec->peer);
        if (spec->peer_netns)
                fwsh_strcpy(ch->veth.peer_netns, sizeof(ch->veth.peer_netns), spec->peer_netns);
        ch->set.mtu = spec->mtu;
        ch->set.up = spec->up;
        lab_mark(ctx, ch);
        return 0;
}

int fwsh_veth_add(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec)
{
        struct change ch;
        int r = veth_change(ctx, spec, &ch);

        return r < 0 ? r : link_new_apply(ctx, &ch);
}

int fwsh_veth_ensure(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec)
{
        struct change want;
        int r = veth_change(ctx, spec, &want);

        return r < 0 ? r : link_ensure_new(ctx, &want);
}

/* ---- the veth kind ------------------------------------------------------------------ */

/* The peer's own ifinfomsg: its name, its namespace, and the MTU asked for
 * (else the kernel gives the peer its default, not this end's). */
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
        if (ch->set.mtu >= 0 && nla_put_u32(msg, IFLA_MTU, (uint32_t)ch->set.mtu) < 0)
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
        if (ch->set.mtu >= 0)
                out_put(o, " mtu %lld", (long long)ch->set.mtu);
}

/* What peer_there reads in the peer's namespace: the peer by name. */
struct there {
        const char *name;
        struct fwsh_link *peer;
        int r;
};

static int read_there(void *arg)
{
        struct there *t = arg;
        struct fwsh_ctx *in;
        int r = fwsh_ctx_open(&in);

        if (r < 0)
                return r;
        t->r = fwsh_link_get(in, t->name, t->peer);
        fwsh_ctx_unref(in);
        return 0;
}

/* What ensure asks of a veth beyond the generic settings: its peer, by name,
 * where want puts it. A peer elsewhere is the one called so there whose own
 * peer is l (each end's IFLA_LINK is the other's ifindex). */
static int matches(struct fwsh_ctx *ctx, const struct change *want, const struct fwsh_link *l)
{
        const char *ns = want->veth.peer_netns;
        struct fwsh_link peer;
        struct there t = { .name = want->veth.peer, .peer = &peer, .r = -ENODEV };
        int r;

        if (!ns[0]) {
                if (l->link_netnsid >= 0)
                        return ctx_fail(ctx, -EEXIST, "exists with its peer in another namespace");
                if ((r = fwsh_link_get_index(ctx, l->link, &peer)) < 0 && r != -ENODEV)
                        return r;
                if (r < 0 || strcmp(peer.name, want->veth.peer) != 0)
                        return ctx_fail(ctx, -EEXIST, "exists with peer %s, not %s",
                                        r < 0 ? "none" : peer.name, want->veth.peer);
                return 0;
        }
        if (l->link_netnsid < 0)
                return ctx_fail(ctx, -EEXIST, "exists with its peer here, not in %s", ns);
        if ((r = ns_call(ctx, ns, read_there, &t)) < 0)
                return r;
        if (t.r < 0 && t.r != -ENODEV)
                return ctx_fail(ctx, t.r, "peer %s in %s", want->veth.peer, ns);
        if (t.r < 0 || peer.ifindex != l->link || peer.link != l->ifindex)
                return ctx_fail(ctx, -EEXIST, "exists with a peer that is not %s in %s",
                                want->veth.peer, ns);
        return 0;
}

/* A deleted veth comes back as the pair it was, when its peer is here (the
 * kernel names the namespace of one elsewhere only by an id this side
 * gave it). The peer comes back as a new veth does: down, at the MTU of
 * this end. */
static bool recreate(struct fwsh_ctx *ctx, const struct fwsh_link *l, struct change *inv)
{
        struct fwsh_link peer;

        if (l->link_netnsid >= 0 || fwsh_link_get_index(ctx, l->link, &peer) < 0)
                return false;
        change_init(inv, CH_LINK_NEW, l->name);
        fwsh_strcpy(inv->veth.peer, sizeof(inv->veth.peer), peer.name);
        return true;
}

static const struct link_kind veth_kind = {
        .name = "veth", .type = "fwsh.veth", .pair = true, .has_data = has_data, .put = put_peer,
        .explain = explain, .matches = matches, .recreate = recreate,
};
LINK_KIND_REGISTER(veth_kind)
