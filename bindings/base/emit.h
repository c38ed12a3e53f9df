/* emit.h - one walk over some state, three outputs: text for people, JSON, or
 * a Lua table. iproute2's print_*(PRINT_ANY, key, fmt, value) pattern: each
 * item says whether it belongs to the text (printed with fmt), to the data
 * (JSON and Lua, under key), or to both. */
#ifndef FWSH_EMIT_H
#define FWSH_EMIT_H

#include <lauxlib.h>
#include <stdbool.h>

#define EMIT_DEPTH 8

enum emit_output { EMIT_TEXT, EMIT_JSON, EMIT_LUA };

/* What an item is for: iproute2's PRINT_FP, PRINT_JSON, PRINT_ANY. */
enum emit_for { FOR_TEXT = 1, FOR_DATA = 2, FOR_ANY = 3 };

struct emit {
        lua_State *L;
        enum emit_output out;
        luaL_Buffer b;                 /* the text or JSON so far */
        int depth;
        struct {
                const char *key;       /* the key of this object or array in its parent */
                bool array;
                lua_Integer n;         /* members so far */
        } level[EMIT_DEPTH];
};

/* Starts the output: the data is one object. Nothing may be pushed on the
 * Lua stack between begin and end but through the emitter. */
void emit_begin(struct emit *e, lua_State *L, enum emit_output out);
/* Pushes the result: the text, the JSON (ending in a newline), or the table. */
void emit_end(struct emit *e);

/* Objects and arrays: key is ignored inside an array. Text output skips them. */
void emit_object(struct emit *e, const char *key);
void emit_array(struct emit *e, const char *key);
void emit_close(struct emit *e);

/* Values; fmt has one conversion for the value (%s for a bool: "yes"/"no").
 * fmt NULL: nothing in the text. */
void emit_string(struct emit *e, enum emit_for f, const char *key, const char *fmt, const char *v);
void emit_int(struct emit *e, enum emit_for f, const char *key, const char *fmt, long long v);
void emit_number(struct emit *e, enum emit_for f, const char *key, const char *fmt, double v);
void emit_bool(struct emit *e, enum emit_for f, const char *key, const char *fmt, bool v);
/* Text only. */
void emit_text(struct emit *e, const char *text);

#endif
