/* veth.c - fwsh.veth: veth pairs; the peer may live in another namespace. */
#include <string.h>

#include "fwsh_lua.h"

/*** fwsh.veth.add(name, peer [, {netns=NAME, up=true}]) -> veth (the end called name);
 * netns puts the peer into that named namespace */
static int l_add(lua_State *L)
{
        static const char *const known[] = { "netns", "up", NULL };
        struct fwsh_veth_spec spec;
        struct fwsh_ctx *ctx;

        spec.name = lfwsh_check_str(L, 1);
        spec.peer = lfwsh_check_str(L, 2);
        lfwsh_check_fields(L, 3, known);
        spec.peer_netns = lfwsh_opt_string(L, 3, "netns", NULL);
        spec.up = lfwsh_opt_bool(L, 3, "up", true);
        ctx = lfwsh_ctx(L);
        lfwsh_check(L, ctx, fwsh_veth_add(ctx, &spec), "veth.add",
                    lua_pushfstring(L, "%s peer %s", spec.name, spec.peer));
        return lfwsh_return_new_link(L, ctx, spec.name, "veth", "veth.add", false, 0);
}

static const luaL_Reg fns[] = { { "add", l_add }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_veth = { .field = "veth", .fns = fns, .kind = "veth" };
