/* repl.c - the interactive shell, after lua.c: a line is first tried as
 * "return LINE" so that an expression prints its value; a chunk the compiler
 * calls unfinished ("... near <eof>") goes on with the next line; each
 * statement runs on its own, and an error in one does not end the shell.
 * From a pipe the same, without prompts, banner or history. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "repl.h"

#define EOF_MARK "<eof>"

struct repl {
        bool tty;
        const struct fwsh_opts *o;
};

enum { READ_END = -1, READ_CANCELLED = -2 };

static int prompt_text(lua_State *L)
{
        luaL_tolstring(L, 1, NULL);
        return 1;
}

/* _PROMPT / _PROMPT2 as lua.c takes them (tostring of any value; nil for
 * fwsh's own); a __tostring that fails gives fwsh's. */
static const char *prompt(lua_State *L, bool first)
{
        static char buf[256];
        const char *def = first ? "fwsh> " : "   >> ";
        int top = lua_gettop(L);

        lua_pushcfunction(L, prompt_text);
        if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") == LUA_TNIL ||
            lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
                lua_settop(L, top);
                return def;
        }
        snprintf(buf, sizeof(buf), "%s", lua_tostring(L, -1));
        lua_settop(L, top);
        return buf;
}

/* Whether a failed load only lacks its end; pops the message if so. */
static bool incomplete(lua_State *L, int status)
{
        size_t len;
        const char *msg;

        if (status != LUA_ERRSYNTAX)
                return false;
        msg = lua_tolstring(L, -1, &len);
        if (len < sizeof(EOF_MARK) - 1 || strcmp(msg + len - (sizeof(EOF_MARK) - 1), EOF_MARK) != 0)
                return false;
        lua_pop(L, 1);
        return true;
}

/* Compiles the text at the top as an expression, then as a statement. Leaves
 * the text and pushes the chunk or the error. */
static int compile(lua_State *L)
{
        size_t len, ret_len;
        const char *text = lua_tolstring(L, -1, &len), *ret;
        int status;

        /* "=expr" is "return expr", as in lua.c; built with the text's length:
         * %s would stop at a zero byte, and "\0print(2)" ran as "return ;" */
        lua_pushliteral(L, "return ");
        lua_pushlstring(L, text[0] == '=' ? text + 1 : text, text[0] == '=' ? len - 1 : len);
        lua_pushliteral(L, ";");
        lua_concat(L, 3);
        ret = lua_tolstring(L, -1, &ret_len);
        status = luaL_loadbuffer(L, ret, ret_len, "=stdin");
        lua_remove(L, -2);
        if (status == LUA_OK)
                return status;
        lua_pop(L, 1);
        return luaL_loadbuffer(L, text, len, "=stdin");
}

/* Reads a whole statement, line by line, and pushes its chunk (LUA_OK) or
 * the error; or pushes nothing and returns READ_END or READ_CANCELLED. */
static int read_statement(lua_State *L, struct repl *r)
{
        int got = repl_read_line(L, r->tty, prompt(L, true)), status;

        if (got <= 0)
                return got == 0 ? READ_END : READ_CANCELLED;
        for (;;) {
                status = compile(L);
                if (!incomplete(L, status))
                        break;
                got = repl_read_line(L, r->tty, prompt(L, false));
                if (got < 0) {
                        lua_pop(L, 1);
                        return READ_CANCELLED;
                }
                if (got == 0) { /* the end of input in the middle: say what is missing */
                        status = compile(L);
                        break;
                }
                lua_pushliteral(L, "\n");
                lua_insert(L, -2);
                lua_concat(L, 3);
        }
        if (r->tty && lua_rawlen(L, -2) > 0)
                repl_history_add(lua_tostring(L, -2));
        lua_remove(L, -2);
        return status;
}

/* Runs the chunk at the top and prints what it returns. */
static int run_statement(lua_State *L, struct repl *r)
{
        int base = lua_gettop(L) - 1, status;

        status = run_chunk(L, 0, r->o); /* Ctrl-C stops the chunk, not the shell */
        if (status == LUA_OK && lua_gettop(L) > base) {
                lua_pushcfunction(L, repl_print);
                lua_insert(L, base + 1);
                if (lua_pcall(L, lua_gettop(L) - base - 1, 0, 0) != LUA_OK) {
                        run_message(L);
                        lua_pushfstring(L, "printing the results: %s", lua_tostring(L, -1));
                        lua_remove(L, -2);
                        report(L);
                        status = LUA_ERRRUN;
                }
        }
        lua_settop(L, base);
        return status;
}

int repl_run(lua_State *L, const struct fwsh_opts *o)
{
        struct repl r = { .tty = isatty(STDIN_FILENO), .o = o };
        int status;

        repl_help_open(L);
        if (r.tty && !repl_input_open(L))
                r.tty = false;
        if (r.tty) {
                printf("fwsh %s (%s)  help() for help, Tab completes, Ctrl-D leaves\n",
                       FWSH_VERSION, LUA_RELEASE);
                fflush(stdout);
        }
        while ((status = read_statement(L, &r)) != READ_END) {
                if (status == READ_CANCELLED)
                        continue;
                if (status == LUA_OK)
                        status = run_statement(L, &r);
                else
                        report(L);
                if (run_exit_code() >= 0)
                        break; /* os.exit(code): the shell ends too */
        }
        if (r.tty) {
                putchar('\n');
                repl_input_close();
        }
        fflush(stdout);
        return 0; /* as lua.c's: a failed statement is reported, the status stays 0 */
}
