/* run.c - running a chunk as lua.c's docall does: in protected mode under a
 * message handler (the traceback when asked), SIGINT and SIGTERM caught only
 * while it runs, an error reported as "fwsh: MESSAGE". */
#include <stdbool.h>
#include <stdio.h>

#include <lauxlib.h>

#include "repl.h"

static int last_signal; /* what interrupted the last chunk, or 0 */

int run_last_signal(void)
{
        return last_signal;
}

void report(lua_State *L)
{
        const char *msg = luaL_tolstring(L, -1, NULL);

        fprintf(stderr, "fwsh: %s\n", msg);
        fflush(stderr);
        lua_pop(L, 2);
}

static int msghandler(lua_State *L)
{
        bool traceback = lua_toboolean(L, lua_upvalueindex(1));

        if (!traceback)
                return 1; /* the error value as it is, tables included */
        luaL_traceback(L, L, luaL_tolstring(L, 1, NULL), 1);
        return 1;
}

int run_chunk(lua_State *L, int nargs, const struct fwsh_opts *o)
{
        int base = lua_gettop(L) - nargs, status;

        lua_pushboolean(L, o->traceback);
        lua_pushcclosure(L, msghandler, 1);
        lua_insert(L, base);
        interrupt_arm(L);
        status = lua_pcall(L, nargs, LUA_MULTRET, base);
        last_signal = interrupt_disarm();
        lua_remove(L, base);
        if (status != LUA_OK)
                report(L);
        return status;
}
