/* explain.c - every change as the command line that makes the same change:
 * ip-link(8), ip-tuntap(8), ip-address(8), ip-route(8), ip-netns(8), sysctl(8).
 * Pasted into `sh -e`, the lines of a plan build what the plan describes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "internal.h"

struct out {
        char *buf;
        size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (o->len >= o->size)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                o->len += (size_t)n;
}

/* A word for sh: as it is when it is plain, in single quotes otherwise. */
static void word(struct out *o, const char *s)
{
        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                            "@%+=:,./_-") == strlen(s)) {
                put(o, " %s", s);
                return;
        }
        put(o, " '");
        for (; *s; s++) {
                if (*s == '\'')
                        put(o, "'\\''");
                else
                        put(o, "%c", *s);
        }
        put(o, "'");
}

/* "ip" or "ip -n NS", and the family switch routes need. */
static void ip(struct out *o, const struct fwsh_ctx *ctx, const char *family)
{
        put(o, "%sip", o->len ? "\n" : "");
        if (ctx->ns_name[0]) {
                put(o, " -n");
                word(o, ctx->ns_name);
        }
        if (family)
                put(o, " %s", family);
}

static const char *link_name(struct fwsh_ctx *ctx, int ifindex, char *buf)
{
        struct fwsh_link l;

        if (fwsh_link_get_index(ctx, ifindex, &l) < 0)
                snprintf(buf, FWSH_NAME_MAX + 1, "if%d", ifindex);
        else
                memcpy(buf, l.name, FWSH_NAME_MAX + 1);
        return buf;
}

static void bridge_opts(struct out *o, const struct fwsh_bridge_opts *b)
{
        char words[256];

        bridge_explain_opts(b, words, sizeof(words));
        put(o, "%s", words);
}

/* The settings of a link change, after "ip link set dev NAME". */
static void link_settings(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool with_up)
{
        const struct fwsh_link_set *s = &ch->set;
        char mac[18], master[FWSH_NAME_MAX + 1];

        if (s->name[0]) {
                put(o, " name");
                word(o, s->name);
        }
        if (s->mtu >= 0)
                put(o, " mtu %lld", (long long)s->mtu);
        if (ch->group)
                put(o, " group %u", ch->group);
        if (s->set_mac)
                put(o, " address %s", fwsh_mac_format(s->mac, mac));
        if (s->master > 0) {
                put(o, " master");
                word(o, link_name(ctx, s->master, master));
        } else if (s->master == 0) {
                put(o, " nomaster");
        }
        if (ch->netns[0]) {
                put(o, " netns");
                word(o, ch->netns);
        }
        if (ch->has_alias) {
                put(o, " alias");
                word(o, ch->alias);
        }
        if (with_up && s->up >= 0)
                put(o, s->up ? " up" : " down");
}

static void sysctl_line(struct out *o, const struct fwsh_ctx *ctx, const struct change *ch)
{
        put(o, "%s", o->len ? "\n" : "");
        if (ctx->ns_name[0]) {
                put(o, "ip netns exec");
                word(o, ctx->ns_name);
                put(o, " ");
        }
        put(o, "sysctl -qw");
        word(o, ch->sysctl.path);
        put(o, "=%s", ch->sysctl.value);
}

/* ip-link(8)'s words for a VXLAN: id, local, remote (or group), dstport, dev */
static void vxlan_words(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        char a[INET6_ADDRSTRLEN];
        struct fwsh_link dev;

        put(o, " id %u", ch->vxlan.id);
        if (ch->vxlan.has_local) {
                put(o, " local");
                word(o, inet_ntop(ch->vxlan.family, ch->vxlan.local, a, sizeof(a)));
        }
        if (ch->vxlan.has_remote) {
                bool group = ch->vxlan.family == AF_INET ? (ch->vxlan.remote[0] & 0xf0) == 0xe0
                                                         : ch->vxlan.remote[0] == 0xff;
                put(o, group ? " group" : " remote");
                word(o, inet_ntop(ch->vxlan.family, ch->vxlan.remote, a, sizeof(a)));
        }
        put(o, " dstport %u", ch->vxlan.dstport);
        if (ch->vxlan.dev > 0 && fwsh_link_get_index(ctx, ch->vxlan.dev, &dev) == 0) {
                put(o, " dev");
                word(o, dev.name);
        }
        if (ch->vxlan.nolearning)
                put(o, " nolearning");
}

static void link_new(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        bool late_up = ch->sysctl.path[0] && ch->set.up == 1;
        struct change c = *ch;
        char mac[18];

        ip(o, ctx, NULL);
        put(o, " link add dev");
        word(o, ch->name);
        if (ch->set.mtu >= 0)
                put(o, " mtu %lld", (long long)ch->set.mtu);
        if (ch->set.set_mac)
                put(o, " address %s", fwsh_mac_format(ch->set.mac, mac));
        if (ch->group)
                put(o, " group %u", ch->group);
        if (ch->set.up == 1 && !late_up)
                put(o, " up");
        put(o, " type %s", ch->kind);
        if (strcmp(ch->kind, "bridge") == 0)
                bridge_opts(o, &ch->set.bridge);
        if (strcmp(ch->kind, "veth") == 0) {
                put(o, " peer name");
                word(o, ch->veth.peer);
                if (ch->veth.peer_netns[0]) {
                        put(o, " netns");
                        word(o, ch->veth.peer_netns);
                }
        }
        if (strcmp(ch->kind, "vxlan") == 0)
                vxlan_words(o, ctx, ch);
        if (ch->sysctl.path[0])
                sysctl_line(o, ctx, ch);
        /* As the kernel does it: the tag (and a late up) in a second step. */
        memset(&c.set, 0, sizeof(c.set));
        c.group = 0;
        c.set.up = -1;
        c.set.mtu = -1;
        c.set.master = -1;
        if (ch->has_alias || late_up) {
                ip(o, ctx, NULL);
                put(o, " link set dev");
                word(o, ch->name);
                link_settings(o, ctx, &c, false);
                if (late_up)
                        put(o, " up");
        }
}

