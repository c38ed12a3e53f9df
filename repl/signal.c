/* signal.c - Ctrl-C and SIGTERM while a chunk runs, as lua.c does it: the
 * handler only sets a hook, and the hook raises "interrupted" at the next Lua
 * instruction, so open transactions roll back and `<close>` handles close on
 * the way out. The handler puts the default action back first: a second
 * signal ends the process at once (the lab's tags stay for `fwsh down`). */
#include <signal.h>
#include <stddef.h>

#include <lauxlib.h>

#include "repl.h"

static lua_State *running;
static volatile sig_atomic_t caught;

static void stop(lua_State *L, lua_Debug *ar)
{
        (void)ar;
        lua_sethook(L, NULL, 0, 0);
        luaL_error(L, "interrupted by %s", caught == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_signal(int sig)
{
        int flags = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;

        signal(sig, SIG_DFL);
        caught = sig;
        if (running)
                lua_sethook(running, stop, flags, 1);
}

void interrupt_arm(lua_State *L)
{
        running = L;
        caught = 0;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
}

int interrupt_disarm(void)
{
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (running)
                lua_sethook(running, NULL, 0, 0);
        running = NULL;
        return caught;
}
