/* pretty.c - results as a reader wants them. A table is shown as a
 * constructor: its list part in order, then its other keys sorted (numbers,
 * then names), on one line when it fits, else one entry a line, indented. A
 * table reached more than once, through a cycle or shared, is labelled <N>
 * where it is shown first and written <table N> after that (inspect.lua's
 * way). Anything with a __tostring (fwsh handles: "bridge br1 (up, 3 ports)",
 * fwsh errors) shows as that. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "repl.h"

#define WIDTH 78
#define MAX_DEPTH 32

struct pretty {
        lua_State *L;
        int counts;   /* table -> how often it is reached */
        int ids;      /* table -> its label, once shown */
        int next_id;
};

static bool has_tostring(lua_State *L, int idx)
{
        return luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL && (lua_pop(L, 1), true);
}

static bool is_plain_table(lua_State *L, int idx)
{
        return lua_type(L, idx) == LUA_TTABLE && !has_tostring(L, idx);
}

/* First pass: how often each table is reached. */
static void count(struct pretty *p, int idx, int depth)
{
        lua_State *L = p->L;
        lua_Integer n;

        if (!is_plain_table(L, idx) || depth > MAX_DEPTH)
                return;
        lua_pushvalue(L, idx);
        lua_rawget(L, p->counts);
        n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_pushvalue(L, idx);
        lua_pushinteger(L, n + 1);
        lua_rawset(L, p->counts);
        if (n > 0)
                return;
        luaL_checkstack(L, 8, "table nested too deep");
        lua_pushnil(L);
        while (lua_next(L, idx)) {
                count(p, lua_gettop(L) - 1, depth + 1);
                count(p, lua_gettop(L), depth + 1);
                lua_pop(L, 1);
        }
}

static void push_quoted(lua_State *L, int idx)
{
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        luaL_Buffer b;

        luaL_buffinit(L, &b);
        luaL_addchar(&b, '"');
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[8];

                switch (c) {
                case '"': luaL_addstring(&b, "\\\""); break;
                case '\\': luaL_addstring(&b, "\\\\"); break;
                case '\n': luaL_addstring(&b, "\\n"); break;
                case '\t': luaL_addstring(&b, "\\t"); break;
                case '\r': luaL_addstring(&b, "\\r"); break;
                default:
                        if (c < 0x20 || c == 0x7f) {
                                snprintf(esc, sizeof(esc), "\\%03u", c);
                                luaL_addstring(&b, esc);
                        } else {
                                luaL_addchar(&b, (char)c);
                        }
                }
        }
        luaL_addchar(&b, '"');
        luaL_pushresult(&b);
}

const char *const repl_keywords[] = {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
        "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
        "true", "until", "while", NULL,
};

static bool is_name(const char *s)
{
        if (!(s[0] == '_' || ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z')))
                return false;
        for (const char *c = s; *c; c++)
                if (!(*c == '_' || (*c >= '0' && *c <= '9') || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')))
                        return false;
        for (int i = 0; repl_keywords[i]; i++)
                if (strcmp(s, repl_keywords[i]) == 0)
                        return false;
        return true;
}

static void render(struct pretty *p, int idx, int depth, bool quote);

struct key {
        int rank;              /* 0 numbers, 1 strings, 2 anything else */
        lua_Number num;
        const char *str;
        int pos;               /* where it was found: the order among rank 2 */
};

static int key_cmp(const void *a, const void *b)
{
        const struct key *x = a, *y = b;

        if (x->rank != y->rank)
                return x->rank - y->rank;
        if (x->rank == 0 && x->num != y->num)
                return x->num < y->num ? -1 : 1;
        if (x->rank == 1)
                return strcmp(x->str, y->str);
        return x->pos - y->pos;
}

/* Pushes a list of the keys of the table at t that are not in its list part
 * 1..n, sorted, and returns how many. */
static int sorted_keys(lua_State *L, int t, lua_Integer n)
{
        struct key *v;
        int k = 0, list;

        lua_newtable(L);
        list = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, t)) {
                lua_pop(L, 1);
                if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= n)
                        continue;
                lua_pushvalue(L, -1);
                lua_rawseti(L, list, ++k);
        }
        if (k < 2)
                return k;
        v = lua_newuserdatauv(L, sizeof(*v) * (size_t)k, 0); /* freed by the GC, also on error */
        for (int i = 0; i < k; i++) {
                int type = lua_rawgeti(L, list, i + 1);
                v[i].rank = type == LUA_TNUMBER ? 0 : type == LUA_TSTRING ? 1 : 2;
                v[i].num = type == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
                v[i].str = type == LUA_TSTRING ? lua_tostring(L, -1) : NULL; /* the list holds it */
                v[i].pos = i + 1;
                lua_pop(L, 1);
        }
        qsort(v, (size_t)k, sizeof(*v), key_cmp);
        lua_createtable(L, k, 0);
        for (int i = 0; i < k; i++) {
                lua_rawgeti(L, list, v[i].pos);
                lua_rawseti(L, -2, i + 1);
        }
        lua_replace(L, list);
        lua_pop(L, 1);
        return k;
}

/* Pushes the entries, joined: "{ a, b }" or one a line. */
static void join(lua_State *L, int entries, int n, int depth, const char *label)
{
        size_t width = (size_t)depth * 2 + strlen(label) + 4;
        bool one_line = true;
        luaL_Buffer b;

        for (int i = 1; i <= n; i++) {
                size_t len;
                const char *e;

                lua_rawgeti(L, entries, i);
                e = lua_tolstring(L, -1, &len);
                width += len + 2;
                one_line = one_line && !memchr(e, '\n', len);
                lua_pop(L, 1);
        }
        one_line = one_line && width <= WIDTH;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, label);
        luaL_addstring(&b, n == 0 ? "{" : one_line ? "{ " : "{\n");
        for (int i = 1; i <= n; i++) {
                if (!one_line)
                        for (int s = 0; s <= depth; s++)
                                luaL_addstring(&b, "  ");
                lua_rawgeti(L, entries, i);
                luaL_addvalue(&b);
                if (!one_line)
                        luaL_addstring(&b, ",\n");
                else if (i < n)
                        luaL_addstring(&b, ", ");
        }
        if (!one_line)
                for (int s = 0; s < depth; s++)
                        luaL_addstring(&b, "  ");
        luaL_addstring(&b, n == 0 ? "}" : one_line ? " }" : "}");
        luaL_pushresult(&b);
}

