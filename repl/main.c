/* main.c - the fwsh program: runs lab scripts with the fwsh module preloaded,
 * or opens the interactive shell. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "fwsh_lua.h"
#include "repl.h"

/* lua.c's options first, worded as lua5.4 words them, then fwsh's own. */
static const char USAGE[] =
        "usage: fwsh [options] [script [args]]\n"
        "       fwsh labs            the labs whose objects are here, and on the hosts\n"
        "                            a lab spans (fwsh.hosts)\n"
        "       fwsh down LAB...     remove what each lab made (found by its tag), here\n"
        "                            and on every host it spans\n"
        "       fwsh console LAB NODE [-- CMD...]  a shell (a VM's serial console) or CMD\n"
        "                            in the lab's node; Ctrl-] leaves a serial console\n"
        "       fwsh console LAB NODE --display  the address of a VM node's display\n"
        "       fwsh capture LINK [-f FILTER] [-c COUNT] [-w FILE] [-s SNAPLEN] [-p] [--netns NS]\n"
        "                            LINK's packets as pcap into FILE, or onto standard\n"
        "                            output for a pipe (| tcpdump -r -, | wireshark -k -i -)\n"
        "       fwsh [options] show [--json|--dot|--svg]\n"
        "       fwsh --netns NS emulate-host DIR PROGRAM [ARGS...]  PROGRAM (an sshd) as the\n"
        "                            first process of a host made of NS: a /run, a PID\n"
        "                            namespace and root's home of its own (fwsh.emulate)\n"
        "Available options are:\n"
        "  -e stat   execute string 'stat'\n"
        "  -i        enter interactive mode after executing 'script'\n"
        "  -l mod    require library 'mod' into global 'mod'\n"
        "  -l g=mod  require library 'mod' into global 'g'\n"
        "  -v        show version information\n"
        "  -E        ignore environment variables\n"
        "  -W        turn warnings on\n"
        "  --        stop handling options\n"
        "  -         stop handling options and execute stdin\n"
        "fwsh's own:\n"
        "  --lab NAME     tag what the script creates with lab NAME (it wins over\n"
        "                 the script's own fwsh.lab(NAME))\n"
        "                 (default: the script's file name without .lua)\n"
        "  --netns NAME   run inside the named network namespace\n"
        "  --sandbox      run in a fresh private network and mount namespace:\n"
        "                 nothing on the host changes, all is gone on exit;\n"
        "                 /etc and /boot are read-only (give boot files a root\n"
        "                 of their own)\n"
        "  --dry-run      change nothing: run the script against a model of the\n"
        "                 current state and print the commands that would make\n"
        "                 its changes (ip, sysctl, nft, files written or removed,\n"
        "                 programs run; the script's own output goes to\n"
        "                 standard error)\n"
        "  --explain      make the changes, printing those commands as it goes\n"
        "  --keep-partial when the script fails, keep what it made so far\n"
        "                 (by default all of it is undone, newest first)\n"
        "  --serve        be a host of another fwsh's lab (fwsh.host, over ssh):\n"
        "                 answer its requests on standard input, as data, in one\n"
        "                 transaction undone if the connection ends uncommitted\n"
        "  --traceback    show a stack traceback with errors\n"
        "  --version      print fwsh's version\n"
        "  -h, --help     print this help\n"
        "Runs a Lua script with the fwsh module as the global 'fwsh'; with no\n"
        "script, opens the interactive shell (or runs standard input statement by\n"
        "statement). 'show' prints the bridges and their ports (--json: the whole\n"
        "topology), unless a file called show exists. Where fwsh differs from\n"
        "lua5.4: errors say \"fwsh:\" and show a traceback only with --traceback;\n"
        "the shell has its own prompt and banner (no version line with -i), and\n"
        "standard input that is not a terminal runs statement by statement, each\n"
        "expression's value printed; a script runs in a transaction (see\n"
        "--keep-partial).\n";

static void die(const char *fmt, const char *a, const char *b)
{
        fprintf(stderr, "fwsh: ");
        fprintf(stderr, fmt, a, b);
        fputc('\n', stderr);
        exit(1);
}

