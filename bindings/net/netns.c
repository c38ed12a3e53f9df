/* netns.c - fwsh.netns: named network namespaces, and running Lua inside one. */
#include <errno.h>
#include <unistd.h>

#include "fwsh_lua.h"

/*** fwsh.netns.add(name) -> true; raises if it exists (ip netns add) */
static int l_add(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);

        lfwsh_check(L, ctx, fwsh_netns_add(ctx, name), "netns.add", name);
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.netns.ensure(name) -> created */
static int l_ensure(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        int r;

        lfwsh_check(L, ctx, fwsh_netns_check(ctx, name), "netns.ensure", name);
        if (fwsh_netns_exists(ctx, name)) {
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
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);

        lfwsh_check(L, ctx, fwsh_netns_delete(ctx, name), "netns.delete", name);
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.netns.id(name) -> integer: the namespace's identity, its cookie
 * (SO_NETNS_COOKIE), which no namespace made later under the name has; 0 in
 * a plan (--dry-run) */
static int l_id(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        uint64_t id;

        lfwsh_check(L, ctx, fwsh_netns_id(ctx, name, &id), "netns.id", name);
        lua_pushinteger(L, (lua_Integer)id);
        return 1;
}

/*** fwsh.netns.delete_made(name, id) -> deleted: deletes the namespace called
 * name if it is still the one fwsh.netns.id gave id for; false, and nothing
 * done, if it is gone or another's (0: whatever has the name) */
static int l_delete_made(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        lua_Integer id = luaL_checkinteger(L, 2);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        int r;

        luaL_argcheck(L, id >= 0, 2, "an id from fwsh.netns.id");
        r = fwsh_netns_delete_made(ctx, name, (uint64_t)id);
        lfwsh_check(L, ctx, r < 0 ? r : 0, "netns.delete_made", name);
        lua_pushboolean(L, r > 0);
        return 1;
}

/*** fwsh.netns.exists(name) -> boolean */
static int l_exists(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);

        lua_pushboolean(L, fwsh_netns_exists(lfwsh_ctx(L), name));
        return 1;
}

/*** fwsh.netns.list() -> { name, ... } sorted */
static int l_list(lua_State *L)
{
        char **names = NULL;
        size_t n = 0;
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        int r = fwsh_netns_list(ctx, &names, &n);

        lfwsh_check(L, ctx, r, "netns.list", "/run/netns");
        lfwsh_push_strv(L, names, n);
        fwsh_strv_free(names, n);
        return 1;
}

/*** fwsh.netns.run(name, fn, ...) -> fn's results: calls fn with the calling
 * thread inside the namespace (fwsh calls, /proc/sys, processes it starts) and
 * always comes back, also when fn raises (the error goes on, unchanged). */
static int l_run(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *outer = lfwsh_ctx(L), *inner = NULL;
        bool real;
        int fd, saved = -1, r, status;

        luaL_checktype(L, 2, LUA_TFUNCTION);
        lfwsh_check(L, outer, fwsh_netns_check(outer, name), "netns.run", name);
        if (!fwsh_netns_exists(outer, name))
                lfwsh_fail_detail(L, -ENOENT, "netns.run", name, "no such namespace");
        /* A dry run reads a namespace that exists, and models one it only planned. */
        real = !st->plan || fwsh_netns_exists(NULL, name);
        if (real) {
                lfwsh_check(L, outer, fwsh_netns_open(outer, name, &fd), "netns.run", name);
                r = fwsh_netns_enter(fd, &saved);
                close(fd);
                if (r < 0)
                        lfwsh_fail_detail(L, r, "netns.run", name,
                                          r == -EPERM ? "needs CAP_SYS_ADMIN" : NULL);
        }
        r = lfwsh_open_ctx(L, name, !real, &inner);
        if (saved >= 0 && (r < 0 || st->plan)) {
                /* A plan has read what it needs: fn runs where it was. */
                fwsh_netns_leave(saved);
                saved = -1;
        }
        if (r < 0)
                lfwsh_fail(L, inner, r, "netns.run", name);
        st->ctx = inner;
        status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
        /* fn is gone: the stack holds name, then results or the error. */
        st->ctx = outer;
        fwsh_ctx_unref(inner);
        r = saved >= 0 ? fwsh_netns_leave(saved) : 0;
        if (status != LUA_OK)
                return lua_error(L);
        if (r < 0)
                lfwsh_fail_detail(L, r, "netns.run", name, "cannot return to the namespace it left");
        return lua_gettop(L) - 1;
}

static const luaL_Reg fns[] = {
        { "add", l_add },       { "ensure", l_ensure }, { "delete", l_delete },
        { "exists", l_exists }, { "list", l_list },     { "run", l_run },
        { "id", l_id },         { "delete_made", l_delete_made },
        { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_netns = { .field = "netns", .fns = fns };