static void tap_new(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        ip(o, ctx, NULL);
        put(o, " tuntap add dev");
        word(o, ch->name);
        put(o, " mode tap");
        if (ch->tap.owner >= 0)
                put(o, " user %lld", (long long)ch->tap.owner);
        if (ch->tap.group >= 0)
                put(o, " group %lld", (long long)ch->tap.group);
        if (ch->tap.multi_queue)
                put(o, " multi_queue");
        if (ch->tap.vnet_hdr)
                put(o, " vnet_hdr");
        ip(o, ctx, NULL);
        put(o, " link set dev");
        word(o, ch->name);
        link_settings(o, ctx, ch, true);
}

static void route(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        const struct fwsh_addr *dst = &ch->route.dst;
        char dev[FWSH_NAME_MAX + 1];
        char via[64];

        ip(o, ctx, dst->family == AF_INET6 ? "-6" : "-4");
        put(o, " route %s", ch->op == CH_ROUTE_NEW ? "add" : "delete");
        if (dst->prefixlen == 0)
                put(o, " default");
        else
                word(o, dst->text);
        if (ch->route.has_via) {
                snprintf(via, sizeof(via), "%s", ch->route.via.text);
                *strchr(via, '/') = '\0';
                put(o, " via %s", via);
        }
        if (ch->route.ifindex > 0) {
                put(o, " dev");
                word(o, link_name(ctx, ch->route.ifindex, dev));
        }
        if (ch->route.metric)
                put(o, " metric %u", ch->route.metric);
        if (ch->route.table && ch->route.table != RT_TABLE_MAIN)
                put(o, " table %u", ch->route.table);
}

int change_render(struct fwsh_ctx *ctx, const struct change *ch, char *buf, size_t size)
{
        struct out o = { buf, size, 0 };
        char dev[FWSH_NAME_MAX + 1], devname[FWSH_NAME_MAX + 1];
        char *save = NULL;

        buf[0] = '\0';
        switch (ch->op) {
        case CH_LINK_NEW:
                link_new(&o, ctx, ch);
                break;
        case CH_LINK_SET:
                ip(&o, ctx, NULL);
                put(&o, " link set dev");
                word(&o, ch->ifindex > 0 ? link_name(ctx, ch->ifindex, dev) : ch->name);
                link_settings(&o, ctx, ch, true);
                if (strcmp(ch->kind, "bridge") == 0 && bridge_opts_any(&ch->set.bridge)) {
                        put(&o, " type bridge");
                        bridge_opts(&o, &ch->set.bridge);
                }
                break;
        case CH_LINK_DEL:
                ip(&o, ctx, NULL);
                put(&o, " link delete dev");
                word(&o, ch->ifindex > 0 ? link_name(ctx, ch->ifindex, dev) : ch->name);
                break;
        case CH_TAP_NEW:
                tap_new(&o, ctx, ch);
                break;
        case CH_ADDR_NEW:
        case CH_ADDR_DEL:
                ip(&o, ctx, NULL);
                put(&o, " address %s %s dev", ch->op == CH_ADDR_NEW ? "add" : "delete", ch->addr.text);
                word(&o, link_name(ctx, ch->addr.ifindex, dev));
                break;
        case CH_ROUTE_NEW:
        case CH_ROUTE_DEL:
                route(&o, ctx, ch);
                break;
        case CH_NETNS_NEW: {
                char tag[FWSH_LAB_MAX + 8];
                lab_tag(ctx, tag, sizeof(tag));
                put(&o, "ip netns add");
                word(&o, ch->name);
                put(&o, "\nip -n");
                word(&o, ch->name);
                put(&o, " link set dev lo alias");
                word(&o, tag);
                break;
        }
        case CH_NETNS_DEL:
                put(&o, "ip netns delete");
                word(&o, ch->name);
                break;
        case CH_SYSCTL:
                sysctl_line(&o, ctx, ch);
                break;
        case CH_IMPAIR: {
                char lines[512];
                const char *name = ch->ifindex > 0 ? link_name(ctx, ch->ifindex, devname) : ch->name;
                if (impair_render(ch, name, lines, sizeof(lines)) < 0)
                        return -ENOSPC;
                for (char *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        put(&o, "%stc", o.len ? "\n" : "");
                        if (ctx->ns_name[0]) {
                                put(&o, " -n");
                                word(&o, ctx->ns_name);
                        }
                        put(&o, " %s", line);
                }
                break;
        }
        }
        return o.len < o.size ? 0 : -ENOSPC;
}
