/* serve.c - fwsh --serve: this fwsh as a host of another fwsh's lab, driven
 * by fwsh.host (bindings/lua/fwsh/hosts.lua) over ssh. The requests come on
 * standard input, the replies go out on what was standard output; standard
 * output itself goes to standard error from the start, so that nothing the
 * served code prints can corrupt a reply. The session runs as a script
 * does, in one transaction: bindings/lua/fwsh/serve.lua. */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repl.h"

int serve_prepare(void)
{
        int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);

        if (fd < 0)
                return -errno;
        if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

/* The plan's (--dry-run) or explanation's (--explain) lines of the request
 * being served, until the loop takes them into its reply. */
static char *lines;
static size_t lines_len;

void serve_lines(void *arg, const char *text)
{
        size_t n = strlen(text);
        char *p = realloc(lines, lines_len + n + 2);

        (void)arg;
        if (!p)
                return;
        lines = p;
        memcpy(lines + lines_len, text, n);
        lines_len += n;
        lines[lines_len++] = '\n';
        lines[lines_len] = '\0';
}

/* take() -> the lines since the last take, "" if none */
static int take_lines(lua_State *L)
{
        lua_pushlstring(L, lines ? lines : "", lines_len);
        free(lines);
        lines = NULL;
        lines_len = 0;
        return 1;
}

static int close_stream(lua_State *L)
{
        luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
        int r = fclose(p->f);

        return luaL_fileresult(L, r == 0, NULL);
}

/* serve_main(fd): require("fwsh.serve").loop(io.stdin, the file on fd, take_lines) */
static int serve_main(lua_State *L)
{
        int fd = (int)luaL_checkinteger(L, 1);
        luaL_Stream *out;

        lua_getglobal(L, "require");
        lua_pushstring(L, "fwsh.serve");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "loop");
        lua_getglobal(L, "io");
        lua_getfield(L, -1, "stdin");
        lua_remove(L, -2);
        out = lua_newuserdatauv(L, sizeof(*out), 0);
        out->closef = NULL; /* closed until it is open */
        luaL_setmetatable(L, LUA_FILEHANDLE);
        out->f = fdopen(fd, "wb");
        if (!out->f)
                return luaL_error(L, "fwsh --serve: fdopen: %s", strerror(errno));
        out->closef = close_stream;
        lua_pushcfunction(L, take_lines);
        lua_call(L, 3, 0);
        return 0;
}

int serve_run(lua_State *L, int fd, const struct fwsh_opts *o)
{
        int status;

        run_push_kept(L, "transaction");
        lua_pushcfunction(L, serve_main);
        lua_pushinteger(L, fd);
        status = run_chunk(L, 2, o);
        take_lines(L);
        lua_pop(L, 1);
        return status;
}
