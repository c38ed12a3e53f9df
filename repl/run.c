/* run.c - running a chunk as lua.c's docall does: in protected mode under a
 * message handler (the traceback when asked), SIGINT and SIGTERM caught only
 * while it runs, an error reported as "fwsh: MESSAGE". */
#include <stdbool.h>
#include <stdio.h>

#include <lauxlib.h>

#include "repl.h"

/* The message of an error value, as lua.c makes it: a string (or number)
 * as it is; else what its __tostring returns, if that is a string; else
 * "(error object is a T value)". In protected mode: a __tostring that fails
 * gives its own error as the message. */
static int message(lua_State *L)
{
        if (lua_tostring(L, 1) == NULL &&
            !(luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING))
                lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        return 1;
}

void run_message(lua_State *L)
{
        int top = lua_gettop(L);

        lua_pushcfunction(L, message);
        lua_pushvalue(L, top);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK && lua_tostring(L, -1) == NULL) {
                lua_pop(L, 1); /* its own error is no string either */
                lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, top));
        }
        lua_replace(L, top);
}

void report(lua_State *L)
{
        run_message(L);
        fprintf(stderr, "fwsh: %s\n", lua_tostring(L, -1));
        fflush(stderr);
        lua_pop(L, 1);
}

static int msghandler(lua_State *L)
{
        bool traceback = lua_toboolean(L, lua_upvalueindex(1));
        const char *msg = lua_tostring(L, 1);

        if (run_is_exit(L, 1))
                return 1; /* os.exit's, as it is */
        if (msg == NULL) { /* as lua.c's: a __tostring's string is the message, as it is */
                if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
                        return 1;
                msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        }
        if (traceback)
                luaL_traceback(L, L, msg, 1);
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
        interrupt_disarm();
        lua_remove(L, base);
        if (status != LUA_OK && run_is_exit(L, -1))
                lua_pop(L, 1); /* os.exit: nothing to report */
        else if (status != LUA_OK)
                report(L);
        return status;
}
