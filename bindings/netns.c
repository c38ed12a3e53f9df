/* netns.c - fwsh.netns: named network namespaces, and running Lua inside one. */
#include <errno.h>
#include <unistd.h>

#include "fwsh_lua.h"

/*** fwsh.netns.add(name) -> true; raises if it exists (ip netns add) */
static int l_add(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);

        lfwsh_check(L, ctx, fwsh_netns_add(ctx, name), "netns.add", name);
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.netns.ensure(name) -> created */
static int l_ensure(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        int r;

        lfwsh_check(L, ctx, fwsh_netns_check(ctx, name), "netns.ensure", name);
        if (fwsh_netns_exists(name)) {
                lua_pushboolean(L, 0);
                return 1;
        }
        r = fwsh_netns_add(ctx, name);
        lfwsh_check(L, ctx, r, "netns.ensure", name);
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.netns.delete(name) -> true (ip netns delete) */
static int l_delete(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);

        lfwsh_check(L, ctx, fwsh_netns_delete(ctx, name), "netns.delete", name);
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.netns.exists(name) -> boolean */
static int l_exists(lua_State *L)
{
        lua_pushboolean(L, fwsh_netns_exists(luaL_checkstring(L, 1)));
        return 1;
}

/*** fwsh.netns.list() -> { name, ... } sorted */
static int l_list(lua_State *L)
{
        char **names = NULL;
        size_t n = 0;
        int r = fwsh_netns_list(&names, &n);

        lfwsh_check(L, NULL, r, "netns.list", "/run/netns");
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
                lua_pushstring(L, names[i]);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        fwsh_strv_free(names, n);
        return 1;
}

/*** fwsh.netns.run(name, fn, ...) -> fn's results: calls fn with the calling
 * thread inside the namespace (fwsh calls, /proc/sys, processes it starts) and
 * always comes back, also when fn raises (the error goes on, unchanged). */
static int l_run(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);
        const char *name = luaL_checkstring(L, 1);
        struct fwsh_ctx *outer = lfwsh_ctx(L), *inner = NULL;
        int fd, saved, r, status, base;

        luaL_checktype(L, 2, LUA_TFUNCTION);
        lfwsh_check(L, outer, fwsh_netns_open(outer, name, &fd), "netns.run", name);
        r = fwsh_netns_enter(fd, &saved);
        close(fd);
        if (r < 0)
                lfwsh_fail_detail(L, r, "netns.run", name, r == -EPERM ? "needs CAP_SYS_ADMIN" : NULL);
        r = fwsh_ctx_open(&inner);
        if (r < 0) {
                fwsh_netns_leave(saved);
                lfwsh_fail(L, NULL, r, "netns.run", name);
        }
        st->ctx = inner;
        base = 2;
        status = lua_pcall(L, lua_gettop(L) - base, LUA_MULTRET, 0);
        /* fn is gone: the stack holds name, then results or the error. */
        st->ctx = outer;
        fwsh_ctx_unref(inner);
        r = fwsh_netns_leave(saved);
        if (status != LUA_OK)
                return lua_error(L);
        if (r < 0)
                lfwsh_fail_detail(L, r, "netns.run", name, "cannot return to the namespace it left");
        return lua_gettop(L) - 1;
}

int lfwsh_open_netns(lua_State *L)
{
        static const luaL_Reg fns[] = {
                { "add", l_add },       { "ensure", l_ensure }, { "delete", l_delete },
                { "exists", l_exists }, { "list", l_list },     { "run", l_run },
                { NULL, NULL },
        };

        luaL_newlib(L, fns);
        return 1;
}
