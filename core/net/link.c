/* link.c - any link: read it back, change it, delete it. See ip-link(8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if.h>
#include <netlink/socket.h>
#include <sys/ioctl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "internal.h"

static struct nla_policy link_policy[IFLA_MAX + 1] = {
        [IFLA_IFNAME] = { .type = NLA_STRING },
        [IFLA_MTU] = { .type = NLA_U32 },
        [IFLA_GROUP] = { .type = NLA_U32 },
        [IFLA_MASTER] = { .type = NLA_U32 },
        [IFLA_LINK] = { .type = NLA_U32 },
        [IFLA_LINK_NETNSID] = { .type = NLA_U32 },
        [IFLA_CARRIER] = { .type = NLA_U8 },
        [IFLA_OPERSTATE] = { .type = NLA_U8 },
        [IFLA_IFALIAS] = { .type = NLA_STRING },
        [IFLA_LINKINFO] = { .type = NLA_NESTED },
};

static struct nla_policy info_policy[IFLA_INFO_MAX + 1] = {
        [IFLA_INFO_KIND] = { .type = NLA_STRING },
        [IFLA_INFO_DATA] = { .type = NLA_NESTED },
        [IFLA_INFO_SLAVE_KIND] = { .type = NLA_STRING },
        [IFLA_INFO_SLAVE_DATA] = { .type = NLA_NESTED },
};

static void parse_linkinfo(struct nlattr *info, struct fwsh_link *l)
{
        struct nlattr *tb[IFLA_INFO_MAX + 1];

        if (nla_parse_nested(tb, IFLA_INFO_MAX, info, info_policy) < 0)
                return;
        const struct link_kind *k, *master;

        if (tb[IFLA_INFO_KIND])
                nla_strlcpy(l->kind, tb[IFLA_INFO_KIND], sizeof(l->kind));
        k = link_kind_find(l->kind);
        if (k->parse)
                k->parse(tb[IFLA_INFO_DATA], l);
        master = tb[IFLA_INFO_SLAVE_KIND] ? link_kind_find(nla_get_string(tb[IFLA_INFO_SLAVE_KIND]))
                                          : NULL;
        if (master && master->parse_port && tb[IFLA_INFO_SLAVE_DATA])
                master->parse_port(tb[IFLA_INFO_SLAVE_DATA], l);
}

static int link_parse(struct nlmsghdr *h, struct fwsh_link *l)
{
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi = nlmsg_data(h);
        int r;

        if (h->nlmsg_type != RTM_NEWLINK)
                return -EPROTO;
        r = nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, link_policy);
        if (r < 0)
                return -nle_to_errno(r);
        memset(l, 0, sizeof(*l));
        l->ifindex = ifi->ifi_index;
        l->flags = ifi->ifi_flags;
        l->up = ifi->ifi_flags & IFF_UP;
        l->link_netnsid = -1;
        l->port_state = -1;
        if (tb[IFLA_IFNAME])
                nla_strlcpy(l->name, tb[IFLA_IFNAME], sizeof(l->name));
        if (tb[IFLA_MTU])
                l->mtu = nla_get_u32(tb[IFLA_MTU]);
        if (tb[IFLA_GROUP])
                l->group = nla_get_u32(tb[IFLA_GROUP]);
        if (tb[IFLA_MASTER])
                l->master = nla_get_u32(tb[IFLA_MASTER]);
        /* A link's own ifindex there means none, unless it is another
         * namespace's: a veth's peer there may have the same number. */
        if (tb[IFLA_LINK] && ((int)nla_get_u32(tb[IFLA_LINK]) != l->ifindex || tb[IFLA_LINK_NETNSID]))
                l->link = nla_get_u32(tb[IFLA_LINK]);
        if (tb[IFLA_LINK_NETNSID])
                l->link_netnsid = (int32_t)nla_get_u32(tb[IFLA_LINK_NETNSID]);
        l->carrier = tb[IFLA_CARRIER] ? nla_get_u8(tb[IFLA_CARRIER]) : !!(l->flags & IFF_LOWER_UP);
        if (tb[IFLA_OPERSTATE])
                l->operstate = nla_get_u8(tb[IFLA_OPERSTATE]);
        if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
                memcpy(l->mac, nla_data(tb[IFLA_ADDRESS]), 6);
                l->has_mac = true;
        }
        if (tb[IFLA_IFALIAS])
                nla_strlcpy(l->alias, tb[IFLA_IFALIAS], sizeof(l->alias));
        if (tb[IFLA_LINKINFO])
                parse_linkinfo(tb[IFLA_LINKINFO], l);
        return 0;
}

