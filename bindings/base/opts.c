/* opts.c - arguments and option tables, read strictly, one reader per kind:
 * a string has no zero byte inside (the kernel and every file name would stop
 * there), an integer fits the field it feeds (never wrapped), seconds are a
 * finite number >= 0. The messages name the argument or the field. */
#include <float.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdint.h>
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

lua_Integer lfwsh_opt_range(lua_State *L, int t, const char *field, lua_Integer def,
                            lua_Integer min, lua_Integer max)
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
                if (v < min || v > max)
                        luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %I is out of range (%I to %I)",
                                                            field, v, min, max));
        }
        lua_pop(L, 1);
        return v;
}

/* A number of seconds: finite, >= 0, and few enough to count in ms in an int. */
static double seconds(lua_State *L, int idx, int arg, const char *field)
{
        double v;

        if (lua_type(L, idx) != LUA_TNUMBER)
                return field ? field_error(L, arg, field, "seconds (a number)")
                             : luaL_typeerror(L, arg, "seconds (a number)");
        v = lua_tonumber(L, idx);
        if (!(v >= 0 && v <= INT_MAX / 1000.0))
                luaL_argerror(L, arg, field ? lua_pushfstring(L, "field '%s': %f seconds: a finite "
                                                              "number from 0 to %d expected", field, v,
                                                              INT_MAX / 1000)
                                            : lua_pushfstring(L, "%f seconds: a finite number from "
                                                              "0 to %d expected", v, INT_MAX / 1000));
        return v;
}

double lfwsh_opt_seconds(lua_State *L, int t, const char *field, double def)
{
        double v = def;

        if (lua_isnoneornil(L, t))
                return def;
        lua_getfield(L, t, field);
        if (!lua_isnil(L, -1))
                v = seconds(L, -1, t, field);
        lua_pop(L, 1);
        return v;
}

double lfwsh_check_seconds(lua_State *L, int idx, double def)
{
        return lua_isnoneornil(L, idx) ? def : seconds(L, idx, idx, NULL);
}

int lfwsh_ms(double seconds)
{
        return (int)ceil(seconds * 1000);
}

const char *lfwsh_check_str(lua_State *L, int idx)
{
        size_t len;
        const char *s = luaL_checklstring(L, idx, &len);

        if (strlen(s) != len)
                luaL_argerror(L, idx, "a string with a zero byte inside");
        return s;
}

const char *lfwsh_opt_str(lua_State *L, int idx, const char *def)
{
        return lua_isnoneornil(L, idx) ? def : lfwsh_check_str(L, idx);
}

const char *lfwsh_to_str(lua_State *L, int idx, int arg, const char *what)
{
        size_t len;
        const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;

        if (!s)
                luaL_argerror(L, arg, lua_pushfstring(L, "%s: string expected, got %s", what,
                                                      luaL_typename(L, idx)));
        if (strlen(s) != len)
                luaL_argerror(L, arg, lua_pushfstring(L, "%s: a string with a zero byte inside", what));
        return s;
}

const char *lfwsh_field_str(lua_State *L, int idx, int t, const char *field)
{
        const char *s;

        idx = lua_absindex(L, idx);
        s = lfwsh_to_str(L, idx, t, lua_pushfstring(L, "field '%s'", field));
        lua_pop(L, 1);
        return s;
}

const char *lfwsh_opt_string(lua_State *L, int t, const char *field, const char *def)
{
        const char *v = def;

        if (lua_isnoneornil(L, t))
                return def;
        lua_getfield(L, t, field);
        if (lua_type(L, -1) == LUA_TSTRING) {
                v = lfwsh_field_str(L, -1, t, field); /* the table keeps it alive */
        } else if (!lua_isnil(L, -1)) {
                field_error(L, t, field, "string");
        }
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
                v = lfwsh_opt_range(L, t, field, -1, 0, (lua_Integer)UINT32_MAX - 1);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
                const char *name = lfwsh_field_str(L, -1, t, field); /* not a shorter name */
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

/* Pushes the key at idx as Lua would write it, "grounding\0x" with its zero
 * byte shown: lua_pushfstring's %s would stop there and name another key. */
static const char *push_key(lua_State *L, int idx)
{
        size_t len;
        const char *k = lua_tolstring(L, idx, &len);
        luaL_Buffer b;

        luaL_buffinit(L, &b);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)k[i];
                char esc[8];

                if (c < 0x20 || c == 0x7f || c == '\\') {
                        snprintf(esc, sizeof(esc), "\\%d", c);
                        luaL_addstring(&b, esc);
                } else {
                        luaL_addchar(&b, (char)c);
                }
        }
        luaL_pushresult(&b);
        return lua_tostring(L, -1);
}

