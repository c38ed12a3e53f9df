/* tap.c - persistent taps through the tun ioctls, for qemu to open by name.
 * See ip-tuntap(8) and Documentation/networking/tuntap.rst. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>

#include "internal.h"

/* ---- a tap's options, one row each --------------------------------------------------- */

/* Set by the tun ioctls at creation, read back as IFLA_TUN_*; ensure asks for
 * each exactly (an owner not given is none). Each row: name, ip's word,
 * attribute, width, unit, flags, min, max, default, config, help. */
enum { OWNER, GROUP, MULTI_QUEUE, VNET_HDR };
static const struct fwsh_opt_row ROWS[] = {
        [OWNER] = { "owner", "user", IFLA_TUN_OWNER, NLA_U32, FWSH_OPT_USER, FWSH_ROW_EXACT, 0,
                    UINT32_MAX - 1, -1, NULL, "the user (id or name) who may open it (none)" },
        [GROUP] = { "group", "group", IFLA_TUN_GROUP, NLA_U32, FWSH_OPT_GROUP, FWSH_ROW_EXACT, 0,
                    UINT32_MAX - 1, -1, NULL, "the group (id or name) that may open it (none)" },
        [MULTI_QUEUE] = { "multi_queue", "multi_queue", IFLA_TUN_MULTI_QUEUE, NLA_U8, FWSH_OPT_BOOL,
                          FWSH_ROW_EXACT | FWSH_ROW_WORD, 0, 1, 0, NULL,
                          "a queue per opener, for a multi-queue virtio-net (off)" },
        [VNET_HDR] = { "vnet_hdr", "vnet_hdr", IFLA_TUN_VNET_HDR, NLA_U8, FWSH_OPT_BOOL,
                       FWSH_ROW_EXACT | FWSH_ROW_WORD, 0, 1, 0, NULL,
                       "packets carry a virtio-net header (off)" },
};
_Static_assert(FWSH_N(ROWS) <= FWSH_OPTS_MAX, "a value per row");

static const struct fwsh_opt_table tap_opts = { "tap", ROWS, FWSH_N(ROWS) };