const char *fwsh_operstate_name(unsigned state)
{
        static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
                                             "testing", "dormant", "up" };

        return state < FWSH_N(names) ? names[state] : "(unknown)";
}

const char *fwsh_port_state_name(int state)
{
        static const char *const names[] = { "disabled", "listening", "learning", "forwarding",
                                             "blocking" };

        return state >= 0 && (size_t)state < FWSH_N(names) ? names[state] : "(unknown)";
}

static int on_one_link(struct nlmsghdr *h, void *arg)
{
        return link_parse(h, arg);
}

static int get_link(struct fwsh_ctx *ctx, int ifindex, const char *name, struct fwsh_link *ret)
{
        if (ctx->backend->links) {
                struct fwsh_link *all = NULL;
                size_t n = 0;
                int r = ctx->backend->links(ctx, &all, &n);

                for (size_t i = 0; r == 0 && i < n; i++)
                        if (ifindex > 0 ? all[i].ifindex == ifindex : strcmp(all[i].name, name) == 0) {
                                *ret = all[i];
                                free(all);
                                return 0;
                        }
                free(all);
                return r < 0 ? r : ctx_fail(ctx, -ENODEV, "no such link");
        }

        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
        struct nl_msg *msg = rtnl_request(RTM_GETLINK, 0, &ifi, sizeof(ifi));
        struct fwsh_link l;
        int r;

        if (!msg)
                return -ENOMEM;
        if (name && nla_put_string(msg, IFLA_IFNAME, name) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        l.ifindex = 0;
        r = nl_query(ctx, msg, on_one_link, &l);
        if (r == -ENODEV)
                return ctx_fail(ctx, r, "no such link");
        if (r < 0)
                return r;
        if (l.ifindex == 0)
                return -EPROTO;
        *ret = l;
        return 0;
}

int fwsh_link_get(struct fwsh_ctx *ctx, const char *name, struct fwsh_link *ret_link)
{
        int r = fwsh_name_check(ctx, name);

        return r < 0 ? r : get_link(ctx, 0, name, ret_link);
}

int fwsh_link_get_index(struct fwsh_ctx *ctx, int ifindex, struct fwsh_link *ret_link)
{
        if (ifindex <= 0)
                return ctx_fail(ctx, -EINVAL, "ifindex %d", ifindex);
        return get_link(ctx, ifindex, NULL, ret_link);
}

/* SIOCGIFINDEX and SIOCGIFNAME work on any socket, in the namespace the socket
 * belongs to: ctx's netlink socket answers them for ctx's namespace. */
int fwsh_link_index(struct fwsh_ctx *ctx, const char *name)
{
        struct ifreq ifr = { 0 };
        struct fwsh_link l;
        int r;

        if ((r = fwsh_name_check(ctx, name)) < 0)
                return r;
        if (ctx->backend->links) {
                r = get_link(ctx, 0, name, &l);
                return r < 0 ? r : l.ifindex;
        }
        memcpy(ifr.ifr_name, name, strlen(name) + 1);
        if (ioctl(nl_socket_get_fd(ctx->sk), SIOCGIFINDEX, &ifr) < 0)
                return errno == ENODEV ? ctx_fail(ctx, -ENODEV, "no such link") : -errno;
        return ifr.ifr_ifindex;
}

int link_taken(struct fwsh_ctx *ctx, const char *name)
{
        struct fwsh_link l;

        if (fwsh_link_get(ctx, name, &l) < 0) /* gone again since */
                return ctx_fail(ctx, -EEXIST, "a link of that name exists");
        return ctx_fail(ctx, -EEXIST, "a %s of that name exists", l.kind[0] ? l.kind : "link");
}

int fwsh_link_name(struct fwsh_ctx *ctx, int ifindex, char *ret_name)
{
        struct ifreq ifr = { .ifr_ifindex = ifindex };
        struct fwsh_link l;
        int r;

        if (ctx->backend->links) {
                r = get_link(ctx, ifindex, NULL, &l);
                if (r == 0)
                        memcpy(ret_name, l.name, sizeof(l.name));
                return r;
        }
        if (ioctl(nl_socket_get_fd(ctx->sk), SIOCGIFNAME, &ifr) < 0)
                return errno == ENODEV ? ctx_fail(ctx, -ENODEV, "no such link") : -errno;
        snprintf(ret_name, FWSH_NAME_MAX + 1, "%.*s", FWSH_NAME_MAX, ifr.ifr_name);
        return 0;
}

struct link_vec {
        struct fwsh_link *v;
        size_t n, cap;
};

static int on_link_in_dump(struct nlmsghdr *h, void *arg)
{
        struct link_vec *lv = arg;

        if (lv->n == lv->cap) {
                size_t cap = lv->cap ? lv->cap * 2 : 32;
                struct fwsh_link *v = realloc(lv->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                lv->v = v;
                lv->cap = cap;
        }
        if (link_parse(h, &lv->v[lv->n]) == 0)
                lv->n++;
        return 0;
}

static void restart_links(void *arg)
{
        ((struct link_vec *)arg)->n = 0;
}

int fwsh_link_list(struct fwsh_ctx *ctx, struct fwsh_link **ret_links, size_t *ret_n)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nl_msg *msg = rtnl_request(RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
        struct link_vec lv = { 0 };
        int r;

        if (ctx->backend->links) {
                nlmsg_free(msg);
                return ctx->backend->links(ctx, ret_links, ret_n);
        }
        if (!msg)
                return -ENOMEM;
        r = nl_query_dump(ctx, msg, on_link_in_dump, restart_links, &lv);
        if (r < 0) {
                free(lv.v);
                return r;
        }
        *ret_links = lv.v;
        *ret_n = lv.n;
        return 0;
}

/* ---- changes ------------------------------------------------------------------- */

static int put_link_set(struct nl_msg *msg, struct ifinfomsg *ifi, const struct change *ch)
{
        const struct fwsh_link_set *s = &ch->set;

        if (s->up >= 0) {
                ifi->ifi_change |= IFF_UP;
                ifi->ifi_flags |= s->up ? IFF_UP : 0;
        }
        if (ch->group && nla_put_u32(msg, IFLA_GROUP, ch->group) < 0)
                return -ENOMEM;
        if (s->mtu >= 0 && nla_put_u32(msg, IFLA_MTU, (uint32_t)s->mtu) < 0)
                return -ENOMEM;
        if (s->set_mac && nla_put(msg, IFLA_ADDRESS, 6, s->mac) < 0)
                return -ENOMEM;
        if (s->master >= 0 && nla_put_u32(msg, IFLA_MASTER, (uint32_t)s->master) < 0)
                return -ENOMEM;
        if (ch->has_alias && nla_put_string(msg, IFLA_IFALIAS, ch->alias) < 0)
                return -ENOMEM;
        return 0;
}

static int put_linkinfo(struct nl_msg *msg, const struct change *ch, bool create, int peer_fd)
{
        const struct link_kind *k = link_kind_find(ch->kind);
        bool data = k->has_data && k->has_data(ch, create);
        struct nlattr *info, *nest;

        if (!ch->kind[0] || (!create && !data))
                return 0;
        info = nla_nest_start(msg, IFLA_LINKINFO);
        if (!info || nla_put_string(msg, IFLA_INFO_KIND, ch->kind) < 0)
                return -ENOMEM;
        if (data) {
                nest = nla_nest_start(msg, IFLA_INFO_DATA);
                if (!nest || k->put(msg, ch, create, peer_fd) < 0)
                        return -ENOMEM;
                nla_nest_end(msg, nest);
        }
        nla_nest_end(msg, info);
        return 0;
}

/* The RTM_NEWLINK that creates or changes the link of ch, found by ifindex
 * or name; a rename needs the ifindex, since IFLA_IFNAME then carries the new
 * name. The namespaces of ch are put as fds, which the caller closes after
 * sending (-1: none). */
static int link_build(struct fwsh_ctx *ctx, const struct change *ch, bool create,
                      struct nl_msg **ret_msg, int *ret_fd, int *ret_peer_fd)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = create ? 0 : ch->ifindex };
        /* RTM_NEWLINK on an existing link, as ip-link(8) sends: unlike
         * RTM_SETLINK it also applies IFLA_LINKINFO (the bridge options). */
        struct nl_msg *msg = rtnl_request(RTM_NEWLINK, create ? NLM_F_CREATE | NLM_F_EXCL : 0,
                                          NULL, sizeof(ifi));
        const char *name = ch->set.name[0] ? ch->set.name : ch->name;
        struct change c = *ch;
        int r, fd = -1, peer_fd = -1;

        if (!msg)
                return -ENOMEM;
        c.has_alias = create ? false : ch->has_alias; /* the kernel ignores it on create */
        if (ifi.ifi_index == 0 && ch->set.name[0] && !create) {
                nlmsg_free(msg);
                return ctx_fail(ctx, -EINVAL, "a rename needs the ifindex");
        }
        r = put_link_set(msg, &ifi, &c);
        if (r == 0 && (ifi.ifi_index == 0 || ch->set.name[0]) &&
            nla_put_string(msg, IFLA_IFNAME, name) < 0)
                r = -ENOMEM;
        if (r == 0 && ch->netns[0] && (r = fwsh_netns_open(ctx, ch->netns, &fd)) == 0 &&
            nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)fd) < 0)
                r = -ENOMEM;
        if (r == 0 && create && ch->veth.peer_netns[0])
                r = fwsh_netns_open(ctx, ch->veth.peer_netns, &peer_fd);
        if (r == 0)
                r = put_linkinfo(msg, ch, create, peer_fd);
        if (r < 0) {
                nlmsg_free(msg);
                if (fd >= 0)
                        close(fd);
                if (peer_fd >= 0)
                        close(peer_fd);
                return r;
        }
        memcpy(nlmsg_data(nlmsg_hdr(msg)), &ifi, sizeof(ifi));
        *ret_msg = msg;
        *ret_fd = fd;
        *ret_peer_fd = peer_fd;
        return 0;
}

