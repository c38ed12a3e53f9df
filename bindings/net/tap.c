/* tap.c - fwsh.tap: persistent taps for qemu (-netdev tap,ifname=NAME,script=no). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

/* and the tap's option rows (owner, group, multi_queue, vnet_hdr...) */
static const char *const SPEC_FIELDS[] = { "up", "bridge", "mtu", NULL };

/* opts.bridge: a name, or a handle, whose ifindex goes to core as it is (the
 * kernel refuses a stale one when the tap is attached). */
static const char *opt_bridge(lua_State *L, int t, int *ret_ifindex)
{
        const char *name = NULL;
        struct lfwsh_link *h;

        *ret_ifindex = 0;
        if (lua_isnoneornil(L, t))
                return NULL;
        lua_getfield(L, t, "bridge");
        if ((h = lfwsh_to_link(L, -1))) {
                if (h->deleted || !h->ctx)
                        luaL_error(L, "attempt to use a deleted %s", h->kind[0] ? h->kind : "link");
                if (!fwsh_ctx_same_netns(h->ctx, lfwsh_ctx(L)))
                        luaL_argerror(L, t, lua_pushfstring(L, "field 'bridge': %s lives in another "
                                                            "namespace", h->name));
                *ret_ifindex = h->ifindex;
                if (h->ifindex == 0) /* a bridge the open batch makes */
                        name = h->name;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
                name = lfwsh_field_str(L, -1, t, "bridge");
        } else if (!lua_isnil(L, -1)) {
                luaL_argerror(L, t, lua_pushfstring(L, "field 'bridge': name or bridge expected, got %s",
                                                    luaL_typename(L, -1)));
        }
        lua_pop(L, 1); /* the table keeps the name alive */
        return name;
}

static int make(lua_State *L, bool ensure)
{
        const char *op = ensure ? "tap.ensure" : "tap.add";
        const char *known[LFWSH_KIND_FIELDS_MAX];
        struct fwsh_tap_spec spec;
        struct fwsh_ctx *ctx;
        int r;

        spec.name = lfwsh_check_str(L, 1);
        lfwsh_check_fields(L, 2, lfwsh_kind_fields("tap", SPEC_FIELDS, known));
        lfwsh_kind_opts(L, 2, "tap", &spec.opts);
        spec.up = lfwsh_opt_bool(L, 2, "up", true);
        spec.mtu = lfwsh_opt_range(L, 2, "mtu", -1, 0, UINT32_MAX);
        spec.bridge = opt_bridge(L, 2, &spec.bridge_ifindex);
        ctx = lfwsh_ctx(L);
        r = lfwsh_check(L, ctx, ensure ? fwsh_tap_ensure(ctx, &spec) : fwsh_tap_add(ctx, &spec),
                        op, spec.name);
        return lfwsh_return_new_link(L, ctx, spec.name, "tap", op, ensure, r);
}

/*** fwsh.tap.add(name [, {owner=, group=, multi_queue=false, vnet_hdr=false, up=true,
 * bridge=, mtu=}]) -> tap; owner and group are ids or names; raises if the name is taken */
static int l_add(lua_State *L)
{
        return make(L, false);
}

/*** fwsh.tap.ensure(name [, opts]) -> tap, created */
static int l_ensure(lua_State *L)
{
        return make(L, true);
}

/*** fwsh.tap.get(name) -> tap; raises if there is none or it is not a tap */
static int l_get(lua_State *L)
{
        struct fwsh_ctx *ctx;
        struct fwsh_link l;

        lfwsh_check_str(L, 1);
        lfwsh_check_kind(L, 1, "tap", "tap.get", &ctx, &l);
        lfwsh_push_link(L, ctx, &l);
        return 1;
}

/*** fwsh.tap.list() -> { tap, ... } */
static int l_list(lua_State *L)
{
        return lfwsh_push_links_of_kind(L, "tap", "tap.list");
}

static const luaL_Reg fns[] = {
        { "add", l_add }, { "ensure", l_ensure }, { "get", l_get }, { "list", l_list },
        { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_tap = { .field = "tap", .fns = fns, .kind = "tap" };