int tap_tun_open(struct fwsh_ctx *ctx, const struct change *ch, int *ret_fd)
{
        const struct fwsh_opt_values *o = &ch->set.opts;
        struct ifreq ifr = { 0 };
        int fd, r = 0;

        fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                return ctx_fail(ctx, r, r == -ENOENT ? "no /dev/net/tun" :
                                r == -EACCES || r == -EPERM ? "needs CAP_NET_ADMIN" : "/dev/net/tun");
        }
        /* IFF_TUN_EXCL: refuse an existing device rather than attach to it. */
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL |
                        (fwsh_opt_get(o, MULTI_QUEUE) > 0 ? IFF_MULTI_QUEUE : 0) |
                        (fwsh_opt_get(o, VNET_HDR) > 0 ? IFF_VNET_HDR : 0);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.*s", IFNAMSIZ - 1, ch->name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                r = ctx_fail(ctx, errno == EBUSY ? -EEXIST : -errno,
                             errno == EPERM ? "needs CAP_NET_ADMIN" : "TUNSETIFF");
        else if (fwsh_opt_get(o, OWNER) >= 0 &&
                 ioctl(fd, TUNSETOWNER, (unsigned long)fwsh_opt_get(o, OWNER)) < 0)
                r = ctx_fail(ctx, -errno, "TUNSETOWNER");
        else if (fwsh_opt_get(o, GROUP) >= 0 &&
                 ioctl(fd, TUNSETGROUP, (unsigned long)fwsh_opt_get(o, GROUP)) < 0)
                r = ctx_fail(ctx, -errno, "TUNSETGROUP");
        if (r < 0) {
                close(fd); /* not persistent: this removes the device again */
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int tap_tun_persist(struct fwsh_ctx *ctx, int fd)
{
        int r = ioctl(fd, TUNSETPERSIST, 1UL) < 0 ? ctx_fail(ctx, -errno, "TUNSETPERSIST") : 0;

        close(fd); /* without TUNSETPERSIST, this removes the device again */
        return r;
}

void tap_new_split(const struct change *ch, struct change *ret_tag, struct change *ret_rest)
{
        change_init(ret_tag, CH_LINK_SET, ch->name);
        ret_tag->has_alias = ch->has_alias;
        memcpy(ret_tag->alias, ch->alias, sizeof(ret_tag->alias));
        ret_tag->group = ch->group;
        *ret_rest = *ch;
        ret_rest->op = CH_LINK_SET;
        ret_rest->kind[0] = '\0';
        ret_rest->has_alias = false;
        ret_rest->group = 0;
        ret_rest->set.opts = (struct fwsh_opt_values)FWSH_OPTS_INIT; /* made by the ioctls */
}

/* The tap is made and tagged, and only then made persistent: until
 * TUNSETPERSIST it lives as long as fwsh's descriptor, so a failure, or a
 * SIGKILL at any instant, leaves either a tagged tap or none. Up, MTU and
 * bridge come after: up while fwsh holds it, it would have carrier for a
 * moment, and IPv6 would start on it as on no tap ip-tuntap(8) makes. */
int tap_kernel_new(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct change tag, rest;
        int fd, saved, r;

        r = ctx_enter(ctx, &saved);
        if (r < 0)
                return ctx_fail(ctx, r, "cannot enter the namespace");
        r = tap_tun_open(ctx, ch, &fd);
        ctx_leave(saved);
        if (r == -EEXIST)
                return link_taken(ctx, ch->name);
        if (r < 0)
                return r;
        tap_new_split(ch, &tag, &rest);
        /* Its ifindex while fwsh's descriptor holds it: the undo of a failure
         * below deletes that link, not whatever then has the name. */
        if ((r = fwsh_link_index(ctx, ch->name)) < 0) {
                close(fd);
                return r;
        }
        tag.ifindex = rest.ifindex = r;
        if ((r = link_kernel_set(ctx, &tag)) < 0) {
                close(fd); /* not persistent: the kernel removes it */
                return r;
        }
        if ((r = tap_tun_persist(ctx, fd)) < 0)
                return r;

        /* Up, MTU and bridge in one request; if that fails, no tap either. */
        r = link_kernel_set(ctx, &rest);
        if (r < 0) {
                char why[FWSH_DETAIL_MAX];
                struct change del;

                snprintf(why, sizeof(why), "%s", ctx->detail);
                change_init(&del, CH_LINK_DEL, ch->name);
                del.ifindex = rest.ifindex;
                link_kernel_del(ctx, &del);
                return ctx_fail(ctx, r, "%s", why);
        }
        return 0;
}

/* The bridge's ifindex; whether it is a bridge, the kernel checks when the tap
 * is attached (see bad_master), or, in a batch, this does: the attachment
 * comes after. A bridge the batch makes has no ifindex yet: *ret_master is
 * -1 then, and *ret_pending true. */
static int check_spec(struct fwsh_ctx *ctx, const struct fwsh_tap_spec *spec, int *ret_master,
                      bool *ret_pending)
{
        int r = fwsh_name_check(ctx, spec->name);

        if (r < 0)
                return r;
        if ((r = opts_check(ctx, &tap_opts, &spec->opts)) < 0)
                return r;
        if (spec->mtu > UINT32_MAX)
                return ctx_fail(ctx, -ERANGE, "mtu out of range");
        *ret_master = spec->bridge_ifindex > 0 ? spec->bridge_ifindex : -1;
        *ret_pending = false;
        if (!spec->bridge)
                return 0;
        if (fwsh_batch_has_bridge(ctx, spec->bridge)) {
                *ret_pending = true;
                return 0;
        }
        r = fwsh_link_index(ctx, spec->bridge);
        if (r < 0)
                return ctx_fail(ctx, r, "bridge %s: %s", spec->bridge,
                                r == -ENODEV ? "no such link" : ctx->detail);
        *ret_master = r;
        if (fwsh_batch_is_open(ctx)) {
                struct fwsh_link br;
                if ((r = fwsh_link_get_index(ctx, *ret_master, &br)) < 0)
                        return r;
                if (!link_kind_find(br.kind)->ports)
                        return ctx_fail(ctx, -EINVAL, "%s is a %s, not a bridge", spec->bridge,
                                        br.kind[0] ? br.kind : "plain link");
        }
        return 0;
}

/* After a failed attach: says so if the master is no bridge. */
static int bad_master(struct fwsh_ctx *ctx, const char *bridge, int err)
{
        struct fwsh_link br;
        char why[FWSH_DETAIL_MAX];

        snprintf(why, sizeof(why), "%s", ctx->detail);
        if (fwsh_link_get(ctx, bridge, &br) == 0 && !link_kind_find(br.kind)->ports)
                return ctx_fail(ctx, -EINVAL, "%s is a %s, not a bridge", bridge,
                                br.kind[0] ? br.kind : "plain link");
        return ctx_fail(ctx, err, "%s", why);
}

/* The creation spec asks for, once it is checked. */
static void tap_change(struct fwsh_ctx *ctx, const struct fwsh_tap_spec *spec, int master, bool pending,
                       struct change *ch)
{
        change_init(ch, CH_TAP_NEW, spec->name);
        if (pending)
                fwsh_strcpy(ch->master_name, sizeof(ch->master_name), spec->bridge);
        fwsh_strcpy(ch->kind, sizeof(ch->kind), "tap");
        ch->set.opts = spec->opts;
        ch->set.up = spec->up;
        ch->set.mtu = spec->mtu;
        ch->set.master = master;
        lab_mark(ctx, ch);
}

int fwsh_tap_add(struct fwsh_ctx *ctx, const struct fwsh_tap_spec *spec)
{
        struct change ch, inv;
        bool pending;
        int master, r = check_spec(ctx, spec, &master, &pending);

        if (r < 0)
                return r;
        tap_change(ctx, spec, master, pending, &ch);
        change_init(&inv, CH_LINK_DEL, spec->name);
        r = change_apply(ctx, &ch, &inv);
        if (r < 0 && master > 0 && r != -EEXIST) {
                char name[FWSH_NAME_MAX + 1];
                if (spec->bridge)
                        return bad_master(ctx, spec->bridge, r);
                if (fwsh_link_name(ctx, master, name) == 0)
                        return bad_master(ctx, name, r);
        }
        return r;
}

int fwsh_tap_ensure(struct fwsh_ctx *ctx, const struct fwsh_tap_spec *spec)
{
        struct change want;
        bool pending;
        int master, r = check_spec(ctx, spec, &master, &pending);

        if (r < 0)
                return r;
        tap_change(ctx, spec, master, pending, &want);
        r = link_ensure(ctx, &want);
        if (r == 1 && (r = fwsh_tap_add(ctx, spec)) == 0)
                return 1;
        return r;
}

/* ---- the tap kind, and tun, which the kernel calls both ----------------------------- */

/* What is not a row; the rows check their attributes' widths. */
static struct nla_policy tun_policy[IFLA_TUN_MAX + 1] = {
        [IFLA_TUN_TYPE] = { .type = NLA_U8 },
        [IFLA_TUN_PERSIST] = { .type = NLA_U8 },
        [IFLA_TUN_NUM_QUEUES] = { .type = NLA_U32 },
};

static void parse_tun(struct nlattr *data, struct fwsh_link *l)
{
        struct nlattr *tb[IFLA_TUN_MAX + 1];

        if (!data || nla_parse_nested(tb, IFLA_TUN_MAX, data, tun_policy) < 0)
                return;
        if (tb[IFLA_TUN_TYPE] && nla_get_u8(tb[IFLA_TUN_TYPE]) == IFF_TAP)
                snprintf(l->kind, sizeof(l->kind), "tap");
        opts_parse(&tap_opts, tb, &l->opts);
        l->tun.persist = tb[IFLA_TUN_PERSIST] && nla_get_u8(tb[IFLA_TUN_PERSIST]);
        /* Only a multi_queue tap reports its queues; one with a single queue
         * has carrier exactly while that queue is attached. */
        if (tb[IFLA_TUN_NUM_QUEUES])
                l->tun.queues = nla_get_u32(tb[IFLA_TUN_NUM_QUEUES]);
        else
                l->tun.queues = l->carrier;
}

static void tap_plan_new(struct fwsh_link *l, const struct change *ch)
{
        (void)ch;
        l->tun.persist = true;
}

static bool tap_recreate(struct fwsh_ctx *ctx, const struct fwsh_link *l, struct change *inv)
{
        (void)ctx;
        change_init(inv, CH_TAP_NEW, l->name);
        fwsh_strcpy(inv->kind, sizeof(inv->kind), "tap");
        opts_recreate(&tap_opts, &l->opts, &inv->set.opts);
        return true;
}

/* The kernel's kind is "tun" for both; parse_tun calls one in tap mode "tap". */
static const struct link_kind tun_kind = { .name = "tun", .tun = true, .opts = &tap_opts,
                                           .parse = parse_tun };
static const struct link_kind tap_kind = {
        .name = "tap", .type = "fwsh.tap", .tun = true, .opts = &tap_opts, .parse = parse_tun,
        .plan_new = tap_plan_new,
        .recreate = tap_recreate,
};
LINK_KIND_REGISTER(tun_kind)
LINK_KIND_REGISTER(tap_kind)
