/* bridge.c - fwsh.bridge: bridges, grounding (addressed) or not. See ip-link(8). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

static const char *const SPEC_FIELDS[] = { "up", "grounding", "address", "mac", "mtu", NULL };

/* The spec from (name, opts); the addresses to give it are left in a table at the top. */
static void read_spec(lua_State *L, struct fwsh_bridge_spec *spec)
{
        const char *known[LFWSH_KIND_FIELDS_MAX];
        const char *mac;

        spec->name = lfwsh_check_str(L, 1);
        lfwsh_check_fields(L, 2, lfwsh_kind_fields("bridge", SPEC_FIELDS, known));
        spec->up = lfwsh_opt_bool(L, 2, "up", true);
        spec->grounding = lfwsh_opt_bool(L, 2, "grounding", true);
        lfwsh_kind_opts(L, 2, "bridge", &spec->opts);
        spec->mtu = lfwsh_opt_range(L, 2, "mtu", -1, 0, UINT32_MAX);
        mac = lfwsh_opt_string(L, 2, "mac", NULL);
        spec->set_mac = mac != NULL;
        if (mac && fwsh_mac_parse(mac, spec->mac) < 0)
                luaL_argerror(L, 2, lua_pushfstring(L, "field 'mac': '%s' is not a MAC address", mac));

        lua_newtable(L);
        if (lua_isnoneornil(L, 2))
                return;
        lua_getfield(L, 2, "address");
        if (lua_type(L, -1) == LUA_TSTRING) {
                lfwsh_to_str(L, -1, 2, "field 'address'");
                lua_rawseti(L, -2, 1);
        } else if (lua_type(L, -1) == LUA_TTABLE) {
                for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
                        if (lua_type(L, -1) != LUA_TSTRING)
                                luaL_argerror(L, 2, "field 'address': a list of strings expected");
                        lfwsh_to_str(L, -1, 2, "field 'address'");
                        lua_rawseti(L, -3, i);
                }
                lua_pop(L, 2);
        } else if (!lua_isnil(L, -1)) {
                luaL_argerror(L, 2, lua_pushfstring(L, "field 'address': string or list expected, got %s",
                                                    luaL_typename(L, -1)));
        } else {
                lua_pop(L, 1);
        }
        if (!spec->grounding && luaL_len(L, -1) > 0)
                luaL_argerror(L, 2, "a non-grounding bridge has no address");
}

/* Gives the bridge the addresses in the table at t that it lacks. */
static int add_addresses(lua_State *L, struct fwsh_ctx *ctx, const char *name, int t,
                         const char **ret_bad)
{
        for (lua_Integer i = 1; lua_rawgeti(L, t, i) != LUA_TNIL; i++) {
                const char *a = lua_tostring(L, -1);
                int r = fwsh_addr_add(ctx, name, a);
                lua_pop(L, 1);
                if (r < 0 && r != -EEXIST) {
                        *ret_bad = a;
                        return r;
                }
        }
        lua_pop(L, 1);
        return 0;
}

static int make(lua_State *L, bool ensure)
{
        const char *op = ensure ? "bridge.ensure" : "bridge.add";
        struct fwsh_bridge_spec spec;
        struct lfwsh_atomic at;
        struct fwsh_ctx *ctx;
        const char *bad = NULL;
        int addrs, created, r;

        read_spec(L, &spec);
        addrs = lua_gettop(L);
        ctx = lfwsh_ctx(L);
        if (fwsh_batch_is_open(ctx) && lua_rawlen(L, addrs) > 0)
                return lfwsh_fail_detail(L, -EOPNOTSUPP, op, spec.name, "a batch makes bridges "
                                         "without addresses: add them after it");
        lfwsh_atomic_begin(L, &at);
        created = r = ensure ? fwsh_bridge_ensure(ctx, &spec) : fwsh_bridge_add(ctx, &spec);
        if (r >= 0)
                r = add_addresses(L, ctx, spec.name, addrs, &bad);
        if (r >= 0)
                r = lfwsh_atomic_commit(L, &at);
        if (r < 0) {
                char detail[FWSH_DETAIL_MAX];
                snprintf(detail, sizeof(detail), "%s", fwsh_ctx_detail(ctx));
                lfwsh_atomic_abort(L, &at);
                if (bad)
                        lua_pushfstring(L, "%s (address %s)", spec.name, bad);
                else
                        lua_pushstring(L, spec.name);
                return lfwsh_fail_detail(L, r, op, lua_tostring(L, -1), detail);
        }
        return lfwsh_return_new_link(L, ctx, spec.name, "bridge", op, ensure, created);
}

