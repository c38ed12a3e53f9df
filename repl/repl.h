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
/* Where the lab's tools are: $FWSH_TOOLS, the build tree for its own fwsh,
 * else where `cmake --install` put them (main.c). */
const char *fwsh_tools_dir(void);
/* Prints the error at the top of the stack (popped) as "fwsh: MESSAGE". */
void report(lua_State *L);
/* Replaces the error value at the top with its message, as lua.c words it
 * ("(error object is a table value)"); never raises, whatever the value. */
void run_message(lua_State *L);
/* Makes os.exit with a failure code unwind the script (rollback, <close>) before
 * the program exits, also through pcall, xpcall and coroutine.resume (exit.c);
 * run_exit_code() is that code, or -1; run_is_exit: whether the value at idx
 * is that unwinding. */
void run_install_exit(lua_State *L);
int run_exit_code(void);
bool run_is_exit(lua_State *L, int idx);
/* The module table at the top (popped): keeps the functions the runner calls,
 * which run_push_kept pushes whatever the globals became (module.c). */
void run_keep_module(lua_State *L);
void run_push_kept(lua_State *L, const char *name);
/* Lua's C searchers never load fwsh.so for "fwsh" or "fwsh.*" (module.c). */
void run_guard_searchers(lua_State *L);
/* Finds "fwsh.NAME" in dirs (the build tree's Lua parts), in order, after package.path. */
void run_add_source_searcher(lua_State *L, const char *const dirs[], int n);

/* Catches SIGINT, SIGTERM and SIGHUP while L runs a chunk (see signal.c). */
void interrupt_arm(lua_State *L);
/* Stops catching them; returns the signal caught meanwhile, or 0. */
int interrupt_disarm(void);
/* From interrupt_hold to interrupt_release they are caught between chunks
 * too: one caught there stops the next chunk as it starts; release returns
 * the signal caught (0 if none) and puts the actions from before back. */
void interrupt_hold(void);
int interrupt_release(void);
/* From the end of the chunks on: those signals hurry the final stop and
 * rollback, never end them; interrupt_final_signal: the last one, or 0. */
void interrupt_final(void);
int interrupt_final_signal(void);

/* The subcommand word names (labs, down, console, capture), or -1: a file of that name exists,
 * or it is no subcommand. */
int command_find(const char *word);
/* Runs it with its words (argv[0] is the subcommand); returns the exit status. */
/* plan (--dry-run): what it would change is printed, and nothing changed;
 * explain (--explain): printed as it is changed. */
int command_run(int which, int argc, char **argv, bool plan, bool explain);
/* fwsh console LAB NODE [-- CMD...]: a shell, or CMD, inside the lab's node. */
struct fwsh_ctx;
int console_command(struct fwsh_ctx *ctx, int argc, char **argv);
/* fwsh capture LINK [-f FILTER] [-c COUNT] [-w FILE] ...: pcap into FILE or onto a pipe. */
int capture_command(struct fwsh_ctx *ctx, int argc, char **argv);
/* fwsh --netns NS emulate-host DIR PROGRAM...: PROGRAM as a host of its own
 * (a mount namespace and /run of its own), for fwsh.hosts.emulate. */
int emulate_host_command(struct fwsh_ctx *ctx, int argc, char **argv);

/* The interactive shell on a terminal (readline, history, completion), or
 * statement by statement from a pipe, without prompts. Returns the exit
 * status: 0, as lua.c's shell (a failed statement is reported, not the
 * status; os.exit still ends it with its code). */
int repl_run(lua_State *L, const struct fwsh_opts *o);

/* ---- the shell's parts, one file each in repl/ ------------------------------- */

/* Reads one line of input, without its newline, and pushes it: through
 * readline with the prompt on a terminal, plainly from a pipe. Returns 1, or
 * 0 at the end of input, or -1 if Ctrl-C cancelled the line (nothing pushed). */
int repl_read_line(lua_State *L, bool tty, const char *prompt);
/* Sets up readline for a terminal session: Ctrl-C at the prompt cancels the
 * line, completion, history. false: readline cannot be loaded (said on
 * stderr); the shell reads lines as from a pipe then. */
bool repl_input_open(lua_State *L);
void repl_input_close(void);

/* Loads the history file ($FWSH_HISTORY, else ~/.fwsh_history; "" for none). */
void repl_history_open(void);
/* Adds one whole statement (lines joined by "\n") to the history and appends
 * it to the file at once. */
void repl_history_add(const char *statement);
void repl_history_close(void);

/* Tab completion of globals, fields, methods and, inside a string, of the
 * interface names of the session's namespace. */
void repl_complete_open(lua_State *L);

/* A lua_CFunction: prints its arguments readably, tab-separated: strings as
 * they are, tables pretty-printed (nesting, shared parts and cycles marked),
 * anything with __tostring or __name as that says. */
int repl_print(lua_State *L);
/* Lua's reserved words, NULL-ended. */
extern const char *const repl_keywords[];

/* Sets the global help(): help(), help(fn), help(table), help("fwsh.x.y"). */
void repl_help_open(lua_State *L);

/* The documentation of the Lua API, extracted from the doc comments by
 * tools/apidoc at build time (apidoc.c in the build directory). */
struct repl_doc {
        const char *name;      /* "fwsh.bridge.add", "bridge:ports" */
        const char *text;      /* the whole comment, one paragraph */
};
extern const struct repl_doc repl_docs[];
extern const unsigned repl_ndocs;

/* `fwsh show [--json]`: whether arg names the show command (no file of that
 * name exists), and running it with argv from "show" on: prints fwsh.show's
 * table or JSON. Returns a lua_pcall status. */
bool show_command_is(const char *arg);
int show_command_run(lua_State *L, int argc, char **argv, const struct fwsh_opts *o);

/* --sandbox: a private network and mount namespace for this process, gone when
 * it exits: lo up, /sys and /run/netns of its own. 0 or -errno. */
int sandbox_enter(const char **ret_step);

/* fwsh --serve (serve.c): serve_prepare moves standard output aside and
 * points it at standard error; the fd the replies go to, or -errno.
 * serve_run answers another fwsh's requests on standard input until it
 * closes the session: a lua_pcall status. */
int serve_prepare(void);
int serve_run(lua_State *L, int fd, const struct fwsh_opts *o);
/* The explain callback of a served session (--dry-run, --explain): its lines
 * go back with the reply to the request that made them. */
void serve_lines(void *arg, const char *lines);

#endif
