/* vxlan.c - fwsh.vxlan: VXLAN links, a bridge's segment carried to another
 * host (fwsh.hosts.stretch makes a pair and their ports). */
#include "fwsh_lua.h"

/* and the VXLAN's option rows (id, dstport, learning...) */
static const char *const SPEC_FIELDS[] = { "local", "remote", "dev", "mtu", "up", NULL };

static int make(lua_State *L, bool ensure)
{
        const char *op = ensure ? "vxlan.ensure" : "vxlan.add";
        const char *known[LFWSH_KIND_FIELDS_MAX];
        struct fwsh_vxlan_spec spec = { 0 };
        struct fwsh_ctx *ctx;
        int r;

        spec.name = lfwsh_check_str(L, 1);
        luaL_checktype(L, 2, LUA_TTABLE);
        lfwsh_check_fields(L, 2, lfwsh_kind_fields("vxlan", SPEC_FIELDS, known));
        if (lua_getfield(L, 2, "id") == LUA_TNIL)
                return luaL_argerror(L, 2, "id (the VNI, 1 to 16777215) is needed");
        lua_pop(L, 1);
        lfwsh_kind_opts(L, 2, "vxlan", &spec.opts);
        spec.local = lfwsh_opt_string(L, 2, "local", NULL);
        spec.remote = lfwsh_opt_string(L, 2, "remote", NULL);
        spec.dev = lfwsh_opt_string(L, 2, "dev", NULL);
        spec.mtu = lfwsh_opt_range(L, 2, "mtu", -1, 68, 65535); /* absent: -1, the kernel's default */
        spec.up = lfwsh_opt_bool(L, 2, "up", true);
        ctx = lfwsh_ctx(L);
        r = lfwsh_check(L, ctx, ensure ? fwsh_vxlan_ensure(ctx, &spec) : fwsh_vxlan_add(ctx, &spec),
                        op, spec.name);
        return lfwsh_return_new_link(L, ctx, spec.name, "vxlan", op, ensure, r);
}

/*** fwsh.vxlan.add(name, {id=VNI [, local=ADDRESS, remote=ADDRESS, dev=LINK, mtu=, up=true,
 * and the VXLAN options]}) -> vxlan: a VXLAN link (ip-link(8) "type vxlan"):
 * id, the VNI (1 to 16777215); local, the outer packets' source; remote, the
 * peer (or a multicast group), IPv4 or IPv6 as local; dev, the underlay's
 * link. mtu: by default the kernel's, dev's MTU less the outer headers (50
 * bytes over IPv4, 70 over IPv6; 1450 without dev): a bridge it joins takes
 * the smallest MTU of its ports. The VXLAN options are those
 * vxlan:info().vxlan shows (id, dstport=4789, learning=true, ...) */
static int l_add(lua_State *L)
{
        return make(L, false);
}

/*** fwsh.vxlan.ensure(name, opts) -> vxlan, created: accepts a VXLAN that exists
 * with every setting opts gives (its id, local, remote, dev, mtu, and dstport
 * 4789 when not given), raises if one differs */
static int l_ensure(lua_State *L)
{
        return make(L, true);
}

static const luaL_Reg fns[] = { { "add", l_add }, { "ensure", l_ensure }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_vxlan = { .field = "vxlan", .fns = fns, .kind = "vxlan" };
