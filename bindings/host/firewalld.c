/* firewalld.c - fwsh.firewalld: interfaces in firewalld's zones, runtime and
 * permanent, asked of firewalld over D-Bus. See firewall-cmd(1), firewalld.dbus(5). */
#include <errno.h>
#include <stdlib.h>

#include "fwsh_lua.h"

static const char *const CHANGE_FIELDS[] = { "runtime", "permanent", "move", "bus", NULL };
static const char *const QUERY_FIELDS[] = { "permanent", "bus", NULL };

/* Connects to firewalld on opts.bus (default: the system bus); raises with op
 * and object if it cannot. The connection is closed before any later raise. */
static struct fwsh_firewalld *open_fw(lua_State *L, int opts, const char *op, const char *object,
                                      struct fwsh_ctx **ret_ctx)
{
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_firewalld *fw = NULL;

        lfwsh_check(L, ctx, fwsh_firewalld_open(ctx, lfwsh_opt_string(L, opts, "bus", NULL), &fw), op, object);
        *ret_ctx = ctx;
        return fw;
}

static unsigned query_scope(lua_State *L, int opts)
{
        lfwsh_check_fields(L, opts, QUERY_FIELDS);
        return lfwsh_opt_bool(L, opts, "permanent", false) ? FWSH_FIREWALLD_PERMANENT : FWSH_FIREWALLD_RUNTIME;
}

/*** fwsh.firewalld.running([{bus=}]) -> true, or false and why ("firewalld is
 * not running: ...", "no D-Bus bus at ...") */
static int l_running(lua_State *L)
{
        static const char *const fields[] = { "bus", NULL };
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_firewalld *fw = NULL;
        int r;

        lfwsh_check_fields(L, 1, fields);
        r = fwsh_firewalld_open(ctx, lfwsh_opt_string(L, 1, "bus", NULL), &fw);
        fwsh_firewalld_close(fw);
        lua_pushboolean(L, r == 0);
        if (r == 0)
                return 1;
        lua_pushstring(L, fwsh_ctx_detail(ctx));
        return 2;
}

static int change(lua_State *L, bool add)
{
        const char *op = add ? "firewalld.add" : "firewalld.remove";
        const char *zone = lfwsh_check_str(L, 1), *iface = lfwsh_check_str(L, 2), *object;
        struct fwsh_firewalld *fw;
        struct fwsh_ctx *ctx;
        unsigned scopes = 0;
        bool move;
        int r;

        lfwsh_check_fields(L, 3, CHANGE_FIELDS);
        if (lfwsh_opt_bool(L, 3, "runtime", true))
                scopes |= FWSH_FIREWALLD_RUNTIME;
        if (lfwsh_opt_bool(L, 3, "permanent", false))
                scopes |= FWSH_FIREWALLD_PERMANENT;
        move = lfwsh_opt_bool(L, 3, "move", false);
        if (!add && move)
                luaL_argerror(L, 3, "unknown option 'move'");
        object = lua_pushfstring(L, add ? "%s to %s" : "%s from %s", iface, zone);
        fw = open_fw(L, 3, op, object, &ctx);
        r = add ? fwsh_firewalld_add(ctx, fw, zone, iface, scopes, move)
                : fwsh_firewalld_remove(ctx, fw, zone, iface, scopes);
        fwsh_firewalld_close(fw);
        lfwsh_check(L, ctx, r, op, object);
        lua_createtable(L, 0, 2);
        if (scopes & FWSH_FIREWALLD_RUNTIME) {
                lua_pushboolean(L, r & FWSH_FIREWALLD_RUNTIME);
                lua_setfield(L, -2, "runtime");
        }
        if (scopes & FWSH_FIREWALLD_PERMANENT) {
                lua_pushboolean(L, r & FWSH_FIREWALLD_PERMANENT);
                lua_setfield(L, -2, "permanent");
        }
        return 1;
}

/*** fwsh.firewalld.add(zone, iface [, {runtime=true, permanent=false, move=false,
 * bus=}]) -> {runtime = changed, permanent = changed}: puts iface in zone
 * (firewall-cmd --zone=ZONE --add-interface=IFACE [--permanent]); one in
 * another zone raises (naming it) unless move */
static int l_add(lua_State *L)
{
        return change(L, true);
}

/*** fwsh.firewalld.remove(zone, iface [, {runtime=true, permanent=false, bus=}])
 * -> {runtime = changed, permanent = changed} */
static int l_remove(lua_State *L)
{
        return change(L, false);
}

/*** fwsh.firewalld.interfaces(zone [, {permanent=false, bus=}]) -> { iface, ... } sorted */
static int l_interfaces(lua_State *L)
{
        const char *zone = lfwsh_check_str(L, 1);
        unsigned scope = query_scope(L, 2);
        struct fwsh_ctx *ctx;
        struct fwsh_firewalld *fw = open_fw(L, 2, "firewalld.interfaces", zone, &ctx);
        char **v = NULL;
        size_t n = 0;
        int r = fwsh_firewalld_interfaces(ctx, fw, zone, scope, &v, &n);

        fwsh_firewalld_close(fw);
        lfwsh_check(L, ctx, r, "firewalld.interfaces", zone);
        lfwsh_push_strv(L, v, n);
        fwsh_strv_free(v, n);
        return 1;
}

/*** fwsh.firewalld.zone_of(iface [, {permanent=false, bus=}]) -> zone, or nil if in none */
static int l_zone_of(lua_State *L)
{
        const char *iface = lfwsh_check_str(L, 1);
        unsigned scope = query_scope(L, 2);
        struct fwsh_ctx *ctx;
        struct fwsh_firewalld *fw = open_fw(L, 2, "firewalld.zone_of", iface, &ctx);
        char *zone = NULL;
        int r = fwsh_firewalld_zone_of(ctx, fw, iface, scope, &zone);

        fwsh_firewalld_close(fw);
        lfwsh_check(L, ctx, r, "firewalld.zone_of", iface);
        if (zone)
                lua_pushstring(L, zone);
        else
                lua_pushnil(L);
        free(zone);
        return 1;
}

static const luaL_Reg fns[] = {
        { "running", l_running },       { "add", l_add },         { "remove", l_remove },
        { "interfaces", l_interfaces }, { "zone_of", l_zone_of }, { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_firewalld = { .field = "firewalld", .fns = fns };
