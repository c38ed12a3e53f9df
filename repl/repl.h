/* repl.h - what the fwsh program's files share. */
#ifndef FWSH_REPL_H
#define FWSH_REPL_H

#include <lua.h>
#include <stdbool.h>

struct fwsh_opts {
        bool traceback;    /* --traceback: errors with a stack traceback */
};

/* Runs the chunk at the top of the stack (popped) with nargs arguments below
 * it... in protected mode, with the message handler; prints an error as
 * "fwsh: MESSAGE". Returns a lua_pcall status. */
int run_chunk(lua_State *L, int nargs, const struct fwsh_opts *o);
/* Prints the error at the top of the stack (popped) as "fwsh: MESSAGE". */
void report(lua_State *L);

/* Catches SIGINT and SIGTERM while L runs a chunk (see signal.c). */
void interrupt_arm(lua_State *L);
/* Stops catching them; returns the signal caught meanwhile, or 0. */
int interrupt_disarm(void);

/* The interactive shell (a terminal), or statement by statement from a pipe.
 * Returns the exit status: 0 if every statement ran, 1 if any failed. */
int repl_run(lua_State *L, const struct fwsh_opts *o);

/* The subcommand word names (labs, down), or -1: a file of that name exists,
 * or it is no subcommand. */
int command_find(const char *word);
/* Runs it with its words (argv[0] is the subcommand); returns the exit status. */
int command_run(int which, int argc, char **argv);

/* --sandbox: a private network and mount namespace for this process, gone when
 * it exits: lo up, /sys and /run/netns of its own. 0 or -errno. */
int sandbox_enter(const char **ret_step);

#endif
