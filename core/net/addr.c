/* addr.c - IPv4 and IPv6 addresses on links. See ip-address(8). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/attr.h>

#include "internal.h"

static void addr_text(struct fwsh_addr *a)
{
        char ip[INET6_ADDRSTRLEN];

        inet_ntop(a->family, a->bytes, ip, sizeof(ip));
        snprintf(a->text, sizeof(a->text), "%s/%u", ip, a->prefixlen);
}

/* Read whole and strictly (libnl's nl_addr_parse takes "/24abc" as /24, and
 * strtoul's "/+24", "/ 24" and "/0x18" too): an address inet_pton(3) takes,
 * then nothing, or '/' and 1 to 3 decimal digits within the family's bits. */
int fwsh_addr_parse(struct fwsh_ctx *ctx, const char *text, struct fwsh_addr *ret)
{
        struct fwsh_addr a = { 0 };
        const char *slash = strchr(text, '/');
        char host[INET6_ADDRSTRLEN];
        size_t n = slash ? (size_t)(slash - text) : strlen(text);
        unsigned bits, prefix = 0;

        if (n == 0 || n >= sizeof(host))
                return ctx_fail(ctx, -EINVAL, "'%s' is not an IP address", text);
        memcpy(host, text, n);
        host[n] = '\0';
        if (inet_pton(AF_INET, host, a.bytes) == 1)
                a.family = AF_INET, bits = 32;
        else if (inet_pton(AF_INET6, host, a.bytes) == 1)
                a.family = AF_INET6, bits = 128;
        else
                return ctx_fail(ctx, -EINVAL, "'%s' is not an IP address", text);
        if (!slash) {
                prefix = bits;
        } else {
                const char *p = slash + 1;
                size_t digits = strspn(p, "0123456789");
                if (digits == 0 || digits > 3 || p[digits] != '\0')
                        return ctx_fail(ctx, -EINVAL, "'%s': the prefix length is 0 to %u, in "
                                        "decimal digits, and nothing after it", text, bits);
                for (size_t i = 0; i < digits; i++)
                        prefix = prefix * 10 + (unsigned)(p[i] - '0');
                if (prefix > bits)
                        return ctx_fail(ctx, -EINVAL, "'%s': the prefix length is 0 to %u", text, bits);
        }
        a.prefixlen = (uint8_t)prefix;
        addr_text(&a);
        *ret = a;
        return 0;
}

