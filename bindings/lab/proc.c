/* proc.c - fwsh.proc: programs run from argv lists (never a shell), in a named
 * namespace if asked; spawned ones are owned by the lab and stopped at the
 * latest when the Lua state closes. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "fwsh_lua.h"

#define PROC_MT "fwsh.proc"
#define ARGV_MAX 256

struct lproc {
        struct fwsh_proc *p;      /* NULL: let go of */
        char name[64];
};

/* argv from the list at idx, pointers into Lua strings the list keeps alive. */
static void check_argv(lua_State *L, int idx, const char *argv[ARGV_MAX + 1])
{
        lua_Integer n;

        luaL_checktype(L, idx, LUA_TTABLE);
        n = luaL_len(L, idx);
        luaL_argcheck(L, n >= 1, idx, "argv list is empty");
        luaL_argcheck(L, n <= ARGV_MAX, idx, "argv list is too long");
        for (lua_Integer i = 1; i <= n; i++) {
                lua_geti(L, idx, i);
                if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                        luaL_argerror(L, idx, lua_pushfstring(L, "argv[%d]: string expected, got %s",
                                                              (int)i, luaL_typename(L, -1)));
                lua_tostring(L, -1); /* a number is converted in place: the table holds the string */
                lua_pushfstring(L, "argv[%d]", (int)i);
                argv[i - 1] = lfwsh_to_str(L, -2, idx, lua_tostring(L, -1));
                lua_pop(L, 2);
        }
        argv[n] = NULL;
}

/* The namespace option: an fd (closed by the caller), or -1. */
static int netns_opt(lua_State *L, int t, const char *op, const char *argv0)
{
        const char *ns = lfwsh_opt_string(L, t, "netns", NULL);
        struct fwsh_ctx *ctx;
        int fd;

        if (!ns)
                return -1;
        ctx = lfwsh_ctx(L);
        lfwsh_check(L, ctx, fwsh_netns_open(ctx, ns, &fd), op, argv0);
        return fd;
}

static void push_status(lua_State *L, int status)
{
        lua_pushboolean(L, WIFEXITED(status) && WEXITSTATUS(status) == 0);
        lua_setfield(L, -2, "ok");
        if (WIFEXITED(status)) {
                lua_pushinteger(L, WEXITSTATUS(status));
                lua_setfield(L, -2, "code");
        } else if (WIFSIGNALED(status)) {
                lua_pushinteger(L, WTERMSIG(status));
                lua_setfield(L, -2, "signal");
        }
}

static int timeout_ms(lua_State *L, int t, const char *field, double def)
{
        return lfwsh_ms(lfwsh_opt_seconds(L, t, field, def));
}

/*** fwsh.proc.run(argv [, {netns=NAME, timeout=SECONDS, stdin=PATH, query=false}]) ->
 * {ok=, code=|signal=, out=, err=}: runs the program to its end, capturing its
 * output; raises if it cannot be started or runs past timeout (default 30 s;
 * it is killed then). Under --dry-run it is only shown, and taken as run well
 * with no output, unless query=true says it changes nothing (it only reads).
 * @see execvp(3) */
static int l_run(lua_State *L)
{
        static const char *const known[] = { "netns", "timeout", "stdin", "query", NULL };
        const char *argv[ARGV_MAX + 1];
        struct fwsh_proc_spec spec = FWSH_PROC_SPEC_INIT;
        struct fwsh_proc_result res;
        struct fwsh_ctx *ctx;
        int r, ms;

        check_argv(L, 1, argv);
        lfwsh_check_fields(L, 2, known);
        ms = timeout_ms(L, 2, "timeout", 30);
        spec.argv = argv;
        spec.stdin_path = lfwsh_opt_string(L, 2, "stdin", NULL);
        spec.query = lfwsh_opt_bool(L, 2, "query", false);
        ctx = lfwsh_ctx(L);
        spec.netns_fd = netns_opt(L, 2, "proc.run", argv[0]);
        r = fwsh_proc_run(ctx, &spec, ms, &res);
        if (spec.netns_fd >= 0)
                close(spec.netns_fd);
        lfwsh_check(L, ctx, r, "proc.run", argv[0]);
        lua_createtable(L, 0, 5);
        push_status(L, res.status);
        lua_pushlstring(L, res.out ? res.out : "", res.out_len);
        lua_setfield(L, -2, "out");
        lua_pushlstring(L, res.err ? res.err : "", res.err_len);
        lua_setfield(L, -2, "err");
        fwsh_proc_result_clear(&res);
        return 1;
}

