/* exit.c - os.exit in the fwsh program ends the program as lua5.4's does,
 * even from inside pcall, but a failure code ends it as a failure: the
 * script unwinds (its transaction rolls back, its <close> handles close),
 * and the program then exits with that code. The unwinding is an error no
 * pcall, xpcall or coroutine.resume of the script can stop: the program's
 * own versions of them raise it again. */
#include <stdbool.h>

#include <lauxlib.h>
#include <lualib.h>

#include "fwsh_lua.h"
#include "repl.h"

static int exit_code = -1; /* os.exit(code) with a failure code: the program's status */
static const char EXIT_KEY = 'x'; /* the error value os.exit raises for it */

int run_exit_code(void)
{
        return exit_code;
}

bool run_is_exit(lua_State *L, int idx)
{
        return exit_code >= 0 && lua_touserdata(L, idx) == &EXIT_KEY;
}

/* os.exit([code [, close]]). Success (no code, 0, true) keeps what the script
 * made and exits at once, as Lua's; inside fwsh.batch it is refused, since the
 * batch's queued links are not made yet and would be lost in silence. */
static int l_exit(lua_State *L)
{
        int code;

        if (lua_isnoneornil(L, 1))
                code = 0;
        else if (lua_isboolean(L, 1))
                code = lua_toboolean(L, 1) ? 0 : 1;
        else
                code = (int)(luaL_checkinteger(L, 1) & 0xff);
        if (code == 0) {
                if (lfwsh_state(L)->batches > 0)
                        return luaL_error(L, "os.exit inside fwsh.batch: its queued links are not "
                                             "made yet; end the batch first (or exit with a "
                                             "failure code to undo them)");
                lua_pushvalue(L, lua_upvalueindex(1));
                lua_insert(L, 1);
                lua_call(L, lua_gettop(L) - 1, 0);
                return 0;
        }
        exit_code = code;
        lua_pushlightuserdata(L, (void *)&EXIT_KEY);
        return lua_error(L);
}

/* pcall and xpcall as lbaselib's, except that os.exit's unwinding goes on. */
static int finish_pcall(lua_State *L, int status, lua_KContext extra)
{
        if (status != LUA_OK && status != LUA_YIELD) {
                if (run_is_exit(L, -1))
                        return lua_error(L);
                lua_pushboolean(L, 0);
                lua_pushvalue(L, -2);
                return 2;
        }
        return lua_gettop(L) - (int)extra;
}

static int l_pcall(lua_State *L)
{
        luaL_checkany(L, 1);
        lua_pushboolean(L, 1);
        lua_insert(L, 1);
        return finish_pcall(L, lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall), 0);
}

/* xpcall's message handler: os.exit's value passes as it is, unseen. */
static int xpcall_handler(lua_State *L)
{
        if (run_is_exit(L, 1))
                return 1;
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        return lua_gettop(L);
}

static int l_xpcall(lua_State *L)
{
        int n = lua_gettop(L);

        luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_pushvalue(L, 2);
        lua_pushcclosure(L, xpcall_handler, 1);
        lua_replace(L, 2);
        lua_pushboolean(L, 1);
        lua_pushvalue(L, 1);
        lua_rotate(L, 3, 2);
        return finish_pcall(L, lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall), 2);
}

/* coroutine.resume: a coroutine that called os.exit closes (its <close>
 * handles) and its resumer unwinds too. */
static int l_resume(lua_State *L)
{
        lua_State *co = lua_tothread(L, 1);

        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        if (lua_gettop(L) >= 2 && !lua_toboolean(L, 1) && run_is_exit(L, 2)) {
                if (co)
                        lua_resetthread(co);
                lua_settop(L, 2);
                return lua_error(L);
        }
        return lua_gettop(L);
}

/* Replaces lib[name] by f, with the old one as f's upvalue if it calls it
 * (pcall's is not kept: debug.getupvalue would give it back). */
static void wrap(lua_State *L, const char *lib, const char *name, lua_CFunction f, bool old)
{
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        if (lua_getfield(L, -1, lib) == LUA_TTABLE) {
                if (old)
                        lua_getfield(L, -1, name);
                lua_pushcclosure(L, f, old);
                lua_setfield(L, -2, name);
        }
        lua_pop(L, 2);
}

void run_install_exit(lua_State *L)
{
        wrap(L, LUA_OSLIBNAME, "exit", l_exit, true);
        wrap(L, LUA_COLIBNAME, "resume", l_resume, true);
        wrap(L, LUA_GNAME, "pcall", l_pcall, false);
        wrap(L, LUA_GNAME, "xpcall", l_xpcall, false);
}
