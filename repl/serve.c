/* serve.c - fwsh --serve: this fwsh as a host of another fwsh's lab, driven
 * by fwsh.host (lab/lua/fwsh/hosts.lua) over ssh. The requests come on
 * standard input, the replies go out on what was standard output; standard
 * output itself goes to standard error from the start, so that nothing the
 * served code prints can corrupt a reply. The session runs as a script
 * does, in one transaction: lab/lua/fwsh/serve.lua. */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
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

static int close_stream(lua_State *L)
{
        luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
        int r = fclose(p->f);

        return luaL_fileresult(L, r == 0, NULL);
}

/* serve_main(fd): require("fwsh.serve").loop(io.stdin, the file on fd) */
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
        lua_call(L, 2, 0);
        return 0;
}

int serve_run(lua_State *L, int fd, const struct fwsh_opts *o)
{
        lua_getglobal(L, "fwsh");
        lua_getfield(L, -1, "transaction");
        lua_remove(L, -2);
        lua_pushcfunction(L, serve_main);
        lua_pushinteger(L, fd);
        return run_chunk(L, 2, o);
}