int link_msg(struct fwsh_ctx *ctx, const struct change *ch, bool create, struct nl_msg **ret_msg)
{
        int fd, peer_fd;

        if (ch->netns[0] || ch->veth.peer_netns[0])
                return ctx_fail(ctx, -EINVAL, "a change with a namespace is sent on its own");
        return link_build(ctx, ch, create, ret_msg, &fd, &peer_fd);
}

static int link_request(struct fwsh_ctx *ctx, const struct change *ch, bool create)
{
        struct nl_msg *msg;
        int fd, peer_fd, r = link_build(ctx, ch, create, &msg, &fd, &peer_fd);

        if (r < 0)
                return r;
        r = nl_query(ctx, msg, NULL, NULL);
        if (fd >= 0)
                close(fd);
        if (peer_fd >= 0)
                close(peer_fd);
        return r;
}

int link_kernel_set(struct fwsh_ctx *ctx, const struct change *ch)
{
        return link_request(ctx, ch, false);
}

int link_ours(struct fwsh_ctx *ctx, int ifindex, const char *name)
{
        char tag[sizeof(((struct fwsh_link *)0)->alias)];
        struct fwsh_link l;
        int r = get_link(ctx, ifindex, NULL, &l);

        if (r < 0)
                return r == -ENODEV ? ctx_fail(ctx, r, "gone already") : r;
        lab_tag(ctx, tag, sizeof(tag));
        return strcmp(l.name, name) == 0 && strcmp(l.alias, tag) == 0;
}

