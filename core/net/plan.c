/* plan.c - the plan backend: changes are checked and made on a model of the
 * namespace instead of the kernel, and queries read the model, so a script's
 * loops and conditions see what it planned. The model starts as the kernel's
 * state (or an empty namespace with lo, for a planned one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "internal.h"

/* The named namespaces, as planned: shared by every plan of one session. */
struct plan_world {
        unsigned refs;
        char **names;
        size_t n;
};

struct plan {
        struct fwsh_link *links;
        size_t nlinks;
        struct fwsh_addr *addrs;
        size_t naddrs;
        struct fwsh_route *routes;
        size_t nroutes;
        int *v6off;                 /* ifindexes with IPv6 disabled */
        size_t nv6off;
        int next_ifindex;
        struct plan_world *world;
};

/* Appends the item of size bytes to the vector *v of *n; -ENOMEM if it cannot grow. */
static int push(void *v, size_t *n, const void *item, size_t size)
{
        char *nv = realloc(*(void **)v, (*n + 1) * size);

        if (!nv)
                return -ENOMEM;
        memcpy(nv + *n * size, item, size);
        *(void **)v = nv;
        (*n)++;
        return 0;
}
#define PUSH(v, n, item) push(&(v), &(n), &(item), sizeof(item))

static struct plan_world *world_unref(struct plan_world *w)
{
        if (w && --w->refs == 0) {
                fwsh_strv_free(w->names, w->n);
                free(w);
        }
        return NULL;
}

static struct plan *plan_free(struct plan *p)
{
        if (!p)
                return NULL;
        free(p->links);
        free(p->addrs);
        free(p->routes);
        free(p->v6off);
        world_unref(p->world);
        free(p);
        return NULL;
}

static struct fwsh_link *find_link(struct plan *p, int ifindex, const char *name)
{
        for (size_t i = 0; i < p->nlinks; i++)
                if ((ifindex > 0 && p->links[i].ifindex == ifindex) ||
                    (ifindex <= 0 && name && strcmp(p->links[i].name, name) == 0))
                        return &p->links[i];
        return NULL;
}

static bool v6off(const struct plan *p, int ifindex)
{
        for (size_t i = 0; i < p->nv6off; i++)
                if (p->v6off[i] == ifindex)
                        return true;
        return false;
}

/* ---- starting a plan ----------------------------------------------------------------- */

