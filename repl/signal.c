/* signal.c - Ctrl-C and SIGTERM while a chunk runs, as lua.c does it: the
 * handler, installed only while a chunk runs, sets a hook (safe in a signal
 * handler) that raises "interrupted by SIGINT" at the next Lua instruction, so
 * open transactions roll back and `<close>` handles close on the way out. The
 * handler puts the default action back first: a second signal ends the process
 * at once (a lab's tags stay for `fwsh down`). After the chunk, the actions
 * from before (the shell's own at its prompt) are put back. A call blocked in
 * C (fwsh.wait, fwsh.proc.run, proc:wait, proc:stop) sees no hook: the
 * handler also asks core to cancel it (fwsh_cancel), and it returns -EINTR
 * within 20 ms, which the binding raises. */
#include <signal.h>
#include <stddef.h>

#include <lauxlib.h>

#include "fwsh.h"
#include "repl.h"

static lua_State *running;
static volatile sig_atomic_t caught;
static struct sigaction outside_int, outside_term;

static void stop(lua_State *L, lua_Debug *ar)
{
        (void)ar;
        lua_sethook(L, NULL, 0, 0);
        fwsh_cancel_clear(); /* delivered here: what unwinds after may wait */
        luaL_error(L, "interrupted by %s", caught == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_signal(int sig)
{
        signal(sig, SIG_DFL);
        caught = sig;
        fwsh_cancel(); /* a blocking call in C returns at once; the hook raises after */
        if (running)
                lua_sethook(running, stop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void interrupt_arm(lua_State *L)
{
        struct sigaction sa = { .sa_handler = on_signal };

        running = L;
        caught = 0;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &outside_int);
        sigaction(SIGTERM, &sa, &outside_term);
}

int interrupt_disarm(void)
{
        fwsh_cancel_clear();
        sigaction(SIGINT, &outside_int, NULL);
        sigaction(SIGTERM, &outside_term, NULL);
        /* A signal that came as the chunk ended must not stop the next one. */
        if (running)
                lua_sethook(running, NULL, 0, 0);
        running = NULL;
        return caught;
}
