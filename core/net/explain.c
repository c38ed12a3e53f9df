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

void out_put(struct out *o, const char *fmt, ...)
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

void out_word(struct out *o, const char *s)
{
        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                            "@%+=:,./_-") == strlen(s)) {
                out_put(o, " %s", s);
                return;
        }
        out_put(o, " '");
        for (; *s; s++) {
                if (*s == '\'')
                        out_put(o, "'\\''");
                else
                        out_put(o, "%c", *s);
        }
        out_put(o, "'");
}

/* "ip" or "ip -n NS", and the family switch routes need. */
static void ip(struct out *o, const struct fwsh_ctx *ctx, const char *family)
{
        out_put(o, "%sip", o->len ? "\n" : "");
        if (ctx->ns_name[0]) {
                out_put(o, " -n");
                out_word(o, ctx->ns_name);
        }
        if (family)
                out_put(o, " %s", family);
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

/* The settings of a link change, after "ip link set dev NAME". */
static void link_settings(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool with_up)
{
        const struct fwsh_link_set *s = &ch->set;
        char mac[18], master[FWSH_NAME_MAX + 1];

        if (s->name[0]) {
                out_put(o, " name");
                out_word(o, s->name);
        }
        if (s->mtu >= 0)
                out_put(o, " mtu %lld", (long long)s->mtu);
        if (ch->group)
                out_put(o, " group %u", ch->group);
        if (s->set_mac)
                out_put(o, " address %s", fwsh_mac_format(s->mac, mac));
        if (s->master > 0) {
                out_put(o, " master");
                out_word(o, link_name(ctx, s->master, master));
        } else if (s->master == 0) {
                out_put(o, " nomaster");
        }
        if (ch->netns[0]) {
                out_put(o, " netns");
                out_word(o, ch->netns);
        }
        if (ch->has_alias) {
                out_put(o, " alias");
                out_word(o, ch->alias);
        }
        if (with_up && s->up >= 0)
                out_put(o, s->up ? " up" : " down");
}

static void sysctl_line(struct out *o, const struct fwsh_ctx *ctx, const struct change *ch)
{
        out_put(o, "%s", o->len ? "\n" : "");
        if (ctx->ns_name[0]) {
                out_put(o, "ip netns exec");
                out_word(o, ctx->ns_name);
                out_put(o, " ");
        }
        out_put(o, "sysctl -qw");
        out_word(o, ch->sysctl.path);
        out_put(o, "=%s", ch->sysctl.value);
}

static void link_new(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        const struct link_kind *k = link_kind_find(ch->kind);
        bool late_up = ch->sysctl.path[0] && ch->set.up == 1;
        struct change c = *ch;
        char mac[18];

        ip(o, ctx, NULL);
        out_put(o, " link add dev");
        out_word(o, ch->name);
        if (ch->set.mtu >= 0)
                out_put(o, " mtu %lld", (long long)ch->set.mtu);
        if (ch->set.set_mac)
                out_put(o, " address %s", fwsh_mac_format(ch->set.mac, mac));
        if (ch->group)
                out_put(o, " group %u", ch->group);
        if (ch->set.up == 1 && !late_up)
                out_put(o, " up");
        out_put(o, " type %s", ch->kind);
        if (k->explain)
                k->explain(o, ctx, ch, true);
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
                out_put(o, " link set dev");
                out_word(o, ch->name);
                link_settings(o, ctx, &c, false);
                if (late_up)
                        out_put(o, " up");
        }
}

static void tap_new(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        ip(o, ctx, NULL);
        out_put(o, " tuntap add dev");
        out_word(o, ch->name);
        out_put(o, " mode tap");
        if (link_kind_find(ch->kind)->opts) {
                char words[256];
                opts_explain(link_kind_find(ch->kind)->opts, &ch->set.opts, words, sizeof(words));
                out_put(o, "%s", words);
        }
        ip(o, ctx, NULL);
        out_put(o, " link set dev");
        out_word(o, ch->name);
        link_settings(o, ctx, ch, true);
}

static void route(struct out *o, struct fwsh_ctx *ctx, const struct change *ch)
{
        const struct fwsh_addr *dst = &ch->route.dst;
        char dev[FWSH_NAME_MAX + 1];
        char via[64];

        ip(o, ctx, dst->family == AF_INET6 ? "-6" : "-4");
        out_put(o, " route %s", ch->op == CH_ROUTE_NEW ? "add" : "delete");
        if (dst->prefixlen == 0)
                out_put(o, " default");
        else
                out_word(o, dst->text);
        if (ch->route.has_via) {
                snprintf(via, sizeof(via), "%s", ch->route.via.text);
                *strchr(via, '/') = '\0';
                out_put(o, " via %s", via);
        }
        if (ch->route.ifindex > 0) {
                out_put(o, " dev");
                out_word(o, link_name(ctx, ch->route.ifindex, dev));
        }
        if (ch->route.metric)
                out_put(o, " metric %u", ch->route.metric);
        if (ch->route.table && ch->route.table != RT_TABLE_MAIN)
                out_put(o, " table %u", ch->route.table);
}

int change_render(struct fwsh_ctx *ctx, const struct change *ch, char *buf, size_t size)
{
        struct out o = { buf, size, 0 };
        const struct link_kind *k;
        char dev[FWSH_NAME_MAX + 1], devname[FWSH_NAME_MAX + 1];
        char *save = NULL;

        buf[0] = '\0';
        switch (ch->op) {
        case CH_LINK_NEW:
                link_new(&o, ctx, ch);
                break;
        case CH_LINK_SET:
                ip(&o, ctx, NULL);
                out_put(&o, " link set dev");
                out_word(&o, ch->ifindex > 0 ? link_name(ctx, ch->ifindex, dev) : ch->name);
                link_settings(&o, ctx, ch, true);
                k = link_kind_find(ch->kind);
                if (k->has_data && k->has_data(ch, false) && k->explain) {
                        out_put(&o, " type %s", ch->kind);
                        k->explain(&o, ctx, ch, false);
                }
                break;
        case CH_LINK_DEL:
                ip(&o, ctx, NULL);
                out_put(&o, " link delete dev");
                out_word(&o, ch->ifindex > 0 ? link_name(ctx, ch->ifindex, dev) : ch->name);
                break;
        case CH_TAP_NEW:
                tap_new(&o, ctx, ch);
                break;
        case CH_ADDR_NEW:
        case CH_ADDR_DEL:
                ip(&o, ctx, NULL);
                out_put(&o, " address %s %s dev", ch->op == CH_ADDR_NEW ? "add" : "delete", ch->addr.text);
                out_word(&o, link_name(ctx, ch->addr.ifindex, dev));
                break;
        case CH_ROUTE_NEW:
        case CH_ROUTE_DEL:
                route(&o, ctx, ch);
                break;
        case CH_NETNS_NEW: {
                char tag[FWSH_LAB_MAX + 8];
                lab_tag(ctx, tag, sizeof(tag));
                out_put(&o, "ip netns add");
                out_word(&o, ch->name);
                out_put(&o, "\nip -n");
                out_word(&o, ch->name);
                out_put(&o, " link set dev lo alias");
                out_word(&o, tag);
                break;
        }
        case CH_NETNS_DEL:
                out_put(&o, "ip netns delete");
                out_word(&o, ch->name);
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
                        out_put(&o, "%stc", o.len ? "\n" : "");
                        if (ctx->ns_name[0]) {
                                out_put(&o, " -n");
                                out_word(&o, ctx->ns_name);
                        }
                        out_put(&o, " %s", line);
                }
                break;
        }
        }
        return o.len < o.size ? 0 : -ENOSPC;
}
