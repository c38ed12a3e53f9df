/* emit.c - text, JSON or a Lua table from one walk (see emit.h). */
#include <math.h>
#include <stdio.h>

#include "emit.h"

void emit_begin(struct emit *e, lua_State *L, enum emit_output out)
{
        e->L = L;
        e->out = out;
        e->depth = 0;
        e->level[0].key = NULL;
        e->level[0].array = false;
        e->level[0].n = 0;
        if (out == EMIT_LUA) {
                lua_newtable(L);
                return;
        }
        luaL_buffinit(L, &e->b);
        if (out == EMIT_JSON)
                luaL_addchar(&e->b, '{');
}

void emit_end(struct emit *e)
{
        if (e->out == EMIT_LUA)
                return;
        if (e->out == EMIT_JSON)
                luaL_addstring(&e->b, "}\n");
        luaL_pushresult(&e->b);
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * form, no surrogate, nothing past U+10FFFF), 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
        size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
        unsigned cp;

        if (s[0] < 0xc2 || s[0] > 0xf4)
                return 0;
        cp = s[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80) /* also stops at the string's end */
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* A JSON string is Unicode: a name the kernel took as bytes (a link called
 * "\xffx") is not always UTF-8. A byte outside a well-formed sequence is
 * written as the code point of the same number (0xff as \u00ff, as Latin-1
 * reads it), so that the document stays valid and the byte can be told. */
static void json_string(luaL_Buffer *b, const char *str)
{
        const unsigned char *s = (const unsigned char *)str;

        luaL_addchar(b, '"');
        while (*s) {
                char esc[8];
                size_t n;

                if (*s == '"' || *s == '\\') {
                        luaL_addchar(b, '\\');
                        luaL_addchar(b, (char)*s++);
                } else if (*s < 0x20 || *s == 0x7f) {
                        snprintf(esc, sizeof(esc), "\\u%04x", *s++);
                        luaL_addstring(b, esc);
                } else if (*s < 0x80) {
                        luaL_addchar(b, (char)*s++);
                } else if ((n = utf8_len(s)) > 0) {
                        luaL_addlstring(b, (const char *)s, n);
                        s += n;
                } else {
                        snprintf(esc, sizeof(esc), "\\u%04x", *s++);
                        luaL_addstring(b, esc);
                }
        }
        luaL_addchar(b, '"');
}

/* JSON: the comma and the key before a member. */
static void json_member(struct emit *e, const char *key)
{
        if (e->level[e->depth].n++)
                luaL_addchar(&e->b, ',');
        if (!e->level[e->depth].array) {
                json_string(&e->b, key);
                luaL_addchar(&e->b, ':');
        }
}

/* Lua: stores the value at the top into the table below it. */
static void lua_member(struct emit *e, const char *key)
{
        if (e->level[e->depth].array)
                lua_rawseti(e->L, -2, ++e->level[e->depth].n);
        else
                lua_setfield(e->L, -2, key);
}

static void open_level(struct emit *e, const char *key, bool array)
{
        if (e->out == EMIT_TEXT)
                return;
        if (e->depth + 1 >= EMIT_DEPTH)
                luaL_error(e->L, "emit: nested deeper than %d", EMIT_DEPTH);
        if (e->out == EMIT_JSON) {
                json_member(e, key);
                luaL_addchar(&e->b, array ? '[' : '{');
        } else {
                lua_newtable(e->L);
        }
        e->depth++;
        e->level[e->depth].key = key;
        e->level[e->depth].array = array;
        e->level[e->depth].n = 0;
}

void emit_object(struct emit *e, const char *key)
{
        open_level(e, key, false);
}

void emit_array(struct emit *e, const char *key)
{
        open_level(e, key, true);
}

void emit_close(struct emit *e)
{
        const char *key;

        if (e->out == EMIT_TEXT)
                return;
        key = e->level[e->depth].key;
        if (e->out == EMIT_JSON)
                luaL_addchar(&e->b, e->level[e->depth].array ? ']' : '}');
        e->depth--;
        if (e->out == EMIT_LUA)
                lua_member(e, key);
}

static void text(struct emit *e, enum emit_for f, const char *s)
{
        if (f & FOR_TEXT)
                luaL_addstring(&e->b, s);
}

void emit_string(struct emit *e, enum emit_for f, const char *key, const char *fmt, const char *v)
{
        char buf[512];

        if (e->out == EMIT_TEXT) {
                if (fmt) {
                        snprintf(buf, sizeof(buf), fmt, v);
                        text(e, f, buf);
                }
        } else if (f & FOR_DATA) {
                if (e->out == EMIT_JSON) {
                        json_member(e, key);
                        json_string(&e->b, v);
                } else {
                        lua_pushstring(e->L, v);
                        lua_member(e, key);
                }
        }
}

void emit_int(struct emit *e, enum emit_for f, const char *key, const char *fmt, long long v)
{
        char buf[64];

        if (e->out == EMIT_TEXT) {
                if (fmt) {
                        snprintf(buf, sizeof(buf), fmt, v);
                        text(e, f, buf);
                }
        } else if (f & FOR_DATA) {
                if (e->out == EMIT_JSON) {
                        json_member(e, key);
                        snprintf(buf, sizeof(buf), "%lld", v);
                        luaL_addstring(&e->b, buf);
                } else {
                        lua_pushinteger(e->L, (lua_Integer)v);
                        lua_member(e, key);
                }
        }
}

void emit_number(struct emit *e, enum emit_for f, const char *key, const char *fmt, double v)
{
        char buf[64];

        if (e->out == EMIT_TEXT) {
                if (fmt) {
                        snprintf(buf, sizeof(buf), fmt, v);
                        text(e, f, buf);
                }
        } else if (f & FOR_DATA) {
                if (e->out == EMIT_JSON) {
                        json_member(e, key);
                        if (isfinite(v))
                                snprintf(buf, sizeof(buf), "%.14g", v);
                        luaL_addstring(&e->b, isfinite(v) ? buf : "null");
                } else {
                        lua_pushnumber(e->L, v);
                        lua_member(e, key);
                }
        }
}

void emit_bool(struct emit *e, enum emit_for f, const char *key, const char *fmt, bool v)
{
        if (e->out == EMIT_TEXT) {
                emit_string(e, f, key, fmt, v ? "yes" : "no");
        } else if (f & FOR_DATA) {
                if (e->out == EMIT_JSON) {
                        json_member(e, key);
                        luaL_addstring(&e->b, v ? "true" : "false");
                } else {
                        lua_pushboolean(e->L, v);
                        lua_member(e, key);
                }
        }
}

void emit_text(struct emit *e, const char *s)
{
        if (e->out == EMIT_TEXT)
                luaL_addstring(&e->b, s);
}
