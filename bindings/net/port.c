/* port.c - fwsh.port: brctl addif / delif, by name or handle. */
#include "fwsh_lua.h"

/*** fwsh.port.attach(bridge, port) -> true (brctl addif bridge port) */
static int l_attach(lua_State *L)
{
        struct fwsh_ctx *ctx, *pctx;
        const char *br, *port;

        luaL_checkany(L, 2); /* before a push takes the place of a missing port */
        br = lfwsh_link_arg(L, 1, "port.attach", &ctx);
        br = lua_pushstring(L, br);
        port = lfwsh_link_arg(L, 2, "port.attach", &pctx);
        lfwsh_use(L, ctx);
        lfwsh_check(L, ctx, fwsh_port_attach(ctx, br, port), "port.attach",
                    lua_pushfstring(L, "%s to %s", port, br));
        lua_pushboolean(L, 1);
        return 1;
}

void lfwsh_port_detach(lua_State *L, int idx)
{
        struct fwsh_ctx *ctx;
        const char *port = lfwsh_link_arg(L, idx, "port.detach", &ctx);

        lfwsh_check(L, ctx, fwsh_port_detach(ctx, port), "port.detach", port);
}

/*** fwsh.port.detach(port) -> true (brctl delif) */
static int l_detach(lua_State *L)
{
        lfwsh_port_detach(L, 1);
        lua_pushboolean(L, 1);
        return 1;
}

static const luaL_Reg fns[] = { { "attach", l_attach }, { "detach", l_detach }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_port = { .field = "port", .fns = fns };
