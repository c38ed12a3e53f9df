/* opts.c - option tables: typed fields with messages that name the field. */
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "fwsh_lua.h"

static int field_error(lua_State *L, int t, const char *field, const char *want)
{
        return luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %s expected, got %s", field,
                                                   want, luaL_typename(L, -1)));
}

bool lfwsh_opt_bool(lua_State *L, int t, const char *field, bool def)
{
        bool v = def;

        if (lua_isnoneornil(L, t))
                return def;
        lua_getfield(L, t, field);
        if (lua_isboolean(L, -1))
                v = lua_toboolean(L, -1);
        else if (!lua_isnil(L, -1))
                field_error(L, t, field, "boolean");
        lua_pop(L, 1);
        return v;
}

lua_Integer lfwsh_opt_int(lua_State *L, int t, const char *field, lua_Integer def)
{
        lua_Integer v = def;
        int ok;

        if (lua_isnoneornil(L, t))
                return def;
        lua_getfield(L, t, field);
        if (!lua_isnil(L, -1)) {
                v = lua_tointegerx(L, -1, &ok);
                if (!ok || lua_type(L, -1) != LUA_TNUMBER)
                        field_error(L, t, field, "integer");
                if (v < 0)
                        luaL_argerror(L, t, lua_pushfstring(L, "field '%s': must not be negative", field));
        }
        lua_pop(L, 1);
        return v;
}

const char *lfwsh_opt_string(lua_State *L, int t, const char *field, const char *def)
{
        const char *v = def;

        if (lua_isnoneornil(L, t))
                return def;
        lua_getfield(L, t, field);
        if (lua_type(L, -1) == LUA_TSTRING)
                v = lua_tostring(L, -1); /* the table keeps it alive */
        else if (!lua_isnil(L, -1))
                field_error(L, t, field, "string");
        lua_pop(L, 1);
        return v;
}

lua_Integer lfwsh_opt_id(lua_State *L, int t, const char *field, bool group)
{
        lua_Integer v = -1;

        if (lua_isnoneornil(L, t))
                return -1;
        lua_getfield(L, t, field);
        if (lua_type(L, -1) == LUA_TNUMBER) {
                v = lfwsh_opt_int(L, t, field, -1);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
                const char *name = lua_tostring(L, -1);
                if (group) {
                        struct group *g = getgrnam(name);
                        if (!g)
                                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': no group '%s'", field, name));
                        v = g->gr_gid;
                } else {
                        struct passwd *p = getpwnam(name);
                        if (!p)
                                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': no user '%s'", field, name));
                        v = p->pw_uid;
                }
        } else if (!lua_isnil(L, -1)) {
                field_error(L, t, field, "number or name");
        }
        lua_pop(L, 1);
        return v;
}

void lfwsh_check_fields(lua_State *L, int t, const char *const known[])
{
        if (lua_isnoneornil(L, t))
                return;
        luaL_checktype(L, t, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, t)) {
                bool ok = false;
                lua_pop(L, 1);
                if (lua_type(L, -1) == LUA_TSTRING)
                        for (int i = 0; known[i] && !ok; i++)
                                ok = strcmp(known[i], lua_tostring(L, -1)) == 0;
                if (!ok) {
                        const char *k = luaL_tolstring(L, -1, NULL);
                        luaL_argerror(L, t, lua_pushfstring(L, "unknown option '%s'", k));
                }
        }
}
