/* push.c - the shapes many bindings return, pushed one way. */
#include "fwsh_lua.h"

void lfwsh_push_strv(lua_State *L, char *const *v, size_t n)
{
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
                lua_pushstring(L, v[i]);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
}
