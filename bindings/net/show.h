/* show.h - what show.c (the walk: brctl's table, JSON, data) and show_dot.c
 * (the same topology as a Graphviz graph) share: what the walk reads. */
#ifndef FWSH_BINDINGS_SHOW_H
#define FWSH_BINDINGS_SHOW_H

#include "fwsh_lua.h"

/* What the walk reads, read first, so that nothing can fail halfway through
 * the output. The arrays live in userdata on the stack. */
struct topology {
        struct fwsh_link *links;       /* by name */
        size_t nlinks;
        struct fwsh_addr *addrs;
        size_t naddrs;
        struct fwsh_route *routes;
        size_t nroutes;
        char (*netns)[FWSH_NETNS_NAME_MAX + 1];
        size_t nnetns;
        struct fwsh_impaired *impaired;
        size_t nimpaired;
};

/* Reads ctx's namespace into t, raising on an error (topology.c). */
void show_read(lua_State *L, struct fwsh_ctx *ctx, struct topology *t);
const struct fwsh_link *show_link(const struct topology *t, int ifindex);
const struct fwsh_impair *show_impairment(const struct topology *t, int ifindex);
/* Pushes t as a Graphviz graph (show_dot.c). */
void show_dot(lua_State *L, struct fwsh_ctx *ctx, const struct topology *t);

#endif