/*** fwsh.bridge.add(name [, {up=true, grounding=true, address=, mac=, mtu=, and the bridge
 * options}]) -> bridge; raises if the name is taken. The bridge options are those
 * bridge:info().bridge shows (stp=, forward_delay=, ageing_time=, ...): booleans, integers,
 * times in seconds */
static int l_add(lua_State *L)
{
        return make(L, false);
}

/*** fwsh.bridge.ensure(name [, opts]) -> bridge, created: accepts a bridge that
 * has every setting opts gives; raises on one that differs */
static int l_ensure(lua_State *L)
{
        return make(L, true);
}

static const char *check_bridge(lua_State *L, int idx, const char *op, struct fwsh_ctx **ret_ctx,
                                struct fwsh_link *ret)
{
        return lfwsh_check_kind(L, idx, "bridge", op, ret_ctx, ret);
}

/*** fwsh.bridge.get(name) -> bridge; raises if there is none or it is not a bridge */
static int l_get(lua_State *L)
{
        struct fwsh_ctx *ctx;
        struct fwsh_link l;

        lfwsh_check_str(L, 1);
        check_bridge(L, 1, "bridge.get", &ctx, &l);
        lfwsh_push_link(L, ctx, &l);
        return 1;
}

/*** fwsh.bridge.list() -> { bridge, ... } */
static int l_list(lua_State *L)
{
        return lfwsh_push_links_of_kind(L, "bridge", "bridge.list");
}

/*** bridge:ports() -> { link, ... } in ifindex order */
static int l_ports(lua_State *L)
{
        struct fwsh_ctx *ctx;
        struct fwsh_link br, *links = NULL;
        size_t n = 0, k = 0;
        const char *name = check_bridge(L, 1, "bridge.ports", &ctx, &br);

        lfwsh_check(L, ctx, fwsh_link_list(ctx, &links, &n), "bridge.ports", name);
        for (size_t i = 0; i < n; i++)
                if (links[i].master == br.ifindex)
                        links[k++] = links[i];
        lfwsh_push_link_list(L, ctx, links, k);
        free(links);
        return 1;
}

/*** bridge:attach(port, ...) -> bridge: makes each a port (brctl addif); a
 * port that is on this bridge already is fine, one on another raises */
static int l_attach(lua_State *L)
{
        struct fwsh_ctx *ctx;
        struct fwsh_link br;
        const char *name = check_bridge(L, 1, "bridge.attach", &ctx, &br);
        int top = lua_gettop(L);

        luaL_argcheck(L, top >= 2, 2, "a port to attach expected");
        name = lua_pushstring(L, name); /* keep it: the next argument may move the buffer */
        for (int i = 2; i <= top; i++)
                lfwsh_port_attach(L, ctx, name, i, "bridge.attach");
        lua_settop(L, 1);
        return 1;
}

/*** bridge:detach(port) -> bridge (brctl delif); raises if port is not on it */
static int l_detach(lua_State *L)
{
        struct fwsh_ctx *ctx;
        struct fwsh_link br;

        check_bridge(L, 1, "bridge.detach", &ctx, &br);
        luaL_checkany(L, 2);
        lfwsh_port_detach(L, 2, "bridge.detach", ctx, &br);
        lua_settop(L, 1);
        return 1;
}

/*** bridge:grounding() -> grounding (boolean), why (table: why, ipv4_addrs,
 * ipv6_addrs, routes, ipv6_enabled) */
static int l_grounding(lua_State *L)
{
        struct fwsh_ctx *ctx;
        struct fwsh_grounding g;
        struct fwsh_link br;
        const char *name = check_bridge(L, 1, "bridge.grounding", &ctx, &br);

        lfwsh_check(L, ctx, fwsh_bridge_grounding(ctx, name, &g), "bridge.grounding", name);
        lua_pushboolean(L, g.grounding);
        lua_createtable(L, 0, 5);
        lua_pushstring(L, g.why);
        lua_setfield(L, -2, "why");
        lua_pushinteger(L, g.ipv4_addrs);
        lua_setfield(L, -2, "ipv4_addrs");
        lua_pushinteger(L, g.ipv6_addrs);
        lua_setfield(L, -2, "ipv6_addrs");
        lua_pushinteger(L, g.routes);
        lua_setfield(L, -2, "routes");
        lua_pushboolean(L, g.ipv6_enabled);
        lua_setfield(L, -2, "ipv6_enabled");
        return 2;
}

static const luaL_Reg methods[] = {
        { "ports", l_ports },   { "attach", l_attach },       { "detach", l_detach },
        { "grounding", l_grounding }, { NULL, NULL },
};

static const luaL_Reg fns[] = {
        { "add", l_add }, { "ensure", l_ensure }, { "get", l_get }, { "list", l_list },
        { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_bridge = {
        .field = "bridge", .fns = fns, .kind = "bridge", .methods = methods,
};