int link_kernel_del(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ch->ifindex };
        struct nl_msg *msg;
        int r;

        /* An undo: only the link this run made, never a name's new holder. */
        if (ch->owned_only) {
                if (ch->ifindex <= 0)
                        return ctx_fail(ctx, -EINVAL, "an undo deletes by ifindex, never by name");
                if ((r = link_ours(ctx, ch->ifindex, ch->name)) < 0)
                        return r;
                if (r == 0)
                        return ctx_fail(ctx, -EPERM, "ifindex %d is no longer the link this run "
                                                     "made: left alone", ch->ifindex);
        }
        msg = rtnl_request(RTM_DELLINK, 0, &ifi, sizeof(ifi));
        if (!msg)
                return -ENOMEM;
        if (ch->ifindex <= 0 && nla_put_string(msg, IFLA_IFNAME, ch->name) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return nl_query(ctx, msg, NULL, NULL);
}

bool link_new_split(const struct change *ch, struct change *ret_create, struct change *ret_rest)
{
        /* A sysctl that ch carries (IPv6 off, for a non-grounding bridge) is
         * written before the link goes up: create it down, then bring it up. */
        bool late_up = ch->sysctl.path[0] && ch->set.up == 1;

        *ret_create = *ch;
        if (late_up)
                ret_create->set.up = 0;
        /* The kernel ignores IFLA_IFALIAS in RTM_NEWLINK: the tag comes after. */
        change_init(ret_rest, CH_LINK_SET, ch->name);
        ret_rest->has_alias = ch->has_alias;
        memcpy(ret_rest->alias, ch->alias, sizeof(ret_rest->alias));
        ret_rest->set.up = late_up ? 1 : -1;
        return ret_rest->has_alias || late_up;
}

