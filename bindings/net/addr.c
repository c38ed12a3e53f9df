/* addr.c - fwsh.addr: IPv4 and IPv6 addresses on links. See ip-address(8). */
#include <errno.h>
#include <stdlib.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "fwsh_lua.h"

static int change(lua_State *L, const char *op, bool add, bool ensure)
{
        struct fwsh_ctx *ctx;
        const char *link = lfwsh_link_arg(L, 1, op, &ctx);
        const char *addr = lfwsh_check_str(L, 2);
        int r = add ? fwsh_addr_add(ctx, link, addr) : fwsh_addr_delete(ctx, link, addr);

        if (ensure && r == -EEXIST) {
                lua_pushboolean(L, 0);
                return 1;
        }
        lfwsh_check(L, ctx, r, op, lua_pushfstring(L, addr[0] ? "%s dev %s" : "'%s' dev %s", addr, link));
        lua_pushboolean(L, 1);
        return 1;
}

/*** fwsh.addr.add(link, "10.0.0.1/24") -> true; raises if the link has it already */
static int l_add(lua_State *L)
{
        return change(L, "addr.add", true, false);
}

/*** fwsh.addr.ensure(link, addr) -> added (false if it was there) */
static int l_ensure(lua_State *L)
{
        return change(L, "addr.ensure", true, true);
}

/*** fwsh.addr.delete(link, addr) -> true; raises if the link does not have it */
static int l_delete(lua_State *L)
{
        return change(L, "addr.delete", false, false);
}

static const char *scope_name(uint8_t s)
{
        switch (s) {
        case RT_SCOPE_UNIVERSE: return "global";
        case RT_SCOPE_SITE: return "site";
        case RT_SCOPE_LINK: return "link";
        case RT_SCOPE_HOST: return "host";
        default: return "(unknown)";
        }
}

/*** fwsh.addr.list([link]) -> { {address="10.0.0.1/24", family="inet"|"inet6",
 * scope="global"|"link"|"host", ifindex=N}, ... } */
static int l_list(lua_State *L)
{
        struct fwsh_ctx *ctx;
        const char *link = NULL;
        struct fwsh_addr *v = NULL;
        size_t n = 0;
        int r;

        if (lua_isnoneornil(L, 1))
                ctx = lfwsh_ctx(L);
        else
                link = lfwsh_link_arg(L, 1, "addr.list", &ctx);
        r = fwsh_addr_list(ctx, link, &v, &n);
        lfwsh_check(L, ctx, r, "addr.list", link ? link : "*");
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
                lua_createtable(L, 0, 4);
                lua_pushstring(L, v[i].text);
                lua_setfield(L, -2, "address");
                lua_pushstring(L, v[i].family == AF_INET ? "inet" : "inet6");
                lua_setfield(L, -2, "family");
                lua_pushstring(L, scope_name(v[i].scope));
                lua_setfield(L, -2, "scope");
                lua_pushinteger(L, v[i].ifindex);
                lua_setfield(L, -2, "ifindex");
                lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        free(v);
        return 1;
}

static const luaL_Reg fns[] = {
        { "add", l_add }, { "ensure", l_ensure }, { "delete", l_delete }, { "list", l_list },
        { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_addr = { .field = "addr", .fns = fns };