/* --dry-run and --explain: each change's command lines, as it is made. */
static void print_lines(void *arg, const char *lines)
{
        FILE *out = arg;

        fprintf(out, "%s\n", lines);
        fflush(out);
}

/* Runs the chunk below its nargs arguments as run_chunk does; unless
 * keep_partial, inside fwsh.transaction (the module's own, whatever the chunk
 * does to the global), so that a script that fails (or is interrupted)
 * halfway leaves nothing of what it made behind. */
static int run_whole(lua_State *L, int nargs, bool keep_partial, const struct fwsh_opts *o)
{
        if (!keep_partial) {
                run_push_kept(L, "transaction");
                lua_insert(L, -(nargs + 2));
                nargs++;
        }
        return run_chunk(L, nargs, o);
}

/* arg: script at 0, its arguments from 1, the program and options below 0. */
static void make_arg(lua_State *L, char **argv, int argc, int script)
{
        lua_createtable(L, argc - script, script + 1);
        for (int i = 0; i < argc; i++) {
                lua_pushstring(L, argv[i]);
                lua_rawseti(L, -2, i - script);
        }
        lua_setglobal(L, "arg");
}

/* Whether this is the build tree's own fwsh (not an installed one). */
static bool in_build_tree(void)
{
        static int known = -1; /* asked at every start: the answer once */
        char self[PATH_MAX], built[PATH_MAX];
        ssize_t n;

        if (known >= 0)
                return known;
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0 || !realpath(FWSH_BUILD_EXE, built))
                return (known = 0);
        self[n] = '\0';
        return (known = strcmp(self, built) == 0);
}

const char *fwsh_tools_dir(void)
{
        const char *env = getenv("FWSH_TOOLS");

        if (env && env[0])
                return env;
        return in_build_tree() ? FWSH_TOOLS_DIR : FWSH_INSTALL_TOOLS_DIR;
}

static void preload(lua_State *L)
{
        /* The pure-Lua parts (the module's: require "fwsh.hosts", ...; the lab
         * library's: require "fwsh.node", ...) and the lab's tools: from the
         * source and the build for the build tree's fwsh, after what
         * package.path finds (LUA_PATH's, or Lua's own), so that what the user
         * set comes first; installed, they are on Lua's own path and in
         * FWSH_INSTALL_TOOLS_DIR. */
        setenv("FWSH_TOOLS", fwsh_tools_dir(), 0);
        {
                /* this program, for what runs it again (fwsh.hosts: a local host, emulated hosts) */
                char self[PATH_MAX];
                ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
                if (n > 0) {
                        self[n] = '\0';
                        setenv("FWSH_EXE", self, 0);
                }
        }
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
        lua_pushcfunction(L, lfwsh_open);
        lua_setfield(L, -2, "fwsh");
        lua_pop(L, 1);
        luaL_requiref(L, "fwsh", lfwsh_open, 1);
        run_keep_module(L);
        run_guard_searchers(L);
        if (in_build_tree()) {
                static const char *const dirs[] = { FWSH_MODULE_LUA_DIR, FWSH_LAB_LUA_DIR };
                run_add_source_searcher(L, dirs, FWSH_N(dirs));
        }
}

/* Calls require("fwsh.hosts")[fn] with the arguments in protected mode, if
 * fwsh.hosts is loaded (or load is set); errors reported, not raised. */
static void hosts_call(lua_State *L, const char *fn, bool load, int argc, char **argv, int flag)
{
        int base = lua_gettop(L);

        /* the registry's: a chunk may have replaced the global package */
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_getfield(L, -1, "fwsh.hosts");
        if (lua_isnil(L, -1) && load) {
                lua_getglobal(L, "require");
                lua_pushstring(L, "fwsh.hosts");
                if (lua_pcall(L, 1, 1, 0) != LUA_OK)
                        report(L), lua_pushnil(L);
                lua_remove(L, -2);
        }
        if (lua_istable(L, -1)) {
                lua_getfield(L, -1, fn);
                if (flag >= 0)
                        lua_pushboolean(L, flag);
                for (int i = 0; i < argc; i++)
                        lua_pushstring(L, argv[i]);
                if (lua_pcall(L, argc + (flag >= 0), 0, 0) != LUA_OK)
                        report(L);
        }
        lua_settop(L, base);
}