static int read_kernel(struct fwsh_ctx *ctx, struct plan *p)
{
        int r;

        if ((r = fwsh_link_list(ctx, &p->links, &p->nlinks)) < 0 ||
            (r = fwsh_addr_list(ctx, NULL, &p->addrs, &p->naddrs)) < 0)
                return r;
        r = route_dump_all(ctx, &p->routes, &p->nroutes);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->nlinks; i++) {
                if (p->links[i].ifindex >= p->next_ifindex)
                        p->next_ifindex = p->links[i].ifindex + 1;
                if (ipv6_disabled(ctx, p->links[i].name) == 1 &&
                    PUSH(p->v6off, p->nv6off, p->links[i].ifindex) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int empty_namespace(struct plan *p)
{
        struct fwsh_link lo = { .ifindex = 1, .name = "lo", .mtu = 65536, .link_netnsid = -1,
                                .port_state = -1, .flags = IFF_LOOPBACK };

        p->next_ifindex = 2;
        return PUSH(p->links, p->nlinks, lo);
}

static void plan_drop(struct fwsh_ctx *ctx)
{
        ctx->plan = plan_free(ctx->plan);
}

int fwsh_ctx_plan(struct fwsh_ctx *ctx, struct fwsh_ctx *world_of, bool empty)
{
        struct plan *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        p->next_ifindex = 1;
        if (world_of && world_of->plan) {
                p->world = world_of->plan->world;
                p->world->refs++;
        } else {
                p->world = calloc(1, sizeof(*p->world));
                if (!p->world) {
                        plan_free(p);
                        return -ENOMEM;
                }
                p->world->refs = 1;
                r = fwsh_netns_list(NULL, &p->world->names, &p->world->n);
                if (r < 0) {
                        plan_free(p);
                        return r;
                }
        }
        r = empty ? empty_namespace(p) : read_kernel(ctx, p);
        if (r < 0) {
                plan_free(p);
                return r;
        }
        plan_free(ctx->plan);
        ctx->plan = p;
        ctx->plan_drop = plan_drop;
        ctx->backend = &plan_backend;
        return 0;
}

/* ---- queries ----------------------------------------------------------------------- */

#define COPY_OUT(v, n, ret, ret_n)                                              \
        do {                                                                    \
                void *c__ = malloc(((n) ? (n) : 1) * sizeof(*(v)));             \
                if (!c__)                                                       \
                        return -ENOMEM;                                         \
                if (n)                                                          \
                        memcpy(c__, (v), (n) * sizeof(*(v)));                   \
                *(ret) = c__;                                                   \
                *(ret_n) = (n);                                                 \
                return 0;                                                       \
        } while (0)

static int plan_links(struct fwsh_ctx *ctx, struct fwsh_link **ret, size_t *ret_n)
{
        COPY_OUT(ctx->plan->links, ctx->plan->nlinks, ret, ret_n);
}

static int plan_addrs(struct fwsh_ctx *ctx, struct fwsh_addr **ret, size_t *ret_n)
{
        COPY_OUT(ctx->plan->addrs, ctx->plan->naddrs, ret, ret_n);
}

static int plan_routes(struct fwsh_ctx *ctx, struct fwsh_route **ret, size_t *ret_n)
{
        COPY_OUT(ctx->plan->routes, ctx->plan->nroutes, ret, ret_n);
}

static int plan_ipv6_disabled(struct fwsh_ctx *ctx, const char *name)
{
        struct fwsh_link *l = find_link(ctx->plan, 0, name);

        return l && v6off(ctx->plan, l->ifindex);
}

static int plan_netns_exists(struct fwsh_ctx *ctx, const char *name)
{
        const struct plan_world *w = ctx->plan->world;

        for (size_t i = 0; i < w->n; i++)
                if (strcmp(w->names[i], name) == 0)
                        return 1;
        return 0;
}

static int plan_netns_list(struct fwsh_ctx *ctx, char ***ret, size_t *ret_n)
{
        const struct plan_world *w = ctx->plan->world;
        char **v = calloc(w->n ? w->n : 1, sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < w->n; i++)
                if (!(v[i] = strdup(w->names[i]))) {
                        fwsh_strv_free(v, i);
                        return -ENOMEM;
                }
        *ret = v;
        *ret_n = w->n;
        return 0;
}

/* ---- changes ----------------------------------------------------------------------- */

static void drop_link(struct plan *p, int ifindex)
{
        size_t k = 0;

        for (size_t i = 0; i < p->nlinks; i++) {
                if (p->links[i].master == ifindex)
                        p->links[i].master = 0;
                if (p->links[i].ifindex != ifindex)
                        p->links[k++] = p->links[i];
        }
        p->nlinks = k;
        k = 0;
        for (size_t i = 0; i < p->naddrs; i++)
                if (p->addrs[i].ifindex != ifindex)
                        p->addrs[k++] = p->addrs[i];
        p->naddrs = k;
        k = 0;
        for (size_t i = 0; i < p->nroutes; i++)
                if (p->routes[i].ifindex != ifindex)
                        p->routes[k++] = p->routes[i];
        p->nroutes = k;
        k = 0;
        for (size_t i = 0; i < p->nv6off; i++)
                if (p->v6off[i] != ifindex)
                        p->v6off[k++] = p->v6off[i];
        p->nv6off = k;
}

static int set_link(struct fwsh_ctx *ctx, struct fwsh_link *l, const struct change *ch)
{
        struct plan *p = ctx->plan;
        const struct fwsh_link_set *s = &ch->set;
        struct fwsh_link *m;

        if (s->master > 0) {
                m = find_link(p, s->master, NULL);
                if (!m)
                        return ctx_fail(ctx, -ENODEV, "no such master");
                if (!link_kind_find(m->kind)->ports)
                        return ctx_fail(ctx, -EOPNOTSUPP, "%s is not a bridge", m->name);
        }
        if (s->name[0] && find_link(p, 0, s->name))
                return ctx_fail(ctx, -EEXIST, "%s exists", s->name);
        if (ch->netns[0] && !plan_netns_exists(ctx, ch->netns))
                return ctx_fail(ctx, -ENOENT, "no namespace %s", ch->netns);
        if (s->up >= 0) {
                l->up = s->up;
                l->flags = s->up ? (l->flags | IFF_UP) : (l->flags & ~IFF_UP);
        }
        if (s->mtu >= 0)
                l->mtu = (unsigned)s->mtu;
        if (ch->group)
                l->group = ch->group;
        if (s->set_mac) {
                memcpy(l->mac, s->mac, 6);
                l->has_mac = true;
        }
        if (s->name[0])
                memcpy(l->name, s->name, sizeof(l->name));
        if (s->master >= 0)
                l->master = s->master;
        if (ch->has_alias)
                snprintf(l->alias, sizeof(l->alias), "%s", ch->alias);
        if (link_kind_find(l->kind)->opts)
                opts_apply(link_kind_find(l->kind)->opts, &s->opts, &l->opts);
        if (ch->netns[0])
                drop_link(p, l->ifindex);
        return 0;
}

static int new_link(struct fwsh_ctx *ctx, const struct change *ch, const char *kind)
{
        const struct link_kind *k = link_kind_find(kind);
        struct plan *p = ctx->plan;
        struct fwsh_link l = { 0 }, *at;
        struct change rest = *ch;

        if (find_link(p, 0, ch->name))
                return -EEXIST;
        if (k->pair && !ch->veth.peer_netns[0] &&
            find_link(p, 0, ch->veth.peer))
                return -EEXIST;
        l.ifindex = p->next_ifindex++;
        snprintf(l.name, sizeof(l.name), "%.*s", FWSH_NAME_MAX, ch->name);
        snprintf(l.kind, sizeof(l.kind), "%s", kind);
        l.mtu = 1500;
        l.link_netnsid = -1;
        l.port_state = -1;
        if (k->opts)
                opts_new(k->opts, &ch->set.opts, &l.opts);
        if (k->plan_new)
                k->plan_new(&l, ch);
        snprintf(l.bridge.id, sizeof(l.bridge.id), "8000.000000000000");
        if (PUSH(p->links, p->nlinks, l) < 0)
                return -ENOMEM;
        at = &p->links[p->nlinks - 1];
        if (k->pair && !ch->veth.peer_netns[0]) {
                struct fwsh_link peer = *at;
                peer.ifindex = p->next_ifindex++;
                snprintf(peer.name, sizeof(peer.name), "%s", ch->veth.peer);
                peer.link = at->ifindex;
                if (PUSH(p->links, p->nlinks, peer) < 0)
                        return -ENOMEM;
                at = &p->links[p->nlinks - 2];
                at->link = peer.ifindex;
        }
        if (ch->sysctl.path[0] && PUSH(p->v6off, p->nv6off, at->ifindex) < 0)
                return -ENOMEM;
        rest.netns[0] = '\0';
        return set_link(ctx, at, &rest);
}

static bool same_addr(const struct fwsh_addr *a, const struct fwsh_addr *b)
{
        return a->family == b->family && a->ifindex == b->ifindex &&
               a->prefixlen == b->prefixlen && memcmp(a->bytes, b->bytes, 16) == 0;
}

static int change_addr(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct plan *p = ctx->plan;

        if (!find_link(p, ch->addr.ifindex, NULL))
                return ctx_fail(ctx, -ENODEV, "no such link");
        for (size_t i = 0; i < p->naddrs; i++) {
                if (!same_addr(&p->addrs[i], &ch->addr))
                        continue;
                if (ch->op == CH_ADDR_NEW)
                        return -EEXIST;
                p->addrs[i] = p->addrs[--p->naddrs];
                return 0;
        }
        if (ch->op == CH_ADDR_DEL)
                return -EADDRNOTAVAIL;
        return PUSH(p->addrs, p->naddrs, ch->addr);
}

static int change_route(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct plan *p = ctx->plan;
        struct fwsh_route rt = { 0 };

        rt.family = ch->route.dst.family;
        if (ch->route.dst.prefixlen == 0)
                snprintf(rt.dst, sizeof(rt.dst), "default");
        else
                snprintf(rt.dst, sizeof(rt.dst), "%s", ch->route.dst.text);
        if (ch->route.has_via) {
                snprintf(rt.via, sizeof(rt.via), "%.*s", (int)strcspn(ch->route.via.text, "/"),
                         ch->route.via.text);
        }
        rt.ifindex = ch->route.ifindex;
        rt.table = ch->route.table ? ch->route.table : RT_TABLE_MAIN;
        rt.metric = ch->route.metric;
        rt.type = RTN_UNICAST;
        rt.protocol = RTPROT_BOOT;
        if (rt.ifindex && !find_link(p, rt.ifindex, NULL))
                return ctx_fail(ctx, -ENODEV, "no such link");
        for (size_t i = 0; i < p->nroutes; i++) {
                struct fwsh_route *o = &p->routes[i];
                if (o->family != rt.family || strcmp(o->dst, rt.dst) != 0 || o->table != rt.table ||
                    o->metric != rt.metric)
                        continue;
                if (ch->op == CH_ROUTE_NEW)
                        return -EEXIST;
                *o = p->routes[--p->nroutes];
                return 0;
        }
        if (ch->op == CH_ROUTE_DEL)
                return ctx_fail(ctx, -ESRCH, "no such route");
        return PUSH(p->routes, p->nroutes, rt);
}

static int change_netns(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct plan_world *w = ctx->plan->world;
        char *name;

        for (size_t i = 0; i < w->n; i++) {
                if (strcmp(w->names[i], ch->name) != 0)
                        continue;
                if (ch->op == CH_NETNS_NEW)
                        return ctx_fail(ctx, -EEXIST, "/run/netns/%s exists", ch->name);
                free(w->names[i]);
                w->names[i] = w->names[--w->n];
                return 0;
        }
        if (ch->op == CH_NETNS_DEL)
                return ctx_fail(ctx, -ENOENT, "no namespace %s", ch->name);
        if (!(name = strdup(ch->name)))
                return -ENOMEM;
        if (PUSH(w->names, w->n, name) < 0) {
                free(name);
                return -ENOMEM;
        }
        return 0;
}

static int plan_apply(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct plan *p = ctx->plan;
        struct fwsh_link *l;

        switch (ch->op) {
        case CH_LINK_NEW:
                return new_link(ctx, ch, ch->kind);
        case CH_TAP_NEW:
                return new_link(ctx, ch, "tap");
        case CH_LINK_SET:
        case CH_LINK_DEL:
                l = find_link(p, ch->ifindex, ch->name);
                if (!l)
                        return ctx_fail(ctx, -ENODEV, "no such link");
                if (ch->op == CH_LINK_SET)
                        return set_link(ctx, l, ch);
                if (l->link && link_kind_find(l->kind)->pair)
                        drop_link(p, l->link);
                drop_link(p, l->ifindex);
                return 0;
        case CH_ADDR_NEW:
        case CH_ADDR_DEL:
                return change_addr(ctx, ch);
        case CH_ROUTE_NEW:
        case CH_ROUTE_DEL:
                return change_route(ctx, ch);
        case CH_NETNS_NEW:
        case CH_NETNS_DEL:
                return change_netns(ctx, ch);
        case CH_SYSCTL:
        case CH_IMPAIR: /* the model has no queues: it is planned, and explained */
                return 0;
        }
        return -EINVAL;
}

const struct backend plan_backend = {
        .name = "plan",
        .apply = plan_apply,
        .render = change_render,
        .identify = change_identify,
        .links = plan_links,
        .addrs = plan_addrs,
        .routes = plan_routes,
        .ipv6_disabled = plan_ipv6_disabled,
        .netns_exists = plan_netns_exists,
        .netns_list = plan_netns_list,
};
