/* complete.c - Tab completion: global names and keywords; the fields of a
 * table (`fwsh.br` -> `fwsh.bridge`); after ':', the methods of a value
 * (fwsh handles keep theirs in their metatable's `methods`); and inside a
 * string, the names of the interfaces of the session's namespace, read from
 * the kernel at each Tab, or of the named namespaces in fwsh.netns.*("...").
 * Nothing runs that could change anything: fields are read raw, through
 * __index tables only, never functions. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "fwsh_lua.h"
#include "readline.h"
#include "repl.h"

#define WORD_BREAKS " \t\n\"'`@$><=;|&{}(),+-*/%^~#[].:"
#define MAX_HOPS 16

static lua_State *session;

static bool is_name_char(char c)
{
        return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* The quote character if position end of line is inside a string, else 0
 * (also in a comment, where nothing completes). */
static char string_quote(const char *line, int end)
{
        char q = 0;

        for (int i = 0; i < end; i++) {
                if (q && line[i] == '\\')
                        i++;
                else if (q && line[i] == q)
                        q = 0;
                else if (!q && (line[i] == '"' || line[i] == '\''))
                        q = line[i];
                else if (!q && line[i] == '-' && i + 1 < end && line[i + 1] == '-')
                        return 0;
        }
        return q;
}

/* Whether the string that starts at quote is an argument of fwsh.netns.*(. */
static bool netns_argument(const char *line, int quote)
{
        static const char FN[] = "fwsh.netns.";
        int i = quote - 1, end;

        while (i >= 0 && line[i] == ' ')
                i--;
        if (i < 0 || line[i] != '(')
                return false;
        end = i;
        while (i > 0 && (is_name_char(line[i - 1]) || line[i - 1] == '.'))
                i--;
        return end - i > (int)sizeof(FN) - 1 && strncmp(line + i, FN, sizeof(FN) - 1) == 0;
}

/* Replaces the value at the top by its metatable's __index if that is a
 * table; else pops it and returns false. */
static bool follow_index(lua_State *L)
{
        if (lua_getmetatable(L, -1)) {
                lua_pushliteral(L, "__index");
                lua_rawget(L, -2);
                lua_remove(L, -2);
                lua_remove(L, -2);
                if (lua_type(L, -1) == LUA_TTABLE)
                        return true;
        }
        lua_pop(L, 1);
        return false;
}

/* Pushes o[key] as far as it is known without running code: a raw field, or
 * one reached through __index tables; nil otherwise. */
static void peek(lua_State *L, int o, const char *key)
{
        lua_pushvalue(L, o);
        for (int hops = 0; hops < MAX_HOPS; hops++) {
                if (lua_type(L, -1) == LUA_TTABLE) {
                        lua_pushstring(L, key);
                        if (lua_rawget(L, -2) != LUA_TNIL) {
                                lua_remove(L, -2);
                                return;
                        }
                        lua_pop(L, 1);
                }
                if (!follow_index(L)) {
                        lua_pushnil(L);
                        return;
                }
        }
        lua_pop(L, 1);
        lua_pushnil(L);
}

/* Adds the name keys of table t that start with prefix to set; only those
 * holding functions if methods. */
static void add_table_keys(lua_State *L, int set, int t, const char *prefix, bool methods)
{
        size_t n = strlen(prefix);

        t = lua_absindex(L, t);
        lua_pushnil(L);
        while (lua_next(L, t)) {
                const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
                if (k && strncmp(k, prefix, n) == 0 && is_name_char(k[0]) && !(k[0] >= '0' && k[0] <= '9') &&
                    (!methods || lua_isfunction(L, -1))) {
                        lua_pushboolean(L, 1);
                        lua_setfield(L, set, k);
                }
                lua_pop(L, 1);
        }
}

/* Adds the keys of the value at o, and of the __index tables behind it;
 * for methods also those of an fwsh handle's metatable's `methods`. */
static void add_keys(lua_State *L, int set, int o, const char *prefix, bool methods)
{
        lua_pushvalue(L, o);
        for (int hops = 0; hops < MAX_HOPS; hops++) {
                int type = methods ? luaL_getmetafield(L, -1, "methods") : LUA_TNIL;

                if (type == LUA_TTABLE)
                        add_table_keys(L, set, -1, prefix, true);
                if (type != LUA_TNIL)
                        lua_pop(L, 1);
                if (lua_type(L, -1) == LUA_TTABLE)
                        add_table_keys(L, set, -1, prefix, methods);
                if (!follow_index(L))
                        return;
        }
        lua_pop(L, 1);
}

static void add_keywords(lua_State *L, int set, const char *prefix)
{
        for (int i = 0; repl_keywords[i]; i++)
                if (strncmp(repl_keywords[i], prefix, strlen(prefix)) == 0) {
                        lua_pushboolean(L, 1);
                        lua_setfield(L, set, repl_keywords[i]);
                }
}

static void add_links(lua_State *L, int set, const char *prefix)
{
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_link *links = NULL;
        size_t n = 0;

        if (fwsh_link_list(ctx, &links, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (strncmp(links[i].name, prefix, strlen(prefix)) == 0) {
                        lua_pushboolean(L, 1);
                        lua_setfield(L, set, links[i].name);
                }
        free(links);
}

static void add_netns(lua_State *L, int set, const char *prefix)
{
        char **names = NULL;
        size_t n = 0;

        if (fwsh_netns_list(lfwsh_ctx(L), &names, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (strncmp(names[i], prefix, strlen(prefix)) == 0) {
                        lua_pushboolean(L, 1);
                        lua_setfield(L, set, names[i]);
                }
        fwsh_strv_free(names, n);
}

/* collect(what, path, sep, prefix) -> set of completions. what: "links",
 * "netns" or "lua"; path: "fwsh.bridge" (with sep "." or ":") or "". */
static int collect(lua_State *L)
{
        const char *what = lua_tostring(L, 1), *path = lua_tostring(L, 2);
        const char *sep = lua_tostring(L, 3), *prefix = lua_tostring(L, 4);
        int set;

        lua_newtable(L);
        set = lua_gettop(L);
        if (strcmp(what, "links") == 0) {
                add_links(L, set, prefix);
        } else if (strcmp(what, "netns") == 0) {
                add_netns(L, set, prefix);
        } else if (!path[0]) {
                lua_pushglobaltable(L);
                add_keys(L, set, -1, prefix, false);
                add_keywords(L, set, prefix);
        } else {
                lua_pushglobaltable(L);
                for (const char *p = path; *p;) {
                        size_t n = strcspn(p, ".");
                        lua_pushlstring(L, p, n);
                        peek(L, -2, lua_tostring(L, -1));
                        lua_replace(L, -3);
                        lua_pop(L, 1);
                        p += n + (p[n] == '.');
                }
                add_keys(L, set, -1, prefix, sep[0] == ':');
        }
        lua_settop(L, set);
        return 1;
}

/* The completions, from the set at the top (popped), as readline wants them. */
static char **matches(lua_State *L)
{
        size_t n = 0, len;
        char **v;

        lua_pushnil(L);
        while (lua_next(L, -2)) {
                n++;
                lua_pop(L, 1);
        }
        if (n == 0) {
                lua_pop(L, 1);
                return NULL;
        }
        v = calloc(n + 2, sizeof(*v));
        if (!v) {
                lua_pop(L, 1);
                return NULL;
        }
        n = 1; /* v[0]: what replaces text, their common start */
        lua_pushnil(L);
        while (lua_next(L, -2)) {
                v[n++] = strdup(lua_tostring(L, -2));
                lua_pop(L, 1);
        }
        lua_pop(L, 1);
        len = strlen(v[1]);
        for (size_t i = 2; i < n; i++) {
                size_t k = 0;
                while (k < len && v[i][k] == v[1][k])
                        k++;
                len = k;
        }
        v[0] = strndup(v[1], len);
        if (n == 2) { /* one match: it is v[0] */
                free(v[1]);
                v[1] = NULL;
        }
        return v;
}

/* Whether the n bytes at p are name(.name)*: no `a[1].b`, `f().b`, `1.5`. */
static bool is_path(const char *p, int n)
{
        bool start = true;

        for (int i = 0; i < n; i++) {
                if (p[i] == '.' && !start)
                        start = true;
                else if (is_name_char(p[i]) && !(start && p[i] >= '0' && p[i] <= '9'))
                        start = false;
                else
                        return false;
        }
        return !start;
}

static char **complete(const char *text, int start, int end)
{
        lua_State *L = session;
        const char *line = *sym_rl_line_buffer, *what = "lua", *sep = "";
        char quote = string_quote(line, start);
        int top = lua_gettop(L), ps = start;
        char **v = NULL;

        (void)end;
        *sym_rl_attempted_completion_over = 1; /* never file names */
        *sym_rl_completion_append_character = '\0';
        if (quote) {
                int q = start;
                while (q > 0 && line[q - 1] != quote)
                        q--;
                what = netns_argument(line, q - 1) ? "netns" : "links";
                *sym_rl_completion_append_character = quote;
        } else {
                while (ps > 0 && (is_name_char(line[ps - 1]) || line[ps - 1] == '.' || line[ps - 1] == ':'))
                        ps--;
                if (ps < start) {
                        if ((ps > 0 && strchr(")]}\"'", line[ps - 1])) || !is_path(line + ps, start - 1 - ps))
                                return NULL;
                        sep = line[start - 1] == ':' ? ":" : ".";
                }
        }
        lua_pushcfunction(L, collect);
        lua_pushstring(L, what);
        lua_pushlstring(L, line + ps, ps < start ? (size_t)(start - ps - 1) : 0);
        lua_pushstring(L, sep);
        lua_pushstring(L, text);
        if (lua_pcall(L, 4, 1, 0) == LUA_OK)
                v = matches(L);
        lua_settop(L, top);
        return v;
}

/* Inside a string the word is all of it since the quote: names like
 * "eth0.100" or "fw-1" complete whole. */
static char *word_breaks(void)
{
        return string_quote(*sym_rl_line_buffer, *sym_rl_point) ? " \"'" : WORD_BREAKS;
}

void repl_complete_open(lua_State *L)
{
        session = L;
        *sym_rl_completer_word_break_characters = WORD_BREAKS;
        *sym_rl_completion_word_break_hook = word_breaks;
        *sym_rl_attempted_completion_function = complete;
}
