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

void lfwsh_set_mode(lua_State *L, bool plan, void (*explain)(void *arg, const char *lines), void *arg)
{
        struct lfwsh_state *st = lfwsh_state(L);

        st->plan = plan;
        st->explain = explain;
        st->explain_arg = arg;
        st->ctx = fwsh_ctx_unref(st->ctx); /* the next one is opened in the new mode */
}

/* After the program's last rollback nothing could undo a change: a finalizer
 * run by lua_close must not leave a link behind. Checked before a context is
 * opened, which the error would leak. */
static struct lfwsh_state *open_state(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);

        if (st->ended)
                luaL_error(L, "fwsh: the run has ended: no changes after it (from a finalizer?)");
        return st;
}

struct fwsh_ctx *lfwsh_use(lua_State *L, struct fwsh_ctx *ctx)
{
        struct lfwsh_state *st = open_state(L);

        fwsh_ctx_set_journal(ctx, st->journal);
        fwsh_ctx_set_lab(ctx, st->lab); /* checked when st->lab was set */
        fwsh_ctx_set_explain(ctx, st->explain, st->explain_arg);
        return ctx;
}

int lfwsh_open_ctx(lua_State *L, const char *name, bool empty, struct fwsh_ctx **ret_ctx)
{
        struct lfwsh_state *st = open_state(L);
        struct fwsh_ctx *ctx = NULL;
        int r = fwsh_ctx_open(&ctx);

        if (r == 0 && st->plan)
                r = fwsh_ctx_plan(ctx, st->ctx, empty);
        if (r < 0) {
                fwsh_ctx_unref(ctx);
                *ret_ctx = NULL;
                return r;
        }
        fwsh_ctx_set_netns_name(ctx, name);
        *ret_ctx = lfwsh_use(L, ctx);
        return 0;
}

struct fwsh_ctx *lfwsh_ctx(lua_State *L)
{
        struct lfwsh_state *st = open_state(L);
        int r;

        if (!st->ctx && (r = lfwsh_open_ctx(L, NULL, false, &st->ctx)) < 0)
                lfwsh_fail(L, NULL, r, st->plan ? "plan" : "fwsh", "netlink context");
        return lfwsh_use(L, st->ctx);
}
