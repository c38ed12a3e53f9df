/* boot.c - fwsh.boot: modules loaded at boot (modules-load.d(5) and
 * rd.driver.pre= in GRUB_CMDLINE_LINUX), and regenerating grub.cfg. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

static const char *const CHANGE_FIELDS[] = { "root", "modules_load", "grub", NULL };

/* A module list argument: a name or a list of names, as a NULL-ended array
 * that lives in a userdata left on the stack. NULL (and *ret_n 0) when the
 * argument is absent and optional. */
static const char **modules_arg(lua_State *L, int idx, bool optional, size_t *ret_n)
{
        const char **v;
        size_t n;

        *ret_n = 0;
        if (optional && lua_isnoneornil(L, idx))
                return NULL;
        if (lua_type(L, idx) == LUA_TSTRING) {
                v = lua_newuserdatauv(L, 2 * sizeof(*v), 0);
                v[0] = lfwsh_to_str(L, idx, idx, "module name");
                v[1] = NULL;
                *ret_n = 1;
                return v;
        }
        if (lua_type(L, idx) != LUA_TTABLE)
                luaL_typeerror(L, idx, "module name or list of module names");
        n = lua_rawlen(L, idx);
        v = lua_newuserdatauv(L, (n + 1) * sizeof(*v), 0);
        for (size_t i = 0; i < n; i++) {
                if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TSTRING)
                        luaL_argerror(L, idx, lua_pushfstring(L, "item %d: module name expected, got %s",
                                                              (int)i + 1, luaL_typename(L, -1)));
                v[i] = lfwsh_to_str(L, -1, idx, "module name");   /* the table keeps it alive */
                lua_pop(L, 1);
        }
        v[n] = NULL;
        *ret_n = n;
        return v;
}

static unsigned what_arg(lua_State *L, int idx)
{
        unsigned what = 0;

        lfwsh_check_fields(L, idx, CHANGE_FIELDS);
        if (lfwsh_opt_bool(L, idx, "modules_load", true))
                what |= FWSH_BOOT_MODULES_LOAD;
        if (lfwsh_opt_bool(L, idx, "grub", true))
                what |= FWSH_BOOT_GRUB;
        return what;
}

static void push_file(lua_State *L, const struct fwsh_boot_file *f, const char *changed,
                      const char *kept)
{
        if (!f->path)
                return;
        lua_createtable(L, 0, 4);
        lua_pushstring(L, f->path);
        lua_setfield(L, -2, "path");
        lua_pushboolean(L, f->changed);
        lua_setfield(L, -2, "changed");
        lfwsh_push_strv(L, f->changed_modules, f->n_changed);
        lua_setfield(L, -2, changed);
        lfwsh_push_strv(L, f->kept, f->n_kept);
        lua_setfield(L, -2, kept);
}

static int change(lua_State *L, bool persist)
{
        const char *op = persist ? "boot.persist" : "boot.remove";
        struct fwsh_boot_result res;
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        const char *root;
        const char **modules;
        unsigned what;
        size_t n;
        int r;

        if (!persist && lua_istable(L, 1) && lua_rawlen(L, 1) == 0 && lua_isnone(L, 2)) {
                lua_pushnil(L);
                if (lua_next(L, 1)) {   /* remove{root=...}: options, no modules */
                        lua_pop(L, 2);
                        lua_pushnil(L);
                        lua_insert(L, 1);
                }
        }
        modules = modules_arg(L, 1, !persist, &n);
        what = what_arg(L, 2);
        root = lfwsh_opt_string(L, 2, "root", "/");
        r = persist ? fwsh_boot_persist(ctx, root, modules, n, what, &res)
                    : fwsh_boot_remove(ctx, root, modules, n, what, &res);
        lfwsh_check(L, ctx, r, op, root);
        lua_createtable(L, 0, 2);
        push_file(L, &res.modules_load, persist ? "added" : "removed", persist ? "present" : "kept");
        if (res.modules_load.path)
                lua_setfield(L, -2, "modules_load");
        push_file(L, &res.grub, persist ? "added" : "removed", persist ? "present" : "kept");
        if (res.grub.path)
                lua_setfield(L, -2, "grub");
        fwsh_boot_result_clear(&res);
        return 1;
}

/*** fwsh.boot.persist(modules [, {root="/", modules_load=true, grub=true}]) ->
 * { modules_load = {path, changed, added, present}, grub = {...} }: makes
 * modules (a name or a list) load at boot through ROOT/etc/modules-load.d/fwsh.conf
 * and rd.driver.pre= in GRUB_CMDLINE_LINUX of ROOT/etc/default/grub, adding
 * only what is missing (present: there already); raises if grub is asked for
 * and there is no /etc/default/grub */
