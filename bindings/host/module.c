/* module.c - fwsh.module: kernel modules through libkmod, never modprobe.
 * See modprobe(8), modinfo(8). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

static const char *const OPT_FIELDS[] = { "root", "release", NULL };
static const char *const LOAD_FIELDS[] = { "root", "release", "dry_run", NULL }; /* only load has a dry run */

/* Opens the modules the options at idx point at ({root=, release=}); raises
 * with op and name on failure. */
static struct fwsh_modules *open_modules(lua_State *L, int idx, const char *const fields[],
                                         const char *op, const char *name, struct fwsh_ctx **ret_ctx)
{
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_modules *m = NULL;
        const char *root, *release;

        lfwsh_check_fields(L, idx, fields);
        root = lfwsh_opt_string(L, idx, "root", NULL);
        release = lfwsh_opt_string(L, idx, "release", NULL);
        lfwsh_check(L, ctx, fwsh_modules_open(ctx, root, release, &m), op, name);
        *ret_ctx = ctx;
        return m;
}

/* Frees m, then raises if r failed; returns r. */
static int done(lua_State *L, struct fwsh_ctx *ctx, struct fwsh_modules *m, int r, const char *op,
                const char *name)
{
        fwsh_modules_free(m);
        return lfwsh_check(L, ctx, r, op, name);
}

/*** fwsh.module.status(name [, {root="/", release=uname -r}]) -> state, source:
 * state is "loaded", "builtin", "available" (a module file, not loaded) or
 * "missing"; source says what told it ("/sys/module/bridge",
 * "/proc/sys/net/bridge", "CONFIG_X is not set in /proc/config.gz", a path) */
static int l_status(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        char source[FWSH_DETAIL_MAX];
        enum fwsh_module_state state = FWSH_MODULE_MISSING;
        struct fwsh_ctx *ctx;
        struct fwsh_modules *m = open_modules(L, 2, OPT_FIELDS, "module.status", name, &ctx);

        done(L, ctx, m, fwsh_module_status(ctx, m, name, &state, source), "module.status", name);
        lua_pushstring(L, fwsh_module_state_name(state));
        lua_pushstring(L, source);
        return 2;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Parameters as the kernel takes them: a string as it is, or a table
 * {name = value} as "name=value ..." in name order (true is 1, false 0, a
 * value with blanks in double quotes). */
static const char *params_arg(lua_State *L, int idx)
{
        const char **words;
        luaL_Buffer b;
        int list, n = 0;

        if (lua_isnoneornil(L, idx))
                return NULL;
        if (lua_type(L, idx) == LUA_TSTRING)
                return lfwsh_to_str(L, idx, idx, "parameters");
        if (lua_type(L, idx) != LUA_TTABLE)
                luaL_typeerror(L, idx, "table or string of parameters");
        lua_newtable(L);   /* the "name=value" strings, kept alive here */
        list = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
                const char *k, *v;
                bool blank;

                if (lua_type(L, -2) != LUA_TSTRING)
                        luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not a parameter name",
                                                              luaL_tolstring(L, -2, NULL)));
                k = lfwsh_to_str(L, -2, idx, "a parameter name");
                if (strpbrk(k, " \t\n=\""))
                        luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not a parameter name", k));
                if (lua_type(L, -1) == LUA_TBOOLEAN)
                        v = lua_toboolean(L, -1) ? "1" : "0";
                else if (lua_type(L, -1) == LUA_TNUMBER || lua_type(L, -1) == LUA_TSTRING)
                        v = (lua_tostring(L, -1), /* a number becomes a string in place: a copy below */
                             lfwsh_to_str(L, -1, idx, "a parameter's value"));
                else
                        return luaL_argerror(L, idx, lua_pushfstring(L, "parameter '%s': string, number "
                                                     "or boolean expected, got %s", k,
                                                     luaL_typename(L, -1))), NULL;
                if (strchr(v, '"'))
                        luaL_argerror(L, idx, lua_pushfstring(L, "parameter '%s': a value cannot hold '\"'", k));
                blank = strpbrk(v, " \t") != NULL;
                lua_pushfstring(L, "%s=%s%s%s", k, blank ? "\"" : "", v, blank ? "\"" : "");
                lua_rawseti(L, list, ++n);
                lua_pop(L, 1);
        }
        words = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(*words), 0);
        for (int i = 0; i < n; i++) {
                lua_rawgeti(L, list, i + 1);
                words[i] = lua_tostring(L, -1);   /* list keeps it alive */
                lua_pop(L, 1);
        }
        qsort(words, (size_t)n, sizeof(*words), cmp_str);
        luaL_buffinit(L, &b);
        for (int i = 0; i < n; i++) {
                if (i > 0)
                        luaL_addchar(&b, ' ');
                luaL_addstring(&b, words[i]);
        }
        luaL_pushresult(&b);
        return lua_tostring(L, -1);
}

