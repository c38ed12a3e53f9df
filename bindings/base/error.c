/* error.c - fwsh errors: values that say operation, object and reason, and
 * carry the errno for scripts that branch on it. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "fwsh_lua.h"

static int error_tostring(lua_State *L)
{
        lua_getfield(L, 1, "message");
        return 1;
}

static int error_concat(lua_State *L)
{
        luaL_tolstring(L, 1, NULL);
        luaL_tolstring(L, 2, NULL);
        lua_concat(L, 2);
        return 1;
}

static void push_error_mt(lua_State *L)
{
        if (luaL_newmetatable(L, LFWSH_ERROR_MT)) {
                lua_pushcfunction(L, error_tostring);
                lua_setfield(L, -2, "__tostring");
                lua_pushcfunction(L, error_concat);
                lua_setfield(L, -2, "__concat");
        }
}

static bool visible(const char *s)
{
        size_t n = strlen(s);

        return n > 0 && !isspace((unsigned char)s[0]) && !isspace((unsigned char)s[n - 1]) &&
               strcspn(s, "\t\n\r") == n;
}

int lfwsh_fail(lua_State *L, struct fwsh_ctx *ctx, int err, const char *op, const char *object)
{
        return lfwsh_fail_detail(L, err, op, object, fwsh_ctx_detail(ctx));
}

int lfwsh_fail_detail(lua_State *L, int err, const char *op, const char *object, const char *detail)
{
        const char *code = strerrorname_np(-err);
        const char *reason = strerror(-err);

        if (!detail)
                detail = "";

        lua_createtable(L, 0, 7);
        lua_pushstring(L, op);
        lua_setfield(L, -2, "op");
        lua_pushstring(L, object);
        lua_setfield(L, -2, "object");
        lua_pushinteger(L, -err);
        lua_setfield(L, -2, "errno");
        lua_pushstring(L, code ? code : "EUNKNOWN");
        lua_setfield(L, -2, "code");
        lua_pushstring(L, reason);
        lua_setfield(L, -2, "reason");
        if (detail[0]) {
                lua_pushstring(L, detail);
                lua_setfield(L, -2, "detail");
        }
        luaL_where(L, 1);
        /* An empty object, or one with blanks at its ends, in quotes: seen. */
        lua_pushfstring(L, visible(object) ? "%s %s: %s%s%s" : "%s '%s': %s%s%s", op, object,
                        reason, detail[0] ? ": " : "", detail);
        lua_concat(L, 2);
        lua_setfield(L, -2, "message");
        push_error_mt(L);
        lua_setmetatable(L, -2);
        return lua_error(L);
}

int lfwsh_check(lua_State *L, struct fwsh_ctx *ctx, int err, const char *op, const char *object)
{
        return err < 0 ? lfwsh_fail(L, ctx, err, op, object) : err;
}
