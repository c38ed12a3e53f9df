/* module.c - the program's own fwsh module. It is built in and preloaded;
 * the runner keeps the functions it calls itself (fwsh.transaction, fwsh.lab,
 * fwsh.show) in the registry before any user code runs, so that nothing a
 * chunk does to its globals (fwsh = nil, fwsh.transaction = nil) can abort
 * the program or turn its rollback off. And Lua's C searchers never load
 * fwsh.so for a "fwsh" or "fwsh.*" name: a second copy of the module would
 * bring a second Lua and a second libnl into the program. */
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "fwsh_lua.h"
#include "repl.h"

static const char KEPT_KEY = 'k';

void run_keep_module(lua_State *L)
{
        static const char *const names[] = { "transaction", "lab", "show" };
        int module = lua_gettop(L);

        lua_createtable(L, 0, 3);
        for (unsigned i = 0; i < FWSH_N(names); i++) {
                lua_getfield(L, module, names[i]);
                lua_setfield(L, -2, names[i]);
        }
        lua_rawsetp(L, LUA_REGISTRYINDEX, &KEPT_KEY);
        lua_pop(L, 1);
}

void run_push_kept(lua_State *L, const char *name)
{
        lua_rawgetp(L, LUA_REGISTRYINDEX, &KEPT_KEY);
        lua_getfield(L, -1, name);
        lua_remove(L, -2);
}

/* A C searcher (package.searchers[3] and [4]) for every other name; for fwsh's
 * own, what it says instead of loading fwsh.so (once: the all-in-one one). */
static int searcher(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);

        if (strcmp(name, "fwsh") == 0 || strncmp(name, "fwsh.", 5) == 0) {
                if (!lua_toboolean(L, lua_upvalueindex(2)))
                        return 0; /* nothing to say */
                lua_pushfstring(L, "no C module for '%s': fwsh's own module is built into "
                                   "this program", name);
                return 1;
        }
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        return lua_gettop(L);
}

void run_guard_searchers(lua_State *L)
{
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_getfield(L, -1, LUA_LOADLIBNAME);
        if (lua_istable(L, -1) && lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
                for (int i = 3; i <= 4; i++) /* Lua's C and all-in-one searchers */
                        if (lua_rawgeti(L, -1, i) == LUA_TFUNCTION) {
                                lua_pushboolean(L, i == 4);
                                lua_pushcclosure(L, searcher, 2);
                                lua_rawseti(L, -2, i);
                        } else {
                                lua_pop(L, 1);
                        }
        }
        lua_pop(L, 3);
}

/* The build tree's Lua parts for the build tree's fwsh: the module's own
 * (bindings/lua: require "fwsh.hosts"...), then the lab library's (lab/lua:
 * require "fwsh.node"...). A searcher after Lua's own (package.searchers[2]),
 * so that package.path stays what lua5.4 makes of LUA_PATH and what the
 * user's path finds comes first. Its message lists the files it tried, as
 * package.searchpath's does. */
static int source_searcher(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        const char *rel;
        int tried = 0;

        if (strncmp(name, "fwsh.", 5) != 0)
                return 0;
        rel = luaL_gsub(L, name, ".", "/");
        for (int i = 1; lua_isstring(L, lua_upvalueindex(i)); i++) {
                const char *file = lua_pushfstring(L, "%s/%s.lua", lua_tostring(L, lua_upvalueindex(i)), rel);

                if (access(file, R_OK) == 0) {
                        if (luaL_loadfilex(L, file, NULL) != LUA_OK)
                                return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name,
                                                  file, lua_tostring(L, -1));
                        lua_pushstring(L, file);
                        return 2;
                }
                lua_pushfstring(L, "%sno file '%s'", tried++ ? "\n\t" : "", file);
                lua_remove(L, -2);
        }
        lua_concat(L, tried);
        return 1;
}

void run_add_source_searcher(lua_State *L, const char *const dirs[], int n)
{
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_getfield(L, -1, LUA_LOADLIBNAME);
        if (lua_istable(L, -1) && lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
                int len = (int)lua_rawlen(L, -1);
                for (int i = len; i >= 3; i--) { /* room at 3, after the Lua searcher */
                        lua_rawgeti(L, -1, i);
                        lua_rawseti(L, -2, i + 1);
                }
                for (int i = 0; i < n; i++)
                        lua_pushstring(L, dirs[i]);
                lua_pushcclosure(L, source_searcher, n);
                lua_rawseti(L, -2, 3);
        }
        lua_pop(L, 3);
}