/* fwsh down LAB... and fwsh labs reach the hosts a lab spans (fwsh.hosts'
 * record) before the C command does this host's part. */
static void hosts_command(const char *word, int argc, char **argv)
{
        lua_State *L;
        char **names;
        int n = 1;

        if (strcmp(word, "down") != 0 && strcmp(word, "labs") != 0)
                return;
        /* Only lab names: the C command says what is wrong with the others. */
        names = calloc((size_t)argc + 1, sizeof(*names));
        if (!names)
                return;
        names[0] = argv[0];
        for (int i = 1; i < argc; i++) {
                size_t len = strlen(argv[i]);
                if (len > 0 && len <= FWSH_LAB_MAX && argv[i][0] != '-' &&
                    strspn(argv[i], FWSH_LAB_CHARS) == len)
                        names[n++] = argv[i];
        }
        L = luaL_newstate();
        if (L) {
                luaL_openlibs(L);
                preload(L);
                hosts_call(L, "command", true, n, names, -1);
                lua_close(L);
        }
        free(names);
}

static const char *default_lab(const char *script, char *buf, size_t size)
{
        const char *base = strrchr(script, '/');
        size_t n;

        base = base ? base + 1 : script;
        n = strcspn(base, ".");
        snprintf(buf, size, "%.*s", (int)n, base);
        for (char *p = buf; *p; p++)
                if (!strchr(FWSH_LAB_CHARS, *p))
                        *p = '_';
        return buf[0] ? buf : "default";
}

static int set_lab(lua_State *L, const char *lab, const struct fwsh_opts *o)
{
        run_push_kept(L, "lab");
        lua_pushstring(L, lab);
        return run_chunk(L, 1, o);
}

