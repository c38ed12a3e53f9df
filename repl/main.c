/* main.c - the fwsh program: runs lab scripts with the fwsh module preloaded,
 * or opens the interactive shell. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

static const char USAGE[] =
        "usage: fwsh [options] [script.lua [args...]]\n"
        "       fwsh labs            the labs whose objects are here\n"
        "       fwsh down LAB...     remove what each lab made (found by its tag)\n"
        "       fwsh [options] show [--json]\n"
        "Runs a Lua lab script with the fwsh module as the global 'fwsh';\n"
        "with no script, opens the interactive shell (or runs standard input\n"
        "statement by statement). 'show' prints the bridges and their ports\n"
        "(--json: the whole topology), unless a file called show exists.\n"
        "\n"
        "  -e CODE        run CODE (may be given more than once)\n"
        "  -i             open the interactive shell after the script\n"
        "  --lab NAME     tag what the script creates with lab NAME (it wins over\n"
        "                 the script's own fwsh.lab(NAME))\n"
        "                 (default: the script's file name without .lua)\n"
        "  --netns NAME   run inside the named network namespace\n"
        "  --sandbox      run in a fresh private network and mount namespace:\n"
        "                 nothing on the host changes, all is gone on exit\n"
        "  --dry-run      change nothing: run the script against a model of the\n"
        "                 current state and print the ip/sysctl commands that\n"
        "                 would make its changes (the script's own output goes\n"
        "                 to standard error)\n"
        "  --explain      make the changes, printing those commands as it goes\n"
        "  --keep-partial when the script fails, keep what it made so far\n"
        "                 (by default all of it is undone, newest first)\n"
        "  --traceback    show a stack traceback with errors\n"
        "  --version      print the version\n"
        "  -h, --help     print this help\n";

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
 * keep_partial, inside fwsh.transaction, so that a script that fails (or is
 * interrupted) halfway leaves nothing of what it made behind. */
