/* topology.c - what fwsh.show's walk reads (show.h), read first, so that
 * nothing can fail halfway through an output; shared by the walk (show.c)
 * and the graph (show_dot.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/show.h"

static int cmp_name(const void *a, const void *b)
{
        return strcmp(((const struct fwsh_link *)a)->name, ((const struct fwsh_link *)b)->name);
}

/* Moves a malloc'd array into a userdata pushed on the stack. */
static void *keep(lua_State *L, void *v, size_t size)
{
        void *u = lua_newuserdatauv(L, size ? size : 1, 0);

        if (size)
                memcpy(u, v, size);
        free(v);
        return u;
}

static void read_links(lua_State *L, struct fwsh_ctx *ctx, struct topology *t)
{
        struct fwsh_link *links = NULL;
        struct fwsh_addr *addrs = NULL;
        struct fwsh_impaired *impaired = NULL;

        memset(t, 0, sizeof(*t));
        lfwsh_check(L, ctx, fwsh_link_list(ctx, &links, &t->nlinks), "show", "links");
        t->links = keep(L, links, t->nlinks * sizeof(*links));
        qsort(t->links, t->nlinks, sizeof(*t->links), cmp_name);
        lfwsh_check(L, ctx, fwsh_addr_list(ctx, NULL, &addrs, &t->naddrs), "show", "addresses");
        t->addrs = keep(L, addrs, t->naddrs * sizeof(*addrs));
        /* The plan has no queues: a dry run shows none */
        if (!lfwsh_state(L)->plan) {
                lfwsh_check(L, ctx, fwsh_impair_list(ctx, &impaired, &t->nimpaired), "show", "qdiscs");
                t->impaired = keep(L, impaired, t->nimpaired * sizeof(*impaired));
        }
}

void show_read(lua_State *L, struct fwsh_ctx *ctx, struct topology *t)
{
        struct fwsh_route *routes = NULL;
        char **names = NULL;

        read_links(L, ctx, t);
        lfwsh_check(L, ctx, fwsh_route_list(ctx, NULL, 0, &routes, &t->nroutes), "show", "routes");
        t->routes = keep(L, routes, t->nroutes * sizeof(*routes));
        lfwsh_check(L, ctx, fwsh_netns_list(ctx, &names, &t->nnetns), "show", "/run/netns");
        t->netns = lua_newuserdatauv(L, t->nnetns * sizeof(*t->netns) + 1, 0);
        for (size_t i = 0; i < t->nnetns; i++)
                snprintf(t->netns[i], sizeof(t->netns[i]), "%s", names[i]);
        fwsh_strv_free(names, t->nnetns);
}

const struct fwsh_link *show_read_one(lua_State *L, struct fwsh_ctx *ctx, const char *op, const char *name,
                                      struct topology *t)
{
        struct fwsh_addr *addrs = NULL;
        struct fwsh_link *l;

        memset(t, 0, sizeof(*t));
        /* the link, then what its entry names: its bridge, a veth's peer here */
        t->links = lua_newuserdatauv(L, 3 * sizeof(*t->links), 0);
        l = &t->links[0];
        lfwsh_check(L, ctx, fwsh_link_get(ctx, name, l), op, name);
        t->nlinks = 1;
        if (l->master && fwsh_link_get_index(ctx, l->master, &t->links[t->nlinks]) == 0)
                t->nlinks++;
        if (l->link > 0 && l->link_netnsid < 0 && fwsh_link_get_index(ctx, l->link, &t->links[t->nlinks]) == 0)
                t->nlinks++;
        lfwsh_check(L, ctx, fwsh_addr_list(ctx, name, &addrs, &t->naddrs), op, name);
        t->addrs = keep(L, addrs, t->naddrs * sizeof(*addrs));
        if (!lfwsh_state(L)->plan) {
                struct fwsh_impaired *im = lua_newuserdatauv(L, sizeof(*im), 0);
                int r = fwsh_link_impairment(ctx, name, &im->im, NULL);
                lfwsh_check(L, ctx, r, op, name);
                im->ifindex = l->ifindex;
                t->impaired = im;
                t->nimpaired = r > 0;
        }
        return l;
}

const struct fwsh_impair *show_impairment(const struct topology *t, int ifindex)
{
        for (size_t i = 0; i < t->nimpaired; i++)
                if (t->impaired[i].ifindex == ifindex)
                        return &t->impaired[i].im;
        return NULL;
}

const struct fwsh_link *show_link(const struct topology *t, int ifindex)
{
        for (size_t i = 0; i < t->nlinks; i++)
                if (t->links[i].ifindex == ifindex)
                        return &t->links[i];
        return NULL;
}

bool show_is_bridge(const struct fwsh_link *l)
{
        return l && (fwsh_link_kind_flags(l->kind) & FWSH_KIND_PORTS);
}