static void enter_netns(const char *name)
{
        char path[128];
        int fd, saved, r;

        /* A name under /run/netns, as ip-netns(8) takes it: never a path. */
        if (fwsh_netns_check(NULL, name) < 0)
                die("--netns '%s': %s", name, "not a namespace name (1 to 63 bytes, no '/', "
                    "no white space, not '.' or '..')");
        snprintf(path, sizeof(path), "/run/netns/%s", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                die("--netns %s: %s", name, strerror(errno));
        /* setns(2) says EINVAL for a file that is no network namespace */
        if ((r = fwsh_netns_enter(fd, &saved)) == -EINVAL)
                die("--netns %s: %s", name, "not a network namespace (a plain file under /run/netns?)");
        if (r == -EPERM)
                die("--netns %s: %s (needs CAP_SYS_ADMIN)", name, strerror(-r));
        if (r < 0)
                die("--netns %s: %s", name, strerror(-r));
        close(saved);
        close(fd);
}

/* One -e, -l or -W, in command-line order: lua.c runs them so. */
struct action {
        char kind;
        char *text;
};

/* The command line, parsed as lua.c's collectargs does, with fwsh's long
 * options (--lab NAME, --lab=NAME, ...) and -h among lua's. */
struct cmdline {
        int script;               /* the script's index in argv, or argc */
        bool i, v, e, E, help, version;
        const char *bad;          /* the bad option, for the message */
        bool bad_arg;             /* it lacks its argument */
        struct action *actions;
        int n_actions;
        const char *lab, *netns;
        bool sandbox, keep_partial, dry_run, explain, serve;
        struct fwsh_opts o;
};

enum { L_LAB, L_NETNS, L_SANDBOX, L_TRACEBACK, L_KEEP, L_DRY_RUN, L_EXPLAIN, L_VERSION, L_HELP,
       L_SERVE };

static const struct {
        const char *name;
        bool arg;
} LONGOPTS[] = {
        [L_LAB] = { "lab", true }, [L_NETNS] = { "netns", true }, [L_SANDBOX] = { "sandbox", false },
        [L_TRACEBACK] = { "traceback", false }, [L_KEEP] = { "keep-partial", false },
        [L_DRY_RUN] = { "dry-run", false }, [L_EXPLAIN] = { "explain", false },
        [L_VERSION] = { "version", false }, [L_HELP] = { "help", false },
        [L_SERVE] = { "serve", false },
};

/* --NAME[=VALUE] [VALUE]: 0, or -1 with c->bad set. */
static int long_option(struct cmdline *c, int argc, char **argv, int *i)
{
        const char *a = argv[*i] + 2, *value = strchr(a, '=');
        size_t n = value ? (size_t)(value - a) : strlen(a);
        int k;

        for (k = 0; k < (int)FWSH_N(LONGOPTS); k++)
                if (strlen(LONGOPTS[k].name) == n && strncmp(LONGOPTS[k].name, a, n) == 0)
                        break;
        c->bad = argv[*i];
        if (k == (int)FWSH_N(LONGOPTS) || (value && !LONGOPTS[k].arg))
                return -1;
        if (LONGOPTS[k].arg && !value) {
                if (*i + 1 >= argc) {
                        c->bad_arg = true;
                        return -1;
                }
                value = argv[++*i];
        } else if (value) {
                value++;
        }
        c->bad = NULL;
        switch (k) {
        case L_LAB: c->lab = value; break;
        case L_NETNS: c->netns = value; break;
        case L_SANDBOX: c->sandbox = true; break;
        case L_TRACEBACK: c->o.traceback = true; break;
        case L_KEEP: c->keep_partial = true; break;
        case L_DRY_RUN: c->dry_run = true; break;
        case L_EXPLAIN: c->explain = true; break;
        case L_VERSION: c->version = true; break;
        case L_SERVE: c->serve = true; break;
        default: c->help = true; break;
        }
        return 0;
}

static int parse(struct cmdline *c, int argc, char **argv)
{
        int i;

        for (i = 1; i < argc; i++) {
                char *a = argv[i];

                c->script = i;
                if (a[0] != '-' || a[1] == '\0')
                        return 0; /* the script ("-": standard input) */
                if (a[1] == '-') {
                        if (a[2] == '\0') {
                                c->script = i + 1;
                                return 0;
                        }
                        if (long_option(c, argc, argv, &i) < 0)
                                return -1;
                        continue;
                }
                c->bad = a;
                switch (a[1]) {
                case 'E': c->E = true; break;
                case 'W': c->actions[c->n_actions++] = (struct action){ 'W', NULL }; break;
                case 'h': c->help = true; break;
                case 'i': c->i = true; break;
                case 'v': c->v = true; break;
                case 'e':
                case 'l':
                        c->e |= a[1] == 'e';
                        if (a[2] == '\0') {
                                if (i + 1 >= argc || argv[i + 1][0] == '-') {
                                        c->bad_arg = true;
                                        return -1;
                                }
                                c->actions[c->n_actions++] = (struct action){ a[1], argv[++i] };
                        } else {
                                c->actions[c->n_actions++] = (struct action){ a[1], a + 2 };
                        }
                        c->bad = NULL;
                        continue;
                default: return -1;
                }
                if (a[2] != '\0')
                        return -1; /* "-vx" */
                c->bad = NULL;
        }
        c->script = argc;
        return 0;
}

/* -l g=mod (g = require "mod") or -l mod (mod = require "mod"), as lua.c. */
static int dolibrary(lua_State *L, char *globname, const struct fwsh_opts *o)
{
        char *modname = strchr(globname, '=');
        int status, base = lua_gettop(L);

        if (modname == NULL) {
                modname = globname;
        } else {
                *modname = '\0';
                modname++;
        }
        lua_getglobal(L, "require");
        lua_pushstring(L, modname);
        status = run_chunk(L, 1, o);
        if (status == LUA_OK) {
                lua_settop(L, base + 1);
                lua_setglobal(L, globname);
        }
        lua_settop(L, base);
        return status;
}

#define LUA_INIT_VAR "LUA_INIT"
#define LUA_INITVARVERSION LUA_INIT_VAR LUA_VERSUFFIX

/* LUA_INIT_5_4, else LUA_INIT: code, or @file, run before everything, in a
 * transaction as the script is. */
static int handle_luainit(lua_State *L, bool keep_partial, const struct fwsh_opts *o)
{
        const char *name = "=" LUA_INITVARVERSION;
        const char *init = getenv(name + 1);
        int status;

        if (init == NULL) {
                name = "=" LUA_INIT_VAR;
                init = getenv(name + 1);
        }
        if (init == NULL)
                return LUA_OK;
        status = init[0] == '@' ? luaL_loadfile(L, init + 1) : luaL_loadbuffer(L, init, strlen(init), name);
        if (status != LUA_OK) {
                report(L);
                return status;
        }
        return run_whole(L, 0, keep_partial, o);
}

/* The script's arguments: the values of the global arg now, 1 to #arg (a
 * chunk before it may have changed them). Raises if arg is no table. */
static int pushargs(lua_State *L)
{
        int n;

        if (lua_getglobal(L, "arg") != LUA_TTABLE)
                return luaL_error(L, "'arg' is not a table");
        n = (int)luaL_len(L, 1);
        luaL_checkstack(L, n + 3, "too many arguments to script");
        for (int i = 1; i <= n; i++)
                lua_rawgeti(L, 1, i);
        return n;
}

static int handle_script(lua_State *L, char **argv, int script, bool keep_partial, const struct fwsh_opts *o)
{
        const char *fname = argv[script];
        int status, base;

        if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0)
                fname = NULL; /* standard input */
        status = luaL_loadfile(L, fname);
        if (status != LUA_OK) {
                report(L);
                return status;
        }
        base = lua_gettop(L);
        lua_pushcfunction(L, pushargs);
        status = lua_pcall(L, 0, LUA_MULTRET, 0);
        if (status != LUA_OK) {
                report(L);
                lua_pop(L, 1);
                return status;
        }
        return run_whole(L, lua_gettop(L) - base, keep_partial, o);
}