int addr_kernel(struct fwsh_ctx *ctx, const struct change *ch)
{
        const struct fwsh_addr *a = &ch->addr;
        struct ifaddrmsg ifa = { .ifa_family = (uint8_t)a->family, .ifa_prefixlen = a->prefixlen,
                                 .ifa_index = (uint32_t)a->ifindex };
        bool add = ch->op == CH_ADDR_NEW;
        struct nl_msg *msg = rtnl_request(add ? RTM_NEWADDR : RTM_DELADDR,
                                          add ? NLM_F_CREATE | NLM_F_EXCL : 0, &ifa, sizeof(ifa));
        int len = a->family == AF_INET ? 4 : 16;

        if (!msg)
                return -ENOMEM;
        if (nla_put(msg, IFA_LOCAL, len, a->bytes) < 0 || nla_put(msg, IFA_ADDRESS, len, a->bytes) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return nl_query(ctx, msg, NULL, NULL);
}

static int addr_change(struct fwsh_ctx *ctx, const char *link, const char *text, bool add)
{
        struct change ch, inv;
        struct fwsh_link l;
        int r = fwsh_link_get(ctx, link, &l);

        if (r < 0)
                return r;
        /* An address on a non-grounding bridge would put the host's IP stack on a
         * network that must reach it only through the firewalls: ask first. */
        if (add && link_kind_find(l.kind)->ports && ipv6_disabled(ctx, l.name) == 1 &&
            addr_count_dev(ctx, l.ifindex, AF_UNSPEC) == 0)
                return ctx_fail(ctx, -EINVAL, "%s is a non-grounding bridge: an address would "
                                "ground it (set{grounding=true} first)", l.name);
        change_init(&ch, add ? CH_ADDR_NEW : CH_ADDR_DEL, link);
        r = fwsh_addr_parse(ctx, text, &ch.addr);
        if (r < 0)
                return r;
        ch.addr.ifindex = l.ifindex;
        inv = ch;
        inv.op = add ? CH_ADDR_DEL : CH_ADDR_NEW;
        return change_apply(ctx, &ch, &inv);
}

int fwsh_addr_add(struct fwsh_ctx *ctx, const char *link, const char *addr)
{
        return addr_change(ctx, link, addr, true);
}

int fwsh_addr_delete(struct fwsh_ctx *ctx, const char *link, const char *addr)
{
        return addr_change(ctx, link, addr, false);
}

struct addr_vec {
        int ifindex, family;
        struct fwsh_addr *v;
        size_t n, cap;
};

static int on_addr(struct nlmsghdr *h, void *arg)
{
        struct addr_vec *av = arg;
        struct ifaddrmsg *ifa = nlmsg_data(h);
        struct nlattr *tb[IFA_MAX + 1], *at;
        struct fwsh_addr *a;

        if (h->nlmsg_type != RTM_NEWADDR || nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
                return 0;
        if ((av->ifindex && (int)ifa->ifa_index != av->ifindex) ||
            (av->family != AF_UNSPEC && ifa->ifa_family != av->family))
                return 0;
        at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (!at || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
            nla_len(at) != (ifa->ifa_family == AF_INET ? 4 : 16))
                return 0;
        if (av->n == av->cap) {
                size_t cap = av->cap ? av->cap * 2 : 16;
                struct fwsh_addr *v = realloc(av->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                av->v = v;
                av->cap = cap;
        }
        a = &av->v[av->n++];
        memset(a, 0, sizeof(*a));
        a->family = ifa->ifa_family;
        a->ifindex = (int)ifa->ifa_index;
        a->prefixlen = ifa->ifa_prefixlen;
        a->scope = ifa->ifa_scope;
        memcpy(a->bytes, nla_data(at), (size_t)nla_len(at));
        addr_text(a);
        return 0;
}

static void restart_addrs(void *arg)
{
        ((struct addr_vec *)arg)->n = 0;
}

static int addr_dump(struct fwsh_ctx *ctx, int ifindex, int family, struct addr_vec *av)
{
        struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
        struct nl_msg *msg = rtnl_request(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
        int r;

        memset(av, 0, sizeof(*av));
        av->ifindex = ifindex;
        av->family = family;
        if (ctx->backend->addrs) {
                size_t k = 0;
                nlmsg_free(msg);
                r = ctx->backend->addrs(ctx, &av->v, &av->n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < av->n; i++)
                        if ((!ifindex || av->v[i].ifindex == ifindex) &&
                            (family == AF_UNSPEC || av->v[i].family == family))
                                av->v[k++] = av->v[i];
                av->n = k;
                return 0;
        }
        if (!msg)
                return -ENOMEM;
        r = nl_query_dump(ctx, msg, on_addr, restart_addrs, av);
        if (r < 0) {
                free(av->v);
                av->v = NULL;
        }
        return r;
}

int fwsh_addr_list(struct fwsh_ctx *ctx, const char *link, struct fwsh_addr **ret, size_t *ret_n)
{
        struct fwsh_link l = { 0 };
        struct addr_vec av;
        int r = link ? fwsh_link_get(ctx, link, &l) : 0;

        if (r < 0)
                return r;
        r = addr_dump(ctx, l.ifindex, AF_UNSPEC, &av);
        if (r < 0)
                return r;
        *ret = av.v;
        *ret_n = av.n;
        return 0;
}

int addr_count_dev(struct fwsh_ctx *ctx, int ifindex, int family)
{
        struct addr_vec av;
        int r = addr_dump(ctx, ifindex, family, &av);

        free(av.v);
        return r < 0 ? r : (int)av.n;
}
