/* port.c - fwsh.port: brctl addif / delif, by name or handle. */
#include <errno.h>

#include "fwsh_lua.h"

void lfwsh_port_attach(lua_State *L, struct fwsh_ctx *ctx, const char *bridge, int idx, const char *op)
{
        struct fwsh_ctx *pctx;
        const char *port = lfwsh_link_arg(L, idx, op, &pctx);
        int r;

        lfwsh_use(L, ctx);
        r = fwsh_port_attach(ctx, bridge, port);
        if (r < 0)
                lfwsh_fail(L, ctx, r, op, lua_pushfstring(L, "%s to %s", port, bridge));
}

void lfwsh_port_detach(lua_State *L, int idx, const char *op, struct fwsh_ctx *ctx,
                       const struct fwsh_link *br)
{
        struct fwsh_ctx *pctx;
        const char *port = lfwsh_link_arg(L, idx, op, &pctx);
        struct fwsh_link p;

        if (!br)
                ctx = pctx;
        else {
                lfwsh_use(L, ctx);
                lfwsh_check(L, ctx, fwsh_link_get(ctx, port, &p), op, port);
                if (p.master != br->ifindex)
                        lfwsh_fail_detail(L, -EINVAL, op, lua_pushfstring(L, "%s from %s", port, br->name),
                                          "not a port of it");
        }
        lfwsh_check(L, ctx, fwsh_port_detach(ctx, port), op, port);
}

/*** fwsh.port.attach(bridge, port) -> true (brctl addif bridge port) */
static int l_attach(lua_State *L)
{
        struct fwsh_ctx *ctx;
        const char *br;

        luaL_checkany(L, 2); /* before a push takes the place of a missing port */
        br = lfwsh_link_arg(L, 1, "port.attach", &ctx);
        br = lua_pushstring(L, br); /* keep it: the port argument may move the buffer */
        lfwsh_port_attach(L, ctx, br, 2, "port.attach");
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.port.detach(port) -> true (brctl delif) */
static int l_detach(lua_State *L)
{
        lfwsh_port_detach(L, 1, "port.detach", NULL, NULL);
        lua_pushboolean(L, 1);
        return 1;
}

static const luaL_Reg fns[] = { { "attach", l_attach }, { "detach", l_detach }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_port = { .field = "port", .fns = fns };