static int l_persist(lua_State *L)
{
        return change(L, true);
}

/*** fwsh.boot.remove([modules] [, {root=, modules_load=true, grub=true}]) ->
 * { modules_load = {path, changed, removed, kept}, grub = {...} }: takes out
 * what persist added (of modules, or all of it); in the grub file only what
 * fwsh put there (kept: asked for, but not fwsh's) */
static int l_remove(lua_State *L)
{
        return change(L, false);
}

/*** fwsh.boot.status([{root="/"}]) -> { modules_load = {path, exists, modules},
 * grub = {path, exists, modules (in rd.driver.pre=), fwsh (what fwsh added)} } */
static int l_status(lua_State *L)
{
        static const char *const fields[] = { "root", NULL };
        struct fwsh_boot_status st;
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        const char *root;

        lfwsh_check_fields(L, 1, fields);
        root = lfwsh_opt_string(L, 1, "root", "/");
        lfwsh_check(L, ctx, fwsh_boot_status(ctx, root, &st), "boot.status", root);
        lua_createtable(L, 0, 2);
        lua_createtable(L, 0, 3);
        lua_pushstring(L, st.modules_load_path);
        lua_setfield(L, -2, "path");
        lua_pushboolean(L, st.modules_load_exists);
        lua_setfield(L, -2, "exists");
        lfwsh_push_strv(L, st.modules_load, st.n_modules_load);
        lua_setfield(L, -2, "modules");
        lua_setfield(L, -2, "modules_load");
        lua_createtable(L, 0, 4);
        lua_pushstring(L, st.grub_path);
        lua_setfield(L, -2, "path");
        lua_pushboolean(L, st.grub_exists);
        lua_setfield(L, -2, "exists");
        lfwsh_push_strv(L, st.grub, st.n_grub);
        lua_setfield(L, -2, "modules");
        lfwsh_push_strv(L, st.grub_fwsh, st.n_grub_fwsh);
        lua_setfield(L, -2, "fwsh");
        lua_setfield(L, -2, "grub");
        fwsh_boot_status_clear(&st);
        return 1;
}

/*** fwsh.boot.regenerate([{root="/", command={argv...}}]) -> ok, {command,
 * output, status, signal}: runs update-grub, or grub-mkconfig -o
 * /boot/grub/grub.cfg (or command), chrooted into root if it is not "/", and
 * reports its output (stdout and stderr) and exit status; ok is status == 0.
 * Raises only if it cannot be run. An explicit step: persist never runs it */
static int l_regenerate(lua_State *L)
{
        static const char *const fields[] = { "root", "command", NULL };
        struct fwsh_boot_run run;
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        const char **argv = NULL;
        const char *root;
        size_t n;
        int r;

        lfwsh_check_fields(L, 1, fields);
        root = lfwsh_opt_string(L, 1, "root", "/");
        if (!lua_isnoneornil(L, 1)) {
                lua_getfield(L, 1, "command");
                if (!lua_isnil(L, -1)) {
                        if (lua_type(L, -1) != LUA_TTABLE)
                                luaL_argerror(L, 1, "field 'command': a list of strings expected");
                        n = lua_rawlen(L, -1);
                        argv = lua_newuserdatauv(L, (n + 1) * sizeof(*argv), 0);
                        for (size_t i = 0; i < n; i++) {
                                if (lua_rawgeti(L, -2, (lua_Integer)i + 1) != LUA_TSTRING)
                                        luaL_argerror(L, 1, "field 'command': a list of strings expected");
                                argv[i] = lfwsh_to_str(L, -1, 1, "field 'command'");
                                lua_pop(L, 1);
                        }
                        argv[n] = NULL;
                        if (n == 0)
                                luaL_argerror(L, 1, "field 'command': an empty command");
                }
        }
        r = fwsh_boot_regenerate(ctx, root, argv, &run);
        lfwsh_check(L, ctx, r, "boot.regenerate", root);
        lua_pushboolean(L, run.status == 0);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, run.command);
        lua_setfield(L, -2, "command");
        lua_pushstring(L, run.output);
        lua_setfield(L, -2, "output");
        if (run.status >= 0) {
                lua_pushinteger(L, run.status);
                lua_setfield(L, -2, "status");
        }
        if (run.signal) {
                lua_pushinteger(L, run.signal);
                lua_setfield(L, -2, "signal");
        }
        fwsh_boot_run_clear(&run);
        return 2;
}

static const luaL_Reg fns[] = {
        { "persist", l_persist }, { "remove", l_remove }, { "status", l_status },
        { "regenerate", l_regenerate }, { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_boot = { .field = "boot", .fns = fns };
