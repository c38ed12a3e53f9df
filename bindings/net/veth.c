/* veth.c - fwsh.veth: veth pairs; the peer may live in another namespace. */
#include <string.h>

#include "fwsh_lua.h"

static int make(lua_State *L, bool ensure)
{
        static const char *const known[] = { "netns", "mtu", "up", NULL };
        const char *op = ensure ? "veth.ensure" : "veth.add";
        struct fwsh_veth_spec spec;
        struct fwsh_ctx *ctx;
        int r;

        spec.name = lfwsh_check_str(L, 1);
        spec.peer = lfwsh_check_str(L, 2);
        lfwsh_check_fields(L, 3, known);
        spec.peer_netns = lfwsh_opt_string(L, 3, "netns", NULL);
        spec.mtu = lfwsh_opt_range(L, 3, "mtu", -1, 68, 65535); /* absent: -1, the kernel's */
        spec.up = lfwsh_opt_bool(L, 3, "up", true);
        ctx = lfwsh_ctx(L);
        r = lfwsh_check(L, ctx, ensure ? fwsh_veth_ensure(ctx, &spec) : fwsh_veth_add(ctx, &spec), op,
                        lua_pushfstring(L, "%s peer %s", spec.name, spec.peer));
        return lfwsh_return_new_link(L, ctx, spec.name, "veth", op, ensure, r);
}

/*** fwsh.veth.add(name, peer [, {netns=NAME, mtu=, up=true}]) -> veth (the end called name);
 * netns puts the peer into that named namespace; mtu is both ends' (the kernel's 1500 if not
 * given); up brings up the end called name */
static int l_add(lua_State *L)
{
        return make(L, false);
}

/*** fwsh.veth.ensure(name, peer [, opts]) -> veth, created: accepts a veth called name whose
 * peer is peer (in netns, if given) and has the mtu given; raises if it differs */
static int l_ensure(lua_State *L)
{
        return make(L, true);
}

static const luaL_Reg fns[] = { { "add", l_add }, { "ensure", l_ensure }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_veth = { .field = "veth", .fns = fns, .kind = "veth" };