const lua_CFunction lfwsh_proc_run = l_run;

/*** fwsh.proc.spawn(argv [, {netns=NAME, stdout=PATH, stderr=PATH, stdin=PATH, pipe=false, query=false,
 * realtime=true}]) ->
 * proc: starts a program in its own process group and returns at once; output
 * goes to /dev/null unless a file is given (appended to). pipe=true: its
 * stdin and stdout are pipes to this program instead (proc:write, proc:read;
 * stderr still goes where stderr= says). The process belongs
 * to the lab: fwsh.proc.stop_lab() and the end of the Lua state stop it.
 * Under --dry-run it is only shown, and the proc is one that ended well at
 * once, unless query=true says it changes nothing (it reads, or plans on its
 * own: fwsh --serve --dry-run on another host). realtime=false: it may not
 * raise itself to a real-time policy (a daemon that does, as conntrackd
 * does by default, then runs under the normal scheduler) */
static int l_spawn(lua_State *L)
{
        static const char *const known[] = { "netns", "stdout", "stderr", "stdin", "pipe", "query", "realtime",
                                             NULL };
        const char *argv[ARGV_MAX + 1];
        struct fwsh_proc_spec spec = FWSH_PROC_SPEC_INIT;
        struct lproc *lp;
        struct fwsh_ctx *ctx;
        int r;

        check_argv(L, 1, argv);
        lfwsh_check_fields(L, 2, known);
        spec.argv = argv;
        spec.stdin_path = lfwsh_opt_string(L, 2, "stdin", NULL);
        spec.stdout_path = lfwsh_opt_string(L, 2, "stdout", NULL);
        spec.stderr_path = lfwsh_opt_string(L, 2, "stderr", NULL);
        spec.pipe = lfwsh_opt_bool(L, 2, "pipe", false);
        spec.query = lfwsh_opt_bool(L, 2, "query", false);
        spec.no_realtime = !lfwsh_opt_bool(L, 2, "realtime", true);
        if (spec.pipe && (spec.stdin_path || spec.stdout_path))
                luaL_argerror(L, 2, "pipe goes with neither stdin= nor stdout=");
        ctx = lfwsh_ctx(L);
        lp = lua_newuserdatauv(L, sizeof(*lp), 0);
        lp->p = NULL; /* closed until it starts */
        snprintf(lp->name, sizeof(lp->name), "%s", argv[0]);
        luaL_setmetatable(L, PROC_MT);
        spec.netns_fd = netns_opt(L, 2, "proc.spawn", argv[0]);
        r = fwsh_proc_spawn(ctx, &spec, &lp->p);
        if (spec.netns_fd >= 0)
                close(spec.netns_fd);
        lfwsh_check(L, ctx, r, "proc.spawn", argv[0]);
        return 1;
}

static struct lproc *check_proc(lua_State *L, int idx)
{
        struct lproc *lp = luaL_checkudata(L, idx, PROC_MT);

        if (!lp->p)
                luaL_error(L, "attempt to use a released process");
        return lp;
}

static int signal_arg(lua_State *L, int idx, int def)
{
        static const struct { const char *name; int sig; } names[] = {
                { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT }, { "HUP", SIGHUP },
                { "STOP", SIGSTOP }, { "CONT", SIGCONT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
        };
        const char *s;

        if (lua_isnoneornil(L, idx))
                return def;
        if (lua_type(L, idx) == LUA_TNUMBER) {
                luaL_argexpected(L, lua_isinteger(L, idx) && lua_tointeger(L, idx) > 0 &&
                                 lua_tointeger(L, idx) < NSIG, idx, "a signal number");
                return (int)lua_tointeger(L, idx);
        }
        s = lfwsh_check_str(L, idx);
        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < FWSH_N(names); i++)
                if (strcmp(s, names[i].name) == 0)
                        return names[i].sig;
        return luaL_argerror(L, idx, lua_pushfstring(L, "unknown signal '%s'", s));
}