int link_new_sysctl(struct fwsh_ctx *ctx, const struct change *ch)
{
        int r;

        if (!ch->sysctl.path[0])
                return 0;
        r = sysctl_kernel(ctx, ch);
        return r == -ENOENT ? 0 : r; /* -ENOENT: no IPv6 in this kernel at all */
}

int link_kernel_new(struct fwsh_ctx *ctx, const struct change *ch)
{
        const char *name = ch->name;
        char intent[128];
        struct change c, rest;
        bool more = link_new_split(ch, &c, &rest);
        int index, r = ch->has_alias ? intent_begin(ctx, &name, 1, intent, sizeof(intent)) : 0;

        if (r < 0)
                return r;
        if (!ch->has_alias)
                intent[0] = '\0';
        r = link_request(ctx, &c, true);
        if (r < 0) {
                intent_end(intent);
                return r;
        }
        /* Its ifindex at once, under the intent record: the undo of a
         * failure below deletes that link, not whatever then has the name. */
        index = fwsh_link_index(ctx, ch->name);
        r = index < 0 ? index : link_new_sysctl(ctx, ch);
        /* Tag it now, or undo. */
        rest.ifindex = index;
        if (r == 0 && more)
                r = link_request(ctx, &rest, false);
        intent_end(intent); /* tagged, or deleted below */
        if (r < 0) {
                struct change del;
                char why[FWSH_DETAIL_MAX];

                snprintf(why, sizeof(why), "%s", ctx->detail);
                change_init(&del, CH_LINK_DEL, ch->name);
                del.ifindex = index;
                if (index > 0)
                        link_kernel_del(ctx, &del);
                ctx_fail(ctx, r, "%s", why);
        }
        return r;
}

