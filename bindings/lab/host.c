/* host.c - fwsh.host: another host's fwsh, over ssh. The work is Lua's
 * (bindings/lua/fwsh/hosts.lua: the connection, the proxies, the record); this
 * is its name on the fwsh module. */
#include "fwsh_lua.h"

/*** fwsh.host(name, {ssh="user@addr" [, port=, identity=PATH, known_hosts=PATH,
 * fwsh="fwsh", underlay=ADDRESS, timeout=30]}) -> host: a context in which
 * fwsh's whole API runs on that host (host.bridge.add(...), host.require("fwsh.node")...),
 * over one ssh connection for the whole run to `fwsh --serve` there; calls
 * and results travel as data, what is not data stays there as a proxy. Its
 * changes there are one transaction: host:close() (or <close>, or the end of
 * a script that succeeded) keeps them, an error or a lost connection undoes
 * them. Host keys are checked. require("fwsh.hosts").host, which see */
static int l_host(lua_State *L)
{
        int n = lua_gettop(L);

        lua_getglobal(L, "require");
        lua_pushstring(L, "fwsh.hosts");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "host");
        lua_remove(L, -2);
        lua_insert(L, 1);
        lua_call(L, n, 1);
        return 1;
}

static const luaL_Reg fns[] = { { "host", l_host }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_host = { .fns = fns };