static void render_table(struct pretty *p, int t, int depth)
{
        lua_State *L = p->L;
        lua_Integer len = 0;
        char label[24] = "";
        int entries, n = 0, nkeys, keys;

        lua_pushvalue(L, t);
        if (lua_rawget(L, p->ids) == LUA_TNUMBER) {
                lua_pushfstring(L, "<table %d>", (int)lua_tointeger(L, -1));
                lua_remove(L, -2);
                return;
        }
        lua_pop(L, 1);
        if (depth >= MAX_DEPTH) {
                lua_pushliteral(L, "{...}");
                return;
        }
        lua_pushvalue(L, t);
        lua_rawget(L, p->counts);
        if (lua_tointeger(L, -1) > 1) {
                snprintf(label, sizeof(label), "<%d>", ++p->next_id);
                lua_pushvalue(L, t);
                lua_pushinteger(L, p->next_id);
                lua_rawset(L, p->ids);
        }
        lua_pop(L, 1);
        luaL_checkstack(L, 8, "table nested too deep");
        lua_newtable(L);
        entries = lua_gettop(L);
        while (lua_rawgeti(L, t, len + 1) != LUA_TNIL) {
                render(p, lua_gettop(L), depth + 1, true);
                lua_rawseti(L, entries, ++n);
                lua_pop(L, 1);
                len++;
        }
        lua_pop(L, 1);
        nkeys = sorted_keys(L, t, len);
        keys = lua_gettop(L);
        for (int i = 1; i <= nkeys; i++) {
                lua_rawgeti(L, keys, i);
                if (lua_type(L, -1) == LUA_TSTRING && is_name(lua_tostring(L, -1))) {
                        lua_pushfstring(L, "%s = ", lua_tostring(L, -1));
                } else {
                        lua_pushliteral(L, "[");
                        render(p, lua_gettop(L) - 1, depth + 1, true);
                        lua_pushliteral(L, "] = ");
                        lua_concat(L, 3);
                }
                lua_pushvalue(L, -2);
                lua_rawget(L, t);
                render(p, lua_gettop(L), depth + 1, true);
                lua_remove(L, -2);
                lua_concat(L, 2);
                lua_rawseti(L, entries, ++n);
                lua_pop(L, 1);
        }
        lua_pop(L, 1);
        join(L, entries, n, depth, label);
        lua_remove(L, entries);
}

static void render(struct pretty *p, int idx, int depth, bool quote)
{
        lua_State *L = p->L;

        if (lua_type(L, idx) == LUA_TSTRING)
                quote ? push_quoted(L, idx) : lua_pushvalue(L, idx);
        else if (is_plain_table(L, idx))
                render_table(p, idx, depth);
        else
                luaL_tolstring(L, idx, NULL);
}

static struct pretty start(lua_State *L)
{
        struct pretty p = { .L = L, .next_id = 0 };

        lua_newtable(L);
        p.counts = lua_gettop(L);
        lua_newtable(L);
        p.ids = lua_gettop(L);
        return p;
}

int repl_print(lua_State *L)
{
        int n = lua_gettop(L);
        struct pretty p = start(L);

        for (int i = 1; i <= n; i++)
                count(&p, i, 0);
        for (int i = 1; i <= n; i++) {
                size_t len;
                const char *s;

                render(&p, i, 0, false);
                s = lua_tolstring(L, -1, &len);
                fwrite(s, 1, len, stdout);
                fputc(i < n ? '\t' : '\n', stdout);
                lua_pop(L, 1);
        }
        fflush(stdout);
        return 0;
}
