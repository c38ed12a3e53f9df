/* brnf.c - fwsh.brnf: the br_netfilter switches of the namespace the session
 * works in (net.bridge.bridge-nf-call-iptables, -ip6tables, -arptables). */
#include <string.h>

#include "fwsh_lua.h"

static enum fwsh_brnf which_arg(lua_State *L, int idx)
{
        const char *name = lfwsh_check_str(L, idx);

        for (int i = 0; i < FWSH_BRNF_COUNT; i++)
                if (strcmp(name, fwsh_brnf_name(i)) == 0)
                        return i;
        return luaL_argerror(L, idx, lua_pushfstring(L, "'%s': iptables, ip6tables or arptables expected",
                                                     name)), FWSH_BRNF_COUNT;
}

static bool get(lua_State *L, struct fwsh_ctx *ctx, enum fwsh_brnf which)
{
        bool on = false;

        lfwsh_check(L, ctx, fwsh_brnf_get(ctx, which, &on), "brnf.get", fwsh_brnf_name(which));
        return on;
}

/*** fwsh.brnf.get([which]) -> on (boolean) for which ("iptables", "ip6tables",
 * "arptables"), or without which {iptables=, ip6tables=, arptables=}; raises
 * "br_netfilter is not loaded" when the namespace has no /proc/sys/net/bridge */
static int l_get(lua_State *L)
{
        struct fwsh_ctx *ctx = lfwsh_ctx(L);

        if (!lua_isnoneornil(L, 1)) {
                lua_pushboolean(L, get(L, ctx, which_arg(L, 1)));
                return 1;
        }
        lua_createtable(L, 0, FWSH_BRNF_COUNT);
        for (int i = 0; i < FWSH_BRNF_COUNT; i++) {
                lua_pushboolean(L, get(L, ctx, i));
                lua_setfield(L, -2, fwsh_brnf_name(i));
        }
        return 1;
}

static bool set(lua_State *L, struct fwsh_ctx *ctx, enum fwsh_brnf which, bool on)
{
        return lfwsh_check(L, ctx, fwsh_brnf_set(ctx, which, on), "brnf.set", fwsh_brnf_name(which)) > 0;
}

/*** fwsh.brnf.set(which, on) -> changed; fwsh.brnf.set{iptables=, ip6tables=,
 * arptables=} -> {which = changed, ...}: turns the switches on or off (in a
 * transaction, undone on rollback) */
static int l_set(lua_State *L)
{
        static const char *const fields[] = { "iptables", "ip6tables", "arptables", NULL };
        struct fwsh_ctx *ctx;

        if (lua_istable(L, 1)) {
                lfwsh_check_fields(L, 1, fields);
                ctx = lfwsh_ctx(L);
                lua_createtable(L, 0, FWSH_BRNF_COUNT);
                for (int i = 0; i < FWSH_BRNF_COUNT; i++) {
                        lua_getfield(L, 1, fwsh_brnf_name(i));
                        if (lua_isnil(L, -1)) {
                                lua_pop(L, 1);
                                continue;
                        }
                        lua_pop(L, 1);
                        lua_pushboolean(L, set(L, ctx, i, lfwsh_opt_bool(L, 1, fwsh_brnf_name(i), false)));
                        lua_setfield(L, -2, fwsh_brnf_name(i));
                }
                return 1;
        }
        enum fwsh_brnf which = which_arg(L, 1);
        luaL_checktype(L, 2, LUA_TBOOLEAN);
        ctx = lfwsh_ctx(L);
        lua_pushboolean(L, set(L, ctx, which, lua_toboolean(L, 2)));
        return 1;
}

static const luaL_Reg fns[] = { { "get", l_get }, { "set", l_set }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_brnf = { .field = "brnf", .fns = fns };