/*** proc:kill([sig]) -> proc: sends sig ("TERM" by default, "KILL", "STOP",
 * "CONT", ... or a number) to its process group; raises if it has ended */
static int m_kill(lua_State *L)
{
        struct lproc *lp = check_proc(L, 1);
        int sig = signal_arg(L, 2, SIGTERM);
        int r = fwsh_proc_signal(lp->p, sig);

        if (r < 0)
                lfwsh_fail_detail(L, r, "proc.kill", lp->name, r == -ESRCH ? "it has ended" : NULL);
        lua_settop(L, 1);
        return 1;
}

static void push_result(lua_State *L, int status)
{
        lua_createtable(L, 0, 3);
        push_status(L, status);
}

/*** proc:wait([timeout]) -> {ok=, code=|signal=}: waits for it to end (for
 * ever without timeout, in seconds) and reaps it; raises ETIMEDOUT */
static int m_wait(lua_State *L)
{
        struct lproc *lp = check_proc(L, 1);
        int status = 0, ms = lua_isnoneornil(L, 2) ? -1 : lfwsh_ms(lfwsh_check_seconds(L, 2, 0));
        int r = fwsh_proc_wait(lp->p, ms, &status);

        if (r < 0)
                lfwsh_fail_detail(L, r, "proc.wait", lp->name, NULL);
        push_result(L, status);
        return 1;
}

/*** proc:stop([grace]) -> {ok=, code=|signal=}: SIGTERM to its group, SIGKILL
 * after grace seconds (default 2), reaped; fine on one that has ended */
static int m_stop(lua_State *L)
{
        struct lproc *lp = check_proc(L, 1);
        int ms = lfwsh_ms(lfwsh_check_seconds(L, 2, 2));
        int status = 0;

        int r = fwsh_proc_stop(lp->p, ms); /* killed and reaped, whatever r */

        fwsh_proc_wait(lp->p, 0, &status);
        if (r == -EINTR)
                lfwsh_fail_detail(L, r, "proc.stop", lp->name, "interrupted: killed at once");
        push_result(L, status);
        return 1;
}

/*** proc:write(s) -> proc: writes all of s to its stdin (spawned with
 * pipe=true); raises EPIPE once it has closed its stdin or ended */
static int m_write(lua_State *L)
{
        struct lproc *lp = check_proc(L, 1);
        size_t len;
        const char *s = luaL_checklstring(L, 2, &len);
        int r = fwsh_proc_send(lp->p, s, len);

        if (r < 0)
                lfwsh_fail_detail(L, r, "proc.write", lp->name,
                                  r == -EBADF ? "not spawned with pipe=true" : NULL);
        lua_settop(L, 1);
        return 1;
}

/*** proc:read(n [, timeout]) -> string of n bytes from its stdout (spawned
 * with pipe=true), waiting for them as long as timeout seconds (default: for
 * ever); nil if its stdout ends first (what came of the n is dropped);
 * raises ETIMEDOUT */
static int m_read(lua_State *L)
{
        struct lproc *lp = check_proc(L, 1);
        lua_Integer n = luaL_checkinteger(L, 2);
        int ms = lua_isnoneornil(L, 3) ? -1 : lfwsh_ms(lfwsh_check_seconds(L, 3, 0));
        luaL_Buffer b;
        size_t got = 0;

        luaL_argcheck(L, n >= 0 && n <= 1 << 30, 2, "a count of bytes, up to 1 GiB");
        luaL_buffinit(L, &b);
        while (got < (size_t)n) {
                size_t want = (size_t)n - got;
                char *dst = luaL_prepbuffsize(&b, want);
                ssize_t r = fwsh_proc_recv(lp->p, dst, want, ms);
                if (r == 0) {
                        lua_pushnil(L);
                        return 1;
                }
                if (r < 0)
                        lfwsh_fail_detail(L, (int)r, "proc.read", lp->name,
                                          r == -EBADF ? "not spawned with pipe=true" : NULL);
                luaL_addsize(&b, (size_t)r);
                got += (size_t)r;
        }
        luaL_pushresult(&b);
        return 1;
}

