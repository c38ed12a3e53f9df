/* state.c - the session of one Lua state: the namespace context it works in,
 * the open transaction, the lab. Kept in the registry, closed by __gc. */
#include <string.h>

#include "fwsh_lua.h"

static const char STATE_KEY = 's';

static int state_gc(lua_State *L)
{
        struct lfwsh_state *st = lua_touserdata(L, 1);

        st->ctx = fwsh_ctx_unref(st->ctx);
        st->journal = fwsh_journal_free(st->journal);
        return 0;
}

struct lfwsh_state *lfwsh_state(lua_State *L)
{
        struct lfwsh_state *st;

        if (lua_rawgetp(L, LUA_REGISTRYINDEX, &STATE_KEY) == LUA_TUSERDATA) {
                st = lua_touserdata(L, -1);
                lua_pop(L, 1);
                return st;
        }
        lua_pop(L, 1);
        st = lua_newuserdatauv(L, sizeof(*st), 0);
        memset(st, 0, sizeof(*st));
        strcpy(st->lab, "default");
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, state_gc);
        lua_setfield(L, -2, "__gc");
        lua_setmetatable(L, -2);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &STATE_KEY);
        return st;
}

struct fwsh_ctx *lfwsh_use(lua_State *L, struct fwsh_ctx *ctx)
{
        struct lfwsh_state *st = lfwsh_state(L);

        fwsh_ctx_set_journal(ctx, st->journal);
        fwsh_ctx_set_lab(ctx, st->lab); /* checked when st->lab was set */
        return ctx;
}

struct fwsh_ctx *lfwsh_ctx(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);

        if (!st->ctx) {
                int r = fwsh_ctx_open(&st->ctx);
                if (r < 0)
                        lfwsh_fail(L, NULL, r, "fwsh", "netlink socket");
        }
        return lfwsh_use(L, st->ctx);
}
