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

struct emit;

/* Reads ctx's namespace into t, raising on an error (topology.c). */
void show_read(lua_State *L, struct fwsh_ctx *ctx, struct topology *t);
/* Only what the entry of the link called name needs (it, its bridge, a veth's
 * peer, its addresses and impairment), raising as op; returns the link. */
const struct fwsh_link *show_read_one(lua_State *L, struct fwsh_ctx *ctx, const char *op, const char *name,
                                      struct topology *t);
const struct fwsh_link *show_link(const struct topology *t, int ifindex);
/* Whether l (NULL: no link) is a bridge: the walk's and the graph's one test. */
bool show_is_bridge(const struct fwsh_link *l);
const struct fwsh_impair *show_impairment(const struct topology *t, int ifindex);
/* A link's entry, the one shape of link data (link_entry.c): its name (in the
 * text with name_fmt, unless NULL), its generic fields, its kind's, its
 * addresses and impairment. link:info() is this entry alone; show/state write
 * it for every link. */
void show_link_entry(struct emit *e, const struct topology *t, const struct fwsh_link *l, const char *name_fmt);
/* The fields only l's kind has (bridge = {...}, tap = {...}, a veth's peer). */
void show_link_kind(struct emit *e, const struct topology *t, const struct fwsh_link *l);
/* Pushes the entry of the link called name as a Lua table; op names the call in errors. */
void show_push_link(lua_State *L, struct fwsh_ctx *ctx, const char *op, const char *name);
/* Pushes t as a Graphviz graph (show_dot.c). */
void show_dot(lua_State *L, struct fwsh_ctx *ctx, const struct topology *t);

#endif
