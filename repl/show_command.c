/* show_command.c - `fwsh show [--json]`: the one view of the namespace from
 * the command line, what fwsh.show() prints. A file called "show" in the
 * current directory is a script and wins. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "repl.h"

bool show_command_is(const char *arg)
{
        struct stat st;

        return strcmp(arg, "show") == 0 && stat(arg, &st) < 0 && errno == ENOENT;
}

int show_command_run(lua_State *L, int argc, char **argv, const struct fwsh_opts *o)
{
        bool json = false;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
                        json = true;
                } else {
                        fprintf(stderr, "fwsh show: unknown argument '%s'\n"
                                        "usage: fwsh [--netns NAME] show [--json]\n", argv[i]);
                        return LUA_ERRRUN;
                }
        }
        lua_getglobal(L, "fwsh");
        lua_getfield(L, -1, "show");
        lua_remove(L, -2);
        lua_createtable(L, 0, 1);
        lua_pushboolean(L, json);
        lua_setfield(L, -2, "json");
        return run_chunk(L, 1, o);
}
