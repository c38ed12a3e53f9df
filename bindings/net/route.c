/* route.c - fwsh.route: routes, main table unless told. See ip-route(8). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "fwsh_lua.h"

struct route_args {
        const char *dst, *via, *dev;
        uint32_t metric, table;
};

static uint32_t opt_table(lua_State *L, int t, bool all_ok)
{
        uint32_t table = 0;

        lua_getfield(L, t, "table");
        if (lua_type(L, -1) == LUA_TSTRING) {
                const char *s = lfwsh_to_str(L, -1, t, "field 'table'");
                if (strcmp(s, "main") == 0)
                        table = RT_TABLE_MAIN;
                else if (strcmp(s, "local") == 0)
                        table = RT_TABLE_LOCAL;
                else if (all_ok && strcmp(s, "all") == 0)
                        table = 0;
                else
                        luaL_argerror(L, t, lua_pushfstring(L, "field 'table': unknown table '%s'", s));
        } else if (!lua_isnil(L, -1)) {
                table = (uint32_t)lfwsh_opt_range(L, t, "table", RT_TABLE_MAIN, 1, UINT32_MAX);
        } else {
                table = all_ok ? 0 : RT_TABLE_MAIN;
        }
        lua_pop(L, 1);
        return table;
}

/* Field dev of the table at t, a name or a link handle (left on the stack);
 * NULL if absent. */
static const char *opt_dev(lua_State *L, int t, const char *op, struct fwsh_ctx **ret_ctx)
{
        lua_getfield(L, t, "dev");
        if (lua_isnil(L, -1))
                return NULL;
        if (lua_type(L, -1) == LUA_TSTRING)
                lfwsh_field_str(L, -1, t, "dev"); /* a zero byte named here, not as argument #N */
        else if (!lfwsh_to_link(L, -1))
                luaL_argerror(L, t, lua_pushfstring(L, "field 'dev': name or link expected, got %s",
                                                    luaL_typename(L, -1)));
        return lfwsh_link_arg(L, lua_gettop(L), op, ret_ctx);
}

static void read_args(lua_State *L, const char *op, struct route_args *a, struct fwsh_ctx **ret_ctx)
{
        static const char *const known[] = { "dst", "via", "dev", "metric", "table", NULL };
        lua_Integer metric;

        luaL_checktype(L, 1, LUA_TTABLE);
        lfwsh_check_fields(L, 1, known);
        a->dst = lfwsh_opt_string(L, 1, "dst", NULL);
        if (!a->dst)
                luaL_argerror(L, 1, "field 'dst' (a prefix or \"default\") expected");
        a->via = lfwsh_opt_string(L, 1, "via", NULL);
        a->dev = opt_dev(L, 1, op, ret_ctx);
        if (!a->dev)
                *ret_ctx = lfwsh_ctx(L);
        if (!a->via && !a->dev)
                luaL_argerror(L, 1, "a route needs 'via' or 'dev'");
        metric = lfwsh_opt_range(L, 1, "metric", 0, 0, UINT32_MAX);
        a->metric = (uint32_t)metric;
        a->table = opt_table(L, 1, false);
}

static int change(lua_State *L, const char *op, bool add, bool ensure)
{
        struct route_args a;
        struct fwsh_ctx *ctx;
        int r;

        read_args(L, op, &a, &ctx);
        r = add ? fwsh_route_add(ctx, a.dst, a.via, a.dev, a.metric, a.table)
                : fwsh_route_delete(ctx, a.dst, a.via, a.dev, a.metric, a.table);
        if (ensure && r == -EEXIST) {
                lua_pushboolean(L, 0);
                return 1;
        }
        lfwsh_check(L, ctx, r, op, a.dst);
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.route.add{dst="10.1.0.0/24"|"default", via=, dev=, metric=, table=} -> true */
static int l_add(lua_State *L)
{
        return change(L, "route.add", true, false);
}

/*** fwsh.route.ensure{...} -> added (false if it was there) */
static int l_ensure(lua_State *L)
{
        return change(L, "route.ensure", true, true);
}

/*** fwsh.route.delete{...} -> true */
static int l_delete(lua_State *L)
{
        return change(L, "route.delete", false, false);
}

/*** fwsh.route.list{dev=, table="main"|"local"|"all"|N} -> { {dst=, via=, dev=,
 * metric=, table=, family=}, ... }; unicast routes, every table unless told */
static int l_list(lua_State *L)
{
        static const char *const known[] = { "dev", "table", NULL };
        struct fwsh_ctx *ctx = NULL;
        struct fwsh_route *v = NULL;
        const char *dev = NULL;
        uint32_t table = 0;
        size_t n = 0;

        lfwsh_check_fields(L, 1, known);
        if (!lua_isnoneornil(L, 1)) {
                dev = opt_dev(L, 1, "route.list", &ctx);
                table = opt_table(L, 1, true);
        }
        if (!ctx)
                ctx = lfwsh_ctx(L);
        lfwsh_check(L, ctx, fwsh_route_list(ctx, dev, table, &v, &n), "route.list", dev ? dev : "*");
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
                lua_createtable(L, 0, 6);
                lua_pushstring(L, v[i].dst);
                lua_setfield(L, -2, "dst");
                if (v[i].via[0]) {
                        lua_pushstring(L, v[i].via);
                        lua_setfield(L, -2, "via");
                }
                if (v[i].dev[0]) {
                        lua_pushstring(L, v[i].dev);
                        lua_setfield(L, -2, "dev");
                }
                lua_pushinteger(L, v[i].metric);
                lua_setfield(L, -2, "metric");
                lua_pushinteger(L, v[i].table);
                lua_setfield(L, -2, "table");
                lua_pushstring(L, v[i].family == AF_INET ? "inet" : "inet6");
                lua_setfield(L, -2, "family");
                lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        free(v);
        return 1;
}

static const luaL_Reg fns[] = {
        { "add", l_add }, { "ensure", l_ensure }, { "delete", l_delete }, { "list", l_list },
        { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_route = { .field = "route", .fns = fns };