void lfwsh_check_fields(lua_State *L, int t, const char *const known[])
{
        if (lua_isnoneornil(L, t))
                return;
        luaL_checktype(L, t, LUA_TTABLE);
        t = lua_absindex(L, t);
        lua_pushnil(L);
        while (lua_next(L, t)) {
                size_t len;
                const char *k;
                bool ok = false;

                lua_pop(L, 1);
                if (lua_type(L, -1) != LUA_TSTRING) {
                        luaL_tolstring(L, -1, NULL);
                        luaL_argerror(L, t, lua_pushfstring(L, "unknown option [%s] (a %s key)",
                                                            lua_tostring(L, -1), luaL_typename(L, -2)));
                }
                /* with its length: strcmp would take "grounding\0x" for "grounding",
                 * and the field read after it would not see the value */
                k = lua_tolstring(L, -1, &len);
                if (strlen(k) != len)
                        luaL_argerror(L, t, lua_pushfstring(L, "option '%s': a key with a zero byte inside",
                                                            push_key(L, -1)));
                for (int i = 0; known[i] && !ok; i++)
                        ok = strcmp(known[i], k) == 0;
                if (!ok)
                        luaL_argerror(L, t, lua_pushfstring(L, "unknown option '%s'", push_key(L, -1)));
        }
}

/* Seconds at the top, t[field], in whole hundredths (the kernel's unit), up to max hundredths. */
static uint32_t opt_cs(lua_State *L, int t, const char *field, uint32_t max)
{
        lua_Number v = lua_tonumber(L, -1);
        int64_t cs;

        if (lua_type(L, -1) != LUA_TNUMBER)
                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': seconds (a number) expected, got %s",
                                                    field, luaL_typename(L, -1)));
        if (!(v >= 0 && v <= max / 100.0))
                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %f seconds is out of range", field, v));
        cs = (int64_t)llround(v * 100);
        /* the kernel counts in hundredths: 1e-300 would become 0 (another
         * meaning: no delay, no ageing) and 0.125 would become 0.13 */
        if ((v > 0 && cs == 0) || fabs(v * 100 - (double)cs) > 1e-6 * (v * 100 > 1 ? v * 100 : 1))
                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %f seconds is not a whole "
                                                    "number of hundredths (the kernel's unit)",
                                                    field, v));
        return (uint32_t)cs;
}

int64_t lfwsh_opt_row(lua_State *L, int t, const struct fwsh_opt_row *r)
{
        int64_t v;

        if (lua_getfield(L, t, r->name) == LUA_TNIL) {
                lua_pop(L, 1);
                return -1;
        }
        if (r->unit == FWSH_OPT_BOOL)
                v = lfwsh_opt_bool(L, t, r->name, false);
        else if (r->unit == FWSH_OPT_CS)
                v = opt_cs(L, t, r->name, r->max);
        else if (r->unit == FWSH_OPT_USER || r->unit == FWSH_OPT_GROUP)
                v = lfwsh_opt_id(L, t, r->name, r->unit == FWSH_OPT_GROUP);
        else
                v = lfwsh_opt_range(L, t, r->name, 0, r->min, r->max);
        lua_pop(L, 1);
        return v;
}

void lfwsh_push_row(lua_State *L, const struct fwsh_opt_row *r, int64_t v)
{
        if (r->unit == FWSH_OPT_BOOL)
                lua_pushboolean(L, v == 1);
        else if (r->unit == FWSH_OPT_CS)
                lua_pushnumber(L, (lua_Number)v / 100);
        else if (v < 0)
                lua_pushnil(L);
        else
                lua_pushinteger(L, v);
}
