/* lab.c - labs, found by their tags: fwsh.labs, fwsh.down, fwsh.lab_dir. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

/* The registry's table of the state directories this session made: path -> lab. */
#define MADE_DIRS "fwsh.lab_dirs"

/*** fwsh.labs() -> { {name=, links=N, netns=N}, ... }: the labs with objects here */
static int l_labs(lua_State *L)
{
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_lab *labs = NULL;
        size_t n = 0;

        lfwsh_check(L, ctx, fwsh_lab_list(ctx, &labs, &n), "labs", "*");
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
                lua_createtable(L, 0, 3);
                lua_pushstring(L, labs[i].name);
                lua_setfield(L, -2, "name");
                lua_pushinteger(L, labs[i].links);
                lua_setfield(L, -2, "links");
                lua_pushinteger(L, labs[i].netns);
                lua_setfield(L, -2, "netns");
                lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        free(labs);
        return 1;
}

/*** fwsh.down([lab]) -> links, netns, dirs: removes every object tagged with
 * lab (default: the current lab, fwsh.lab()), and nothing else: links,
 * namespaces, state directories (fwsh.lab_dir); the counts removed */
static int l_down(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);
        const char *lab = lfwsh_opt_str(L, 1, st->lab);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_lab done;

        lfwsh_check(L, ctx, fwsh_ctx_set_lab(ctx, lab), "down", lab);
        lfwsh_check(L, ctx, fwsh_lab_down(ctx, lab, &done), "down", lab);
        lfwsh_use(L, ctx); /* back to the session's own lab */
        lua_pushinteger(L, done.links);
        lua_pushinteger(L, done.netns);
        lua_pushinteger(L, done.dirs);
        return 3;
}

/*** fwsh.lab_dir_find(lab, name) -> path or nil: the file name in one of
 * lab's state directories (fwsh.lab_dir: one with lab's tag), if one has it */
static int l_lab_dir_find(lua_State *L)
{
        const char *lab = lfwsh_check_str(L, 1), *name = lfwsh_check_str(L, 2);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        char path[PATH_MAX];
        int r;

        luaL_argcheck(L, name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."), 2,
                      "a file name, not a path");
        r = fwsh_lab_dir_find(ctx, lab, name, path, sizeof(path));
        if (r == -ENOENT) {
                lua_pushnil(L);
                return 1;
        }
        lfwsh_check(L, ctx, r, "lab_dir_find", lab);
        lua_pushstring(L, path);
        return 1;
}

/*** fwsh.lab_dir_labs(name) -> { lab, ... }: the labs with a state directory
 * here that holds the file name (fwsh.hosts' record, "hosts": the labs
 * that span hosts) */
static int l_lab_dir_labs(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        char **v = NULL;
        size_t n = 0;

        lfwsh_check(L, ctx, fwsh_lab_dir_labs(ctx, name, &v, &n), "lab_dir_labs", name);
        lfwsh_push_strv(L, v, n);
        fwsh_strv_free(v, n);
        return 1;
}

/*** fwsh.lab_dir() -> path: makes /tmp/fwsh-LAB.XXXXXX (mode 0700) for the
 * current lab's files (daemons' configuration, logs), tagged inside
 * (.fwsh-lab) so that `fwsh down LAB` removes it if the script is killed
 * before it does */
static int l_lab_dir(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        char path[PATH_MAX];

        lfwsh_check(L, ctx, fwsh_lab_dir_make(ctx, st->lab, path, sizeof(path)), "lab_dir", st->lab);
        /* remembered with its lab, for lfwsh_lab_dirs_undo and lab_dir_remove
         * (a plan's is in the model only: removing it is shown, not done) */
        luaL_getsubtable(L, LUA_REGISTRYINDEX, MADE_DIRS);
        lua_pushstring(L, st->lab);
        lua_setfield(L, -2, path);
        lua_pop(L, 1);
        lua_pushstring(L, path);
        return 1;
}

/*** fwsh.lab_dir_remove(path): removes a state directory that fwsh.lab_dir
 * made in this session, with what is in it (a lab done with its files: its
 * hosts closed, its daemons gone), by a walk that never crosses a mount
 * point: one inside is left, with the directory, and the call fails (EBUSY);
 * any other path is an error */
static int l_lab_dir_remove(lua_State *L)
{
        const char *path = lfwsh_check_str(L, 1), *lab;
        struct fwsh_ctx *ctx = lfwsh_ctx(L);

        luaL_getsubtable(L, LUA_REGISTRYINDEX, MADE_DIRS);
        if (lua_getfield(L, -1, path) != LUA_TSTRING)
                luaL_argerror(L, 1, lua_pushfstring(L, "%s: not a state directory this session made",
                                                    path));
        lab = lua_tostring(L, -1);
        lfwsh_check(L, ctx, fwsh_lab_dir_remove(ctx, lab, path), "lab_dir_remove", path);
        lua_pushnil(L);
        lua_setfield(L, -3, path);
        return 0;
}

void lfwsh_lab_dirs_undo(lua_State *L)
{
        struct fwsh_ctx *ctx;

        if (lua_getfield(L, LUA_REGISTRYINDEX, MADE_DIRS) != LUA_TTABLE || fwsh_ctx_open(&ctx) < 0) {
                lua_pop(L, 1);
                return;
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
                fwsh_lab_dir_remove(ctx, lua_tostring(L, -1), lua_tostring(L, -2));
                lua_pop(L, 1);
        }
        fwsh_ctx_unref(ctx);
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_setfield(L, LUA_REGISTRYINDEX, MADE_DIRS);
}

static const luaL_Reg fns[] = {
        { "labs", l_labs },           { "down", l_down },
        { "lab_dir", l_lab_dir },     { "lab_dir_find", l_lab_dir_find },
        { "lab_dir_remove", l_lab_dir_remove }, { "lab_dir_labs", l_lab_dir_labs },
        { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_lab = { .fns = fns };
