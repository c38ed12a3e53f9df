/* signal.c - Ctrl-C, SIGTERM and SIGHUP (a closed terminal, taken as
 * SIGTERM) while a chunk runs, as lua.c does it: the handler, installed only
 * while a chunk runs, sets a hook (safe in a signal handler) that raises
 * "interrupted by SIGINT" at the next Lua instruction, so open transactions
 * roll back and `<close>` handles close on the way out. Unlike lua.c's, a
 * second signal does not end the process: that would leave the rollback and
 * the stop of the lab's processes half done. It hurries them instead (a
 * process being stopped gets SIGKILL at once); SIGKILL still ends fwsh at
 * once, and `fwsh down` finds what is left by its tag. After the chunk, the actions
 * from before (the shell's own at its prompt) are put back; but between the
 * chunks of one run (LUA_INIT, -e, -l, the script: one transaction) they are
 * held (interrupt_hold): a signal there stops the next chunk at its first
 * instruction, or, after the last, fails the run, so that it is undone too. A call blocked in
 * C (fwsh.wait, fwsh.proc.run, proc:wait, proc:stop) sees no hook: the
 * handler also asks core to cancel it (fwsh_cancel), and it returns -EINTR
 * within 20 ms, which the binding raises. */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <lauxlib.h>

#include "fwsh.h"
#include "repl.h"

static lua_State *running;
static volatile sig_atomic_t caught;
static bool holding; /* between interrupt_hold and interrupt_release */
static struct sigaction outside_int, outside_term, outside_hup;
static volatile sig_atomic_t final_caught;

static void stop(lua_State *L, lua_Debug *ar)
{
        (void)ar;
        lua_sethook(L, NULL, 0, 0);
        fwsh_cancel_clear(); /* delivered here: what unwinds after may wait */
        luaL_error(L, "interrupted by %s",
                   caught == SIGTERM ? "SIGTERM" : caught == SIGHUP ? "SIGHUP" : "SIGINT");
}

static void on_signal(int sig)
{
        caught = sig;
        fwsh_cancel(); /* a blocking call in C returns at once; the hook raises after */
        if (running)
                lua_sethook(running, stop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

static void catch_all(void)
{
        struct sigaction sa = { .sa_handler = on_signal };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &outside_int);
        sigaction(SIGTERM, &sa, &outside_term);
        sigaction(SIGHUP, &sa, &outside_hup);
}

static void put_back(void)
{
        sigaction(SIGINT, &outside_int, NULL);
        sigaction(SIGTERM, &outside_term, NULL);
        sigaction(SIGHUP, &outside_hup, NULL);
}

void interrupt_hold(void)
{
        caught = 0;
        catch_all();
        holding = true;
}

int interrupt_release(void)
{
        if (holding)
                put_back();
        holding = false;
        return caught;
}

void interrupt_arm(lua_State *L)
{
        running = L;
        if (!holding) {
                caught = 0;
                catch_all();
        } else if (caught) { /* it came between two chunks: this one stops at once */
                on_signal(caught);
        }
}

int interrupt_disarm(void)
{
        fwsh_cancel_clear();
        if (!holding)
                put_back();
        /* A signal that came as the chunk ended must not stop the next one
         * (a held one does: interrupt_arm sets the hook again). */
        if (running)
                lua_sethook(running, NULL, 0, 0);
        running = NULL;
        return caught;
}

/* While the program ends (a failed script undone, its processes stopped): a
 * signal cuts the grace of the stop under way short (fwsh_cancel: SIGKILL at
 * once), and the stop goes on to its end. */
static void on_final(int sig)
{
        final_caught = sig;
        fwsh_cancel();
}

void interrupt_final(void)
{
        struct sigaction sa = { .sa_handler = on_final };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

int interrupt_final_signal(void)
{
        return final_caught;
}