static int run_whole(lua_State *L, int nargs, bool keep_partial, const struct fwsh_opts *o)
{
        if (!keep_partial) {
                lua_getglobal(L, "fwsh");
                lua_getfield(L, -1, "transaction");
                lua_remove(L, -2);
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

static void preload(lua_State *L)
{
        /* The pure-Lua parts (require "fwsh.node", ...) and the lab's tools, from the build. */
        lua_getglobal(L, "package");
        lua_getfield(L, -1, "path");
        lua_pushfstring(L, FWSH_LUA_DIR "/?.lua;%s", lua_tostring(L, -1));
        lua_setfield(L, -3, "path");
        lua_pop(L, 2);
        setenv("FWSH_TOOLS", FWSH_TOOLS_DIR, 0);
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
        lua_pushcfunction(L, lfwsh_open);
        lua_setfield(L, -2, "fwsh");
        lua_pop(L, 1);
        luaL_requiref(L, "fwsh", lfwsh_open, 1);
        lua_pop(L, 1);
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
        lua_getglobal(L, "fwsh");
        lua_getfield(L, -1, "lab");
        lua_remove(L, -2);
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
        if ((r = fwsh_netns_enter(fd, &saved)) < 0)
                die("--netns %s: %s (needs CAP_SYS_ADMIN)", name, strerror(-r));
        close(saved);
        close(fd);
}

int main(int argc, char **argv)
{
        enum { OPT_LAB = 256, OPT_NETNS, OPT_SANDBOX, OPT_TRACEBACK, OPT_VERSION, OPT_KEEP,
               OPT_DRY_RUN, OPT_EXPLAIN };
        static const struct option longopts[] = {
                { "lab", required_argument, NULL, OPT_LAB },
                { "netns", required_argument, NULL, OPT_NETNS },
                { "sandbox", no_argument, NULL, OPT_SANDBOX },
                { "traceback", no_argument, NULL, OPT_TRACEBACK },
                { "keep-partial", no_argument, NULL, OPT_KEEP },
                { "dry-run", no_argument, NULL, OPT_DRY_RUN },
                { "explain", no_argument, NULL, OPT_EXPLAIN },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct fwsh_opts o = { 0 };
        const char *lab = NULL, *netns = NULL, *step = NULL;
        bool interactive = false, sandbox = false, ran_e = false, keep_partial = false;
        bool dry_run = false, explain = false;
        FILE *plan_out = NULL;
        char labbuf[FWSH_LAB_MAX + 1];
        int c, status = LUA_OK, script;
        lua_State *L;

        /* A closed pipe (fwsh lab.lua | head) is an error to write, not a death:
         * the script still rolls back and its processes are still reaped.
         * (Children get the default back before exec: core/proc.c.) */
        signal(SIGPIPE, SIG_IGN);
        /* What the lab's daemons fork and leave is fwsh's to reap, not init's. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        /* "+": options stop at the script, whose own arguments are its own. */
        while ((c = getopt_long(argc, argv, "+e:ih", longopts, NULL)) != -1) {
                switch (c) {
                case 'e': ran_e = true; break; /* run in order below */
                case 'i': interactive = true; break;
                case OPT_LAB: lab = optarg; break;
                case OPT_NETNS: netns = optarg; break;
                case OPT_SANDBOX: sandbox = true; break;
                case OPT_TRACEBACK: o.traceback = true; break;
                case OPT_KEEP: keep_partial = true; break;
                case OPT_DRY_RUN: dry_run = true; break;
                case OPT_EXPLAIN: explain = true; break;
                case OPT_VERSION: printf("fwsh %s\n", FWSH_VERSION); return 0;
                case 'h': fputs(USAGE, stdout); return 0;
                default: fputs(USAGE, stderr); return 2;
                }
        }
        script = optind;
        if (netns && sandbox)
                die("%s%s", "--netns and --sandbox do not go together", "");
        if (netns)
                enter_netns(netns);
        if (sandbox && sandbox_enter(&step) < 0)
                die("--sandbox: %s: %s", step, strerror(errno));
        if (script < argc && !ran_e && (c = command_find(argv[script])) >= 0)
                return command_run(c, argc - script, argv + script);

        L = luaL_newstate();
        if (!L)
                die("%s%s", "out of memory", "");
        luaL_openlibs(L);
        preload(L);
        run_install_exit(L);
        if (dry_run) {
                /* The plan alone on standard output, ready for `| sh -e`. */
                int fd = dup(STDOUT_FILENO);
                plan_out = fd >= 0 ? fdopen(fd, "w") : NULL;
                if (!plan_out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        die("--dry-run: %s%s", strerror(errno), "");
                lfwsh_set_mode(L, true, print_lines, plan_out);
        } else if (explain) {
                lfwsh_set_mode(L, false, print_lines, stdout);
        }
        make_arg(L, argv, argc, script < argc ? script : 0);
        bool lab_given = lab != NULL;
        if (!lab && script < argc && strcmp(argv[script], "-") != 0)
                lab = default_lab(argv[script], labbuf, sizeof(labbuf));
        if (lab)
                status = set_lab(L, lab, &o);
        /* --lab wins over the script's own fwsh.lab(NAME), which is only its default. */
        lfwsh_state(L)->lab_pinned = lab_given && status == LUA_OK;

        if (status == LUA_OK && ran_e) {
                optind = 1;
                while (status == LUA_OK && (c = getopt_long(argc, argv, "+e:ih", longopts, NULL)) != -1) {
                        if (c != 'e')
                                continue;
                        status = luaL_loadbuffer(L, optarg, strlen(optarg), "=(command line)");
                        if (status == LUA_OK)
                                status = run_whole(L, 0, keep_partial, &o);
                        else
                                report(L);
                }
        }
        if (status == LUA_OK && script < argc && show_command_is(argv[script])) {
                status = show_command_run(L, argc - script, argv + script, &o);
        } else if (status == LUA_OK && script < argc) {
                const char *file = strcmp(argv[script], "-") == 0 ? NULL : argv[script];
                int nargs = argc - script - 1;

                status = luaL_loadfile(L, file);
                if (status == LUA_OK) {
                        for (int i = script + 1; i < argc; i++)
                                lua_pushstring(L, argv[i]);
                        status = run_whole(L, nargs, keep_partial, &o);
                } else {
                        report(L);
                }
        }
        /* A script that failed leaves nothing: its links rolled back, and the
         * state directories it made go too (--keep-partial keeps them). */
        if (status != LUA_OK && !keep_partial)
                lfwsh_lab_dirs_undo(L);
        if (status == LUA_OK && (interactive || (script >= argc && !ran_e)))
                status = repl_run(L, &o) == 0 ? LUA_OK : LUA_ERRRUN;
        lua_close(L); /* stops and reaps what the script started (fwsh.proc) */
        /* and what that forked: a subreaper, fwsh leaves no process of its lab
         * behind, not even a zombie for init to reap later */
        fwsh_proc_reap_orphans(2000);
        if (plan_out)
                fclose(plan_out);
        if (status != LUA_OK && run_last_signal())
                return 128 + run_last_signal();
        if (run_exit_code() >= 0) /* os.exit(code), the script unwound */
                return run_exit_code();
        return status == LUA_OK ? 0 : 1;
}
