/* interrupt.c - Ctrl-C stops the running chunk, not the shell, as in lua.c:
 * the SIGINT handler, installed only while a chunk runs, sets a hook (which
 * is safe in a signal handler) that raises "interrupted!" at the chunk's next
 * Lua instruction. The handler puts the default action back first, so a
 * second Ctrl-C still ends a chunk stuck where no hook runs. */
#include <signal.h>
#include <stddef.h>

#include <lauxlib.h>

#include "repl.h"

static lua_State *running;
static struct sigaction outside; /* the action while no chunk runs */

static void stop(lua_State *L, lua_Debug *ar)
{
        (void)ar;
        lua_sethook(L, NULL, 0, 0);
        luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
        signal(sig, SIG_DFL);
        lua_sethook(running, stop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void repl_interrupt_arm(lua_State *L)
{
        struct sigaction sa = { .sa_handler = on_sigint };

        running = L;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &outside);
}

void repl_interrupt_disarm(lua_State *L)
{
        sigaction(SIGINT, &outside, NULL);
        /* A Ctrl-C that came as the chunk ended must not stop the next one. */
        lua_sethook(L, NULL, 0, 0);
        running = NULL;
}