static void usage_error(const struct cmdline *c)
{
        if (c->bad_arg)
                fprintf(stderr, "fwsh: '%s' needs argument\n", c->bad);
        else
                fprintf(stderr, "fwsh: unrecognized option '%s'\n", c->bad);
        fputs(USAGE, stderr);
}

/* What main's protected parts share. */
struct run {
        struct cmdline *c;
        int argc;
        char **argv;
        FILE *plan_out;             /* --dry-run: where the plan goes */
        int serve_fd;               /* --serve: where the replies go */
        int status;                 /* the chunks': a lua_pcall status */
        int signal;                 /* what interrupted them (between two, too), or 0 */
        struct lfwsh_atomic whole;  /* every chunk's changes, LUA_INIT's too */
        bool whole_open;
};

/* Sets up the state and runs the chunks, as lua.c's pmain: in protected mode,
 * so that nothing a chunk leaves in the globals can abort the program. */
static int run_chunks(lua_State *L)
{
        struct run *r = lua_touserdata(L, 1);
        struct cmdline *c = r->c;
        const struct fwsh_opts *o = &c->o;
        char **argv = r->argv;
        int argc = r->argc, script = c->script;
        const char *lab;
        char labbuf[FWSH_LAB_MAX + 1];
        int status = LUA_OK;

        lua_settop(L, 0);
        luaL_openlibs(L);
        lua_gc(L, LUA_GCGEN, 0, 0); /* the collector in generational mode, as lua.c's */
        preload(L);
        run_install_exit(L);
        if (c->serve && (c->dry_run || c->explain)) {
                lfwsh_set_mode(L, c->dry_run, serve_lines, NULL);
        } else if (c->dry_run) {
                /* The plan alone on standard output, ready for `| sh -e`. */
                int fd = dup(STDOUT_FILENO);
                r->plan_out = fd >= 0 ? fdopen(fd, "w") : NULL;
                if (!r->plan_out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        die("--dry-run: %s%s", strerror(errno), "");
                lfwsh_set_mode(L, true, print_lines, r->plan_out);
        } else if (c->explain) {
                lfwsh_set_mode(L, false, print_lines, stdout);
        }
        make_arg(L, argv, argc, script < argc ? script : 0);
        lab = c->lab;
        if (!lab && script < argc && strcmp(argv[script], "-") != 0)
                lab = default_lab(argv[script], labbuf, sizeof(labbuf));
        if (lab)
                status = set_lab(L, lab, o);
        /* --lab wins over the script's own fwsh.lab(NAME), which is only its default. */
        lfwsh_state(L)->lab_pinned = c->lab != NULL && status == LUA_OK;
        /* One transaction over the whole run, LUA_INIT and every -e included:
         * a failure anywhere undoes all of it (main ends it). */
        if (!c->keep_partial && !c->serve) {
                lfwsh_atomic_begin(L, &r->whole);
                r->whole_open = true;
        }

        /* A signal between two chunks is theirs too (a server's loop is
         * not: it ends at a signal, as before). */
        if (!c->serve)
                interrupt_hold();
        /* lua.c's order: LUA_INIT, then -e, -l and -W in order, then the script */
        if (status == LUA_OK && !c->E)
                status = handle_luainit(L, c->keep_partial, o);
        for (int k = 0; status == LUA_OK && k < c->n_actions; k++) {
                struct action *a = &c->actions[k];
                if (a->kind == 'W') {
                        lua_warning(L, "@on", 0);
                } else if (a->kind == 'l') {
                        status = dolibrary(L, a->text, o);
                } else {
                        status = luaL_loadbuffer(L, a->text, strlen(a->text), "=(command line)");
                        if (status == LUA_OK)
                                status = run_whole(L, 0, c->keep_partial, o);
                        else
                                report(L);
                }
        }
        if (status == LUA_OK && c->serve)
                status = serve_run(L, r->serve_fd, o);
        else if (status == LUA_OK && script < argc && show_command_is(argv[script]))
                status = show_command_run(L, argc - script, argv + script, o);
        else if (status == LUA_OK && script < argc)
                status = handle_script(L, argv, script, c->keep_partial, o);
        r->signal = interrupt_release();
        if (r->signal && status == LUA_OK) { /* after the last chunk: the run is undone */
                fprintf(stderr, "fwsh: interrupted by %s\n", r->signal == SIGTERM ? "SIGTERM" :
                        r->signal == SIGHUP ? "SIGHUP" : "SIGINT");
                status = LUA_ERRRUN;
        }
        r->status = status;
        return 0;
}

/* After the chunks: their transaction kept or undone, the hosts told, the
 * shell if asked; in protected mode too. */
static int run_end(lua_State *L)
{
        struct run *r = lua_touserdata(L, 1);
        struct cmdline *c = r->c;
        bool ok = r->status == LUA_OK;

        /* What has become garbage is finalized now, inside the transaction:
         * a finalizer's change is undone with the rest. */
        lua_gc(L, LUA_GCCOLLECT);
        if (r->whole_open) {
                r->whole_open = false;
                if (ok)
                        lfwsh_atomic_commit(L, &r->whole); /* the outermost: nothing to splice */
                else
                        lfwsh_atomic_abort(L, &r->whole);
        }
        /* The hosts the script drove (fwsh.hosts): what it made there stays if it
         * succeeded, and is undone there if not, as here. */
        if (!c->serve)
                hosts_call(L, "finish", false, 0, NULL, ok);
        /* A script that failed leaves nothing: its links rolled back, and the
         * state directories it made go too (--keep-partial keeps them). */
        if (!ok && !c->keep_partial)
                lfwsh_lab_dirs_undo(L);
        if (ok && !c->serve && (c->i || (c->script >= r->argc && !c->e && !c->v)))
                r->status = repl_run(L, &c->o) == 0 ? LUA_OK : LUA_ERRRUN;
        if (!c->serve) /* what the shell's session made on its hosts stays, as here */
                hosts_call(L, "finish", false, 0, NULL, true);
        return 0;
}

/* Calls f(r) in protected mode; an error in the runner's own part is reported
 * and makes the run a failure. */
static void protect(lua_State *L, lua_CFunction f, struct run *r)
{
        lua_settop(L, 0);
        lua_pushcfunction(L, f);
        lua_pushlightuserdata(L, r);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
                report(L);
                r->status = LUA_ERRRUN;
        }
        lua_settop(L, 0);
}