/*** proc:running() -> boolean (reaps it if it has ended) */
static int m_running(lua_State *L)
{
        lua_pushboolean(L, fwsh_proc_running(check_proc(L, 1)->p));
        return 1;
}

/*** proc:pid() -> the process id, or nil once it has been reaped */
static int m_pid(lua_State *L)
{
        pid_t pid = fwsh_proc_pid(check_proc(L, 1)->p);

        if (pid > 0)
                lua_pushinteger(L, pid);
        else
                lua_pushnil(L);
        return 1;
}

static int proc_gc(lua_State *L)
{
        struct lproc *lp = luaL_checkudata(L, 1, PROC_MT);

        lp->p = fwsh_proc_free(lp->p); /* a running one stays owned by the registry */
        return 0;
}

static int proc_close(lua_State *L)
{
        struct lproc *lp = luaL_checkudata(L, 1, PROC_MT);

        if (lp->p)
                fwsh_proc_stop(lp->p, 2000);
        return proc_gc(L);
}

static int proc_tostring(lua_State *L)
{
        struct lproc *lp = luaL_checkudata(L, 1, PROC_MT);

        if (!lp->p)
                lua_pushfstring(L, "proc %s (released)", lp->name);
        else if (fwsh_proc_running(lp->p))
                lua_pushfstring(L, "proc %s (pid %d)", lp->name, (int)fwsh_proc_pid(lp->p));
        else
                lua_pushfstring(L, "proc %s (ended)", lp->name);
        return 1;
}

/*** fwsh.proc.stop_lab([lab]) -> n: stops every process this program started
 * for lab (default: every lab), SIGTERM then SIGKILL after a second; how many
 * were running */
static int l_stop_lab(lua_State *L)
{
        lua_pushinteger(L, fwsh_proc_stop_lab(lfwsh_opt_str(L, 1, NULL), 1000));
        return 1;
}

/*** fwsh.proc.clock() -> seconds on a monotonic clock (CLOCK_MONOTONIC), for
 * measuring how long things take */
static int l_clock(lua_State *L)
{
        lua_pushnumber(L, fwsh_now_msf() / 1e3);
        return 1;
}

/* At lua_close: nothing started through this state outlives it. */
static int sentinel_gc(lua_State *L)
{
        (void)L;
        fwsh_proc_stop_lab(NULL, 1000);
        return 0;
}

/* The handles' metatable, and the sentinel that stops what is left at lua_close. */
static void init(lua_State *L)
{
        static const luaL_Reg methods[] = {
                { "kill", m_kill }, { "wait", m_wait }, { "stop", m_stop },
                { "write", m_write }, { "read", m_read },
                { "running", m_running }, { "pid", m_pid }, { NULL, NULL },
        };
        static const luaL_Reg meta[] = {
                { "__gc", proc_gc }, { "__close", proc_close }, { "__tostring", proc_tostring },
                { NULL, NULL },
        };
        static const char SENTINEL_KEY = 'p';

        if (luaL_newmetatable(L, PROC_MT)) {
                luaL_setfuncs(L, meta, 0);
                luaL_newlib(L, methods);
                lua_setfield(L, -2, "__index");
        }
        lua_pop(L, 1);
        if (lua_rawgetp(L, LUA_REGISTRYINDEX, &SENTINEL_KEY) == LUA_TNIL) {
                lua_newuserdatauv(L, 0, 0);
                lua_createtable(L, 0, 1);
                lua_pushcfunction(L, sentinel_gc);
                lua_setfield(L, -2, "__gc");
                lua_setmetatable(L, -2);
                lua_rawsetp(L, LUA_REGISTRYINDEX, &SENTINEL_KEY);
        }
        lua_pop(L, 1);
}

static const luaL_Reg fns[] = {
        { "run", l_run },         { "spawn", l_spawn }, { "stop_lab", l_stop_lab },
        { "clock", l_clock },
        { "kill", m_kill },       { "wait", m_wait },   { "stop", m_stop },
        { "running", m_running }, { "pid", m_pid },     { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_proc = { .field = "proc", .fns = fns, .init = init };