/*** fwsh.module.load(name [, params [, {root=, release=, dry_run=false}]]) ->
 * inserted, steps: loads name with its dependencies as modprobe(8) does (none
 * if it is loaded or built in already: inserted is false). params is
 * "a=1 b=2" or {a=1, b=2}, for name itself. steps lists each module inserted,
 * in order ("bar", "foo a=1"); with dry_run, what would be, inserting nothing */
static int l_load(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        const char *params = params_arg(L, 2);
        char **steps = NULL;
        size_t n = 0;
        struct fwsh_ctx *ctx;
        struct fwsh_modules *m;
        bool dry;
        int r;

        lfwsh_check_fields(L, 3, LOAD_FIELDS); /* before dry_run is read */
        dry = lfwsh_opt_bool(L, 3, "dry_run", false);
        m = open_modules(L, 3, LOAD_FIELDS, "module.load", name, &ctx);
        r = fwsh_module_load(ctx, m, name, params, dry ? FWSH_MODULE_DRY_RUN : 0, &steps, &n);

        done(L, ctx, m, r, "module.load", name);
        lua_pushboolean(L, r > 0);
        lfwsh_push_strv(L, steps, n);
        fwsh_strv_free(steps, n);
        return 2;
}

/*** fwsh.module.unload(name [, {root=, release=}]) -> unloaded: false if it was
 * not loaded; raises for a built-in module ("built in, cannot be unloaded"),
 * an unknown one, or one in use (its users in the message) */
static int l_unload(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx;
        struct fwsh_modules *m = open_modules(L, 2, OPT_FIELDS, "module.unload", name, &ctx);
        int r = fwsh_module_unload(ctx, m, name);

        done(L, ctx, m, r, "module.unload", name);
        lua_pushboolean(L, r > 0);
        return 1;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
        if (v) {
                lua_pushstring(L, v);
                lua_setfield(L, -2, k);
        }
}

/*** fwsh.module.info(name [, {root=, release=}]) -> { name, state, source,
 * path, description, license, depends = {load order}, softdeps = {pre=, post=},
 * params = {NAME = {type=, description=, value=}}, refcnt, holders }; a
 * missing module is no error: state says "missing" */
static int l_info(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_module_info *info = NULL;
        struct fwsh_ctx *ctx;
        struct fwsh_modules *m = open_modules(L, 2, OPT_FIELDS, "module.info", name, &ctx);
        int r = fwsh_module_info(ctx, m, name, &info);

        done(L, ctx, m, r, "module.info", name);
        lua_createtable(L, 0, 12);
        set_str(L, "name", info->name);
        set_str(L, "state", fwsh_module_state_name(info->state));
        set_str(L, "source", info->source);
        set_str(L, "path", info->path);
        set_str(L, "description", info->description);
        set_str(L, "license", info->license);
        lfwsh_push_strv(L, info->depends, info->n_depends);
        lua_setfield(L, -2, "depends");
        lua_createtable(L, 0, 2);
        lfwsh_push_strv(L, info->softdeps_pre, info->n_softdeps_pre);
        lua_setfield(L, -2, "pre");
        lfwsh_push_strv(L, info->softdeps_post, info->n_softdeps_post);
        lua_setfield(L, -2, "post");
        lua_setfield(L, -2, "softdeps");
        lua_createtable(L, 0, (int)info->n_params);
        for (size_t i = 0; i < info->n_params; i++) {
                lua_createtable(L, 0, 3);
                set_str(L, "type", info->params[i].type);
                set_str(L, "description", info->params[i].description);
                set_str(L, "value", info->params[i].value);
                lua_setfield(L, -2, info->params[i].name);
        }
        lua_setfield(L, -2, "params");
        if (info->refcnt >= 0) {
                lua_pushinteger(L, info->refcnt);
                lua_setfield(L, -2, "refcnt");
                lfwsh_push_strv(L, info->holders, info->n_holders);
                lua_setfield(L, -2, "holders");
        }
        fwsh_module_info_free(info);
        return 1;
}

static const luaL_Reg fns[] = {
        { "status", l_status }, { "load", l_load }, { "unload", l_unload },
        { "info", l_info },     { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_module = { .field = "module", .fns = fns };
