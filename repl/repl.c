/* repl.c - the interactive shell. For now: statement by statement from
 * standard input (the readline shell is issue 3). */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "repl.h"

int repl_run(lua_State *L, const struct fwsh_opts *o)
{
        int status = luaL_loadfile(L, NULL);

        if (status != LUA_OK) {
                report(L);
                return 1;
        }
        return run_chunk(L, 0, o) == LUA_OK ? 0 : 1;
}
