/* show_command.c - `fwsh show [--json|--dot|--svg]`: the one view of the
 * namespace from the command line, what fwsh.show() prints; --svg is the
 * --dot graph drawn by Graphviz's dot (run with an argv, its input on a
 * pipe). A file called "show" in the current directory is a script and wins. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "repl.h"

bool show_command_is(const char *arg)
{
        struct stat st;

        return strcmp(arg, "show") == 0 && stat(arg, &st) < 0 && errno == ENOENT;
}

/* Draws the DOT text as SVG on standard output with `dot -Tsvg`. */
static int svg(const char *dot, size_t len)
{
        int fds[2], status;
        pid_t pid;
        void (*was)(int);

        if (pipe(fds) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -errno;
        }
        if (pid == 0) {
                dup2(fds[0], STDIN_FILENO);
                close(fds[0]);
                close(fds[1]);
                execlp("dot", "dot", "-Tsvg", (char *)NULL);
                fprintf(stderr, "fwsh show --svg: dot: %s (Graphviz: apt-get install graphviz)\n",
                        strerror(errno));
                _exit(127);
        }
        close(fds[0]);
        was = signal(SIGPIPE, SIG_IGN);
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fds[1], dot + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        close(fds[1]);
        signal(SIGPIPE, was);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int show_command_run(lua_State *L, int argc, char **argv, const struct fwsh_opts *o)
{
        bool json = false, dot = false, draw = false;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
                        json = true;
                } else if (strcmp(argv[i], "--dot") == 0) {
                        dot = true;
                } else if (strcmp(argv[i], "--svg") == 0) {
                        dot = draw = true;
                } else {
                        fprintf(stderr, "fwsh show: unknown argument '%s'\n"
                                        "usage: fwsh [--netns NAME] show [--json|--dot|--svg]\n", argv[i]);
                        return LUA_ERRRUN;
                }
        }
        if (json && dot) {
                fputs("fwsh show: --json or --dot/--svg, not both\n", stderr);
                return LUA_ERRRUN;
        }
        run_push_kept(L, "show");
        lua_createtable(L, 0, 3);
        lua_pushboolean(L, json);
        lua_setfield(L, -2, "json");
        lua_pushboolean(L, dot);
        lua_setfield(L, -2, "dot");
        if (!draw)
                return run_chunk(L, 1, o);
        lua_pushboolean(L, false);
        lua_setfield(L, -2, "print");
        if ((r = run_chunk(L, 1, o)) != LUA_OK)
                return r;
        {
                size_t len;
                const char *text = lua_tolstring(L, -1, &len);
                if (!text || svg(text, len) < 0) {
                        fputs("fwsh show --svg: dot failed\n", stderr);
                        return LUA_ERRRUN;
                }
        }
        return LUA_OK;
}
