/* show.c - fwsh.show: the bridges and their ports, as `brctl show` prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

static int cmp_name(const void *a, const void *b)
{
        return strcmp(((const struct fwsh_link *)a)->name, ((const struct fwsh_link *)b)->name);
}

/* brctl's own layout: tabs, and one continuation line per further port. */
static void brctl_table(luaL_Buffer *b, lua_State *L, struct fwsh_link *links, size_t n)
{
        luaL_addstring(b, "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n");
        for (size_t i = 0; i < n; i++) {
                const struct fwsh_link *br = &links[i];
                int ports = 0;

                if (strcmp(br->kind, "bridge") != 0)
                        continue;
                lua_pushfstring(L, "%s\t\t%s\t%s\t\t", br->name, br->bridge.id,
                                br->bridge.opts.stp == 1 ? "yes" : "no");
                luaL_addvalue(b);
                for (size_t k = 0; k < n; k++) {
                        if (links[k].master != br->ifindex)
                                continue;
                        if (ports++)
                                luaL_addstring(b, "\t\t\t\t\t\t\t");
                        luaL_addstring(b, links[k].name);
                        luaL_addchar(b, '\n');
                }
                if (!ports)
                        luaL_addchar(b, '\n');
        }
}

/*** fwsh.show([{print=true}]) -> the `brctl show` table of this namespace;
 * printed to standard output unless print=false, returned as a string then */
static int l_show(lua_State *L)
{
        static const char *const known[] = { "print", NULL };
        struct fwsh_ctx *ctx;
        struct fwsh_link *links = NULL;
        size_t n = 0;
        luaL_Buffer b;
        bool print;

        lfwsh_check_fields(L, 1, known);
        print = lfwsh_opt_bool(L, 1, "print", true);
        ctx = lfwsh_ctx(L);
        lfwsh_check(L, ctx, fwsh_link_list(ctx, &links, &n), "show", "bridges");
        qsort(links, n, sizeof(*links), cmp_name);
        luaL_buffinit(L, &b);
        brctl_table(&b, L, links, n);
        free(links);
        luaL_pushresult(&b);
        if (!print)
                return 1;
        fputs(lua_tostring(L, -1), stdout);
        fflush(stdout);
        return 0;
}

int lfwsh_open_show(lua_State *L)
{
        lua_pushcfunction(L, l_show);
        return 1;
}