void link_set_inverse(const struct fwsh_link *before, const struct change *ch, struct change *inv)
{
        const struct fwsh_link_set *s = &ch->set;

        change_init(inv, CH_LINK_SET, s->name[0] ? s->name : before->name);
        inv->ifindex = before->ifindex;
        snprintf(inv->kind, sizeof(inv->kind), "%s", before->kind);
        if (s->up >= 0)
                inv->set.up = before->up;
        if (s->mtu >= 0)
                inv->set.mtu = before->mtu;
        if (s->set_mac && before->has_mac) {
                inv->set.set_mac = true;
                memcpy(inv->set.mac, before->mac, 6);
        }
        if (s->name[0])
                snprintf(inv->set.name, sizeof(inv->set.name), "%s", before->name);
        if (s->master >= 0)
                inv->set.master = before->master;
        if (ch->has_alias) {
                inv->has_alias = true;
                snprintf(inv->alias, sizeof(inv->alias), "%s", before->alias);
        }
        if (link_kind_find(before->kind)->opts)
                opts_undo(link_kind_find(before->kind)->opts, &s->opts, &before->opts, &inv->set.opts);
}

int fwsh_link_set(struct fwsh_ctx *ctx, const char *name, const struct fwsh_link_set *set)
{
        struct fwsh_link before;
        struct change ch, inv;
        int r = fwsh_link_get(ctx, name, &before);

        if (r < 0)
                return r;
        if (set->name[0] && (r = fwsh_name_check(ctx, set->name)) < 0)
                return r;
        if (opts_any(&set->opts) && !link_kind_find(before.kind)->ports)
                return ctx_fail(ctx, -EINVAL, "bridge options on a %s link",
                                before.kind[0] ? before.kind : "plain");
        change_init(&ch, CH_LINK_SET, name);
        ch.ifindex = before.ifindex;
        ch.set = *set;
        ch.set.alias = NULL;
        ch.set.netns = NULL;
        if (set->netns) {
                if ((r = fwsh_netns_check(ctx, set->netns)) < 0)
                        return r;
                snprintf(ch.netns, sizeof(ch.netns), "%s", set->netns);
        }
        if (set->alias) {
                ch.has_alias = true;
                snprintf(ch.alias, sizeof(ch.alias), "%s", set->alias);
        }
        snprintf(ch.kind, sizeof(ch.kind), "%s", before.kind);
        link_set_inverse(&before, &ch, &inv);
        /* Moving to another namespace cannot be undone from here. */
        return change_apply(ctx, &ch, set->netns ? NULL : &inv);
}

/* What would bring a deleted link back, with its settings (not its ports):
 * false for kinds that cannot be made again alone. */
static bool recreate_change(struct fwsh_ctx *ctx, const struct fwsh_link *l, struct change *inv)
{
        const struct link_kind *k = link_kind_find(l->kind);

        if (!k->recreate || !k->recreate(ctx, l, inv))
                return false;
        snprintf(inv->kind, sizeof(inv->kind), "%s", l->kind);
        inv->set.up = l->up;
        inv->set.mtu = l->mtu;
        inv->group = l->group;
        inv->has_alias = l->alias[0] != '\0';
        memcpy(inv->alias, l->alias, sizeof(inv->alias));
        return true;
}

static int delete_link(struct fwsh_ctx *ctx, const struct fwsh_link *before)
{
        struct change ch, inv;

        change_init(&ch, CH_LINK_DEL, before->name);
        ch.ifindex = before->ifindex;
        return change_apply(ctx, &ch, recreate_change(ctx, before, &inv) ? &inv : NULL);
}

int fwsh_link_delete(struct fwsh_ctx *ctx, const char *name)
{
        struct fwsh_link before;
        int r = fwsh_link_get(ctx, name, &before);

        return r < 0 ? r : delete_link(ctx, &before);
}

int fwsh_link_delete_made(struct fwsh_ctx *ctx, const char *name, int ifindex)
{
        struct fwsh_link before;
        int r = ifindex > 0 ? link_ours(ctx, ifindex, name) : -EINVAL;

        if (r == -ENODEV)
                ctx_clear(ctx);
        if (r <= 0)
                return r == -ENODEV ? 0 : r;
        r = get_link(ctx, ifindex, NULL, &before);
        if (r == 0)
                r = delete_link(ctx, &before);
        return r == -ENODEV ? 0 : r < 0 ? r : 1;
}
