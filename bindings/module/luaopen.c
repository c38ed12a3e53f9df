/* luaopen.c - the entry point lua5.4's require "fwsh" looks for in fwsh.so. */
#include "fwsh_lua.h"

LUAMOD_API int luaopen_fwsh(lua_State *L)
{
        return lfwsh_open(L);
}
