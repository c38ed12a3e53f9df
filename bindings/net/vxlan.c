/* vxlan.c - fwsh.vxlan: VXLAN links, a bridge's segment carried to another
 * host (fwsh.hosts.stretch makes a pair and their ports). */
#include "fwsh_lua.h"

/*** fwsh.vxlan.add(name, {id=VNI [, local=ADDRESS, remote=ADDRESS, dstport=4789,
 * dev=LINK, mtu=, learning=true, up=true]}) -> vxlan: a VXLAN link (ip-link(8)
 * "type vxlan"): id, the VNI (1 to 16777215); local, the outer packets'
 * source; remote, the peer (or a multicast group), IPv4 or IPv6 as local;
 * dev, the underlay's link. mtu: by default the kernel's, dev's MTU less the
 * outer headers (50 bytes over IPv4, 70 over IPv6; 1450 without dev): a
 * bridge it joins takes the smallest MTU of its ports */
static int l_add(lua_State *L)
{
        static const char *const known[] = { "id", "local", "remote", "dstport", "dev", "mtu", "learning", "up",
                                             NULL };
        struct fwsh_vxlan_spec spec = { 0 };
        struct fwsh_ctx *ctx;
        lua_Integer id, port, mtu;

        spec.name = lfwsh_check_str(L, 1);
        luaL_checktype(L, 2, LUA_TTABLE);
        lfwsh_check_fields(L, 2, known);
        if (lua_getfield(L, 2, "id") == LUA_TNIL)
                return luaL_argerror(L, 2, "id (the VNI, 1 to 16777215) is needed");
        lua_pop(L, 1);
        id = lfwsh_opt_range(L, 2, "id", 0, 0, 0xffffffffLL);
        spec.id = (uint32_t)id;
        spec.local = lfwsh_opt_string(L, 2, "local", NULL);
        spec.remote = lfwsh_opt_string(L, 2, "remote", NULL);
        spec.dev = lfwsh_opt_string(L, 2, "dev", NULL);
        port = lfwsh_opt_range(L, 2, "dstport", 4789, 1, 65535);
        spec.dstport = (uint16_t)port;
        mtu = lfwsh_opt_range(L, 2, "mtu", -1, 68, 65535); /* absent: -1, the kernel's default */
        spec.mtu = mtu;
        spec.learning = lfwsh_opt_bool(L, 2, "learning", true);
        spec.up = lfwsh_opt_bool(L, 2, "up", true);
        ctx = lfwsh_ctx(L);
        lfwsh_check(L, ctx, fwsh_vxlan_add(ctx, &spec), "vxlan.add", spec.name);
        lfwsh_push_new_link(L, ctx, spec.name, "vxlan", "vxlan.add", true);
        return 1;
}

static const luaL_Reg fns[] = { { "add", l_add }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_vxlan = { .field = "vxlan", .fns = fns, .kind = "vxlan" };
