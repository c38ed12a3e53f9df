/* help.c - help() in the shell, from the same doc comments as README:
 * tools/apidoc extracts them at build time into repl_docs[]. An entry is
 * found by its function value, so help(fwsh.tap.up) finds link:up(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "repl.h"

#define WIDTH 78

static const char INTRO[] =
        "fwsh: Lua with the module fwsh, for bridges, taps, veth pairs, addresses,\n"
        "routes and network namespaces. An expression prints its value; a statement\n"
        "that is not finished goes on on the next line.\n"
        "\n"
        "  fwsh.show()            the bridges and their ports, as brctl show prints them\n"
        "  fwsh.show{json=true}   everything, as JSON; fwsh.state(): the same as data\n"
        "  help(fwsh.bridge)      what a part offers; help(fwsh.bridge.add): one function\n"
        "  Tab                    completes names, fields, methods after ':', and the\n"
        "                         names of interfaces inside a string\n"
        "  Ctrl-C                 stops what runs; Ctrl-D leaves\n"
        "\n";

/* Prints text as a paragraph, continuation lines indented. */
static void print_wrapped(const char *text)
{
        int col = 0;

        while (*text) {
                size_t n = strcspn(text, " ");

                if (col > 0 && col + 1 + (int)n > WIDTH) {
                        fputs("\n    ", stdout);
                        col = 4;
                } else if (col > 0) {
                        putchar(' ');
                        col++;
                }
                fwrite(text, 1, n, stdout);
                col += (int)n;
                text += n;
                text += strspn(text, " ");
        }
        putchar('\n');
}

/* Pushes what the entry's name stands for: "fwsh.bridge.add" a global's
 * field, "bridge:ports" a method of the fwsh.bridge handles; or nil. */
static void resolve(lua_State *L, const char *name)
{
        const char *colon = strchr(name, ':'), *p = name;

        if (colon) {
                lua_pushfstring(L, "fwsh.%s", lua_pushlstring(L, name, (size_t)(colon - name)));
                luaL_getmetatable(L, lua_tostring(L, -1));
                lua_replace(L, -3);
                lua_pop(L, 1);
                if (lua_istable(L, -1))
                        lua_getfield(L, -1, "methods");
                else
                        lua_pushnil(L);
                lua_remove(L, -2);
                p = colon + 1;
        } else {
                lua_pushglobaltable(L);
        }
        while (*p && lua_istable(L, -1)) {
                size_t n = strcspn(p, ".");
                lua_pushlstring(L, p, n);
                lua_rawget(L, -2);
                lua_remove(L, -2);
                p += n + (p[n] == '.');
        }
        if (*p) {
                lua_pop(L, 1);
                lua_pushnil(L);
        }
}

static const char *key_of(const char *name)
{
        const char *k = strrchr(name, ':');

        if (!k)
                k = strrchr(name, '.');
        return k ? k + 1 : name;
}

/* Prints the entries for the functions in table t; returns how many. */
static int help_table(lua_State *L, int t)
{
        int found = 0;

        for (unsigned i = 0; i < repl_ndocs; i++) {
                bool same;

                lua_getfield(L, t, key_of(repl_docs[i].name));
                resolve(L, repl_docs[i].name);
                same = lua_isfunction(L, -1) && lua_rawequal(L, -1, -2);
                lua_pop(L, 2);
                if (same) {
                        print_wrapped(repl_docs[i].text);
                        found++;
                }
        }
        return found;
}

/* Prints the names of t's fields that hold tables, the parts of a module;
 * returns how many. */
static int list_parts(lua_State *L, int t, const char *path)
{
        int n = 0;

        lua_newtable(L);
        lua_pushnil(L);
        while (lua_next(L, t)) {
                if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1)) {
                        lua_pushvalue(L, -2);
                        lua_rawseti(L, -4, ++n);
                }
                lua_pop(L, 1);
        }
        if (n == 0) {
                lua_pop(L, 1);
                return 0;
        }
        lua_getglobal(L, "table");
        lua_getfield(L, -1, "sort");
        lua_remove(L, -2);
        if (lua_isfunction(L, -1)) {
                lua_pushvalue(L, -2);
                lua_call(L, 1, 0);
        } else {
                lua_pop(L, 1);
        }
        printf("parts (help(%s.NAME) for each):", path);
        for (int i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                printf(" %s", lua_tostring(L, -1));
                lua_pop(L, 1);
        }
        putchar('\n');
        lua_pop(L, 1);
        return n;
}

/* The name a global table is known by ("fwsh", "fwsh.bridge"), or "?". */
static const char *table_name(lua_State *L, int t)
{
        for (unsigned i = 0; i < repl_ndocs; i++) {
                const char *name = repl_docs[i].name, *k = key_of(name);
                bool same;

                if (strchr(name, ':') || k == name)
                        continue;
                lua_pushlstring(L, name, (size_t)(k - 1 - name));
                resolve(L, lua_tostring(L, -1));
                same = lua_rawequal(L, -1, t);
                lua_pop(L, 1);
                if (same)
                        return lua_tostring(L, -1); /* left on the stack for the caller */
                lua_pop(L, 1);
        }
        lua_pushliteral(L, "?");
        return lua_tostring(L, -1);
}

/*** help([fn | table | "fwsh.x.y"]) -> prints what a function does, or what
 * each function of a table or handle does; with nothing, how to use the shell */
static int l_help(lua_State *L)
{
        int found = 0;

        if (lua_isnone(L, 1)) {
                fputs(INTRO, stdout);
                lua_getglobal(L, "fwsh");
                if (lua_istable(L, -1))
                        list_parts(L, lua_gettop(L), "fwsh");
                fflush(stdout);
                return 0;
        }
        if (lua_type(L, 1) == LUA_TSTRING) {
                size_t len;
                const char *name = lua_tolstring(L, 1, &len);

                for (unsigned i = 0; i < repl_ndocs && strlen(name) == len; i++) /* not a shorter name */
                        if (strcmp(repl_docs[i].name, name) == 0) {
                                print_wrapped(repl_docs[i].text);
                                found++;
                        }
        } else if (lua_isfunction(L, 1)) {
                for (unsigned i = 0; i < repl_ndocs && !found; i++) {
                        resolve(L, repl_docs[i].name);
                        if (lua_rawequal(L, -1, 1)) {
                                print_wrapped(repl_docs[i].text);
                                found++;
                        }
                        lua_pop(L, 1);
                }
        } else if (lua_istable(L, 1)) {
                found = help_table(L, 1);
                found += list_parts(L, 1, table_name(L, 1));
        } else if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE) { /* an fwsh handle */
                found = help_table(L, lua_gettop(L));
        }
        if (!found)
                printf("no help for %s\n", luaL_tolstring(L, 1, NULL));
        fflush(stdout);
        return 0;
}

void repl_help_open(lua_State *L)
{
        lua_pushcfunction(L, l_help);
        lua_setglobal(L, "help");
}