int main(int argc, char **argv)
{
        struct cmdline c = { 0 };
        struct run r = { .c = &c, .argc = argc, .argv = argv, .serve_fd = -1 };
        const char *step = NULL;
        int script, cmd;
        lua_State *L;

        /* A closed pipe (fwsh lab.lua | head) is an error to write, not a death:
         * the script still rolls back and its processes are still reaped.
         * (Children get the default back before exec: core/proc.c.) */
        signal(SIGPIPE, SIG_IGN);
        /* What the lab's daemons fork and leave is fwsh's to reap, not init's. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        c.actions = calloc((size_t)argc + 1, sizeof(*c.actions));
        if (!c.actions)
                die("%s%s", "out of memory", "");
        if (parse(&c, argc, argv) < 0 || c.help || c.version) {
                if (c.bad)
                        usage_error(&c);
                else if (c.help)
                        fputs(USAGE, stdout);
                else
                        printf("fwsh %s\n", FWSH_VERSION);
                free(c.actions);
                return c.bad ? 1 : 0;
        }
        script = c.script;
        if (c.netns && c.sandbox)
                die("%s%s", "--netns and --sandbox do not go together", "");
        if (c.netns)
                enter_netns(c.netns);
        if (c.sandbox && sandbox_enter(&step) < 0)
                die("--sandbox: %s: %s", step, strerror(errno));
        if (c.serve && (script < argc || c.n_actions || c.i || c.v))
                die("%s%s", "--serve takes no script, -e, -l, -i or -v", "");
        if (c.serve && (r.serve_fd = serve_prepare()) < 0)
                die("--serve: %s%s", strerror(-r.serve_fd), "");
        if (script < argc && c.n_actions == 0 && !c.v && (cmd = command_find(argv[script])) >= 0) {
                free(c.actions);
                hosts_command(argv[script], argc - script, argv + script);
                return command_run(cmd, argc - script, argv + script, c.dry_run, c.explain);
        }
        if (c.v) {
                fputs(LUA_COPYRIGHT "\n", stdout);
                fflush(stdout);
        }

        L = luaL_newstate();
        if (!L)
                die("%s%s", "out of memory", "");
        if (c.E) { /* as lua.c: the package library ignores LUA_PATH and LUA_CPATH too */
                lua_pushboolean(L, 1);
                lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
        }
        protect(L, run_chunks, &r);
        /* From here on a signal hurries the stop (no more grace for the
         * processes), never ends it halfway: a failed script is undone whole. */
        if (r.status != LUA_OK)
                interrupt_final();
        protect(L, run_end, &r);
        interrupt_final();
        if (r.whole_open) /* the runner itself failed before its end */
                lfwsh_atomic_abort(L, &r.whole);
        /* Nothing is made after the run: a finalizer's change could not be
         * undone. Its refusal is an error in __gc, which Lua says only as a
         * warning: on, so that it is said. */
        lfwsh_state(L)->ended = true;
        lua_warning(L, "@on", 0);
        lua_close(L); /* stops and reaps what the script started (fwsh.proc) */
        /* and what that forked: a subreaper, fwsh leaves no process of its lab
         * behind, not even a zombie for init to reap later */
        fwsh_proc_reap_orphans(2000);
        free(c.actions);
        if (r.plan_out)
                fclose(r.plan_out);
        if (r.status != LUA_OK && r.signal)
                return 128 + r.signal;
        if (run_exit_code() >= 0) /* os.exit(code), the script unwound */
                return run_exit_code();
        if (interrupt_final_signal()) /* the stop was hurried: the program was asked to end */
                return 128 + interrupt_final_signal();
        return r.status == LUA_OK ? 0 : 1;
}
