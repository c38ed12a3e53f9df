/* wait.c - fwsh.wait: waits for a state, woken by the kernel's link and
 * neighbour events, with a deadline; no sleeping where an event exists. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>

#include "base/clock.h"
#include "fwsh_lua.h"

struct cond {
        const char *link;          /* link=NAME */
        int carrier, up, exists;   /* -1: not asked */
        const char *operstate;
        const char *fdb;           /* fdb=MAC */
        uint8_t mac[6];
        const char *bridge, *port, *not_port;
        int fn;                    /* stack index of fn= or run=, 0 */
        int run;
        const char *netns;
        double interval;           /* seconds between checks that no event announces */
};

/* -1 when absent, else the boolean (a string such as "no" is an error, not true). */
static int tri(lua_State *L, int t, const char *field)
{
        bool absent = lua_getfield(L, t, field) == LUA_TNIL;

        lua_pop(L, 1);
        return absent ? -1 : lfwsh_opt_bool(L, t, field, false);
}

static const char *operstate_name(uint8_t s)
{
        static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
                                             "testing", "dormant", "up" };
        return s < FWSH_N(names) ? names[s] : "(unknown)";
}

/* 1 if the condition holds, 0 if not, -errno if it cannot be read. */
static int check_link(struct fwsh_ctx *ctx, const struct cond *c)
{
        struct fwsh_link l;
        int r = fwsh_link_get(ctx, c->link, &l);

        if (r == -ENODEV)
                return c->exists == 0;
        if (r < 0)
                return r;
        if (c->exists == 0)
                return 0;
        if (c->carrier >= 0 && l.carrier != (c->carrier == 1))
                return 0;
        if (c->up >= 0 && l.up != (c->up == 1))
                return 0;
        if (c->operstate && strcmp(c->operstate, operstate_name(l.operstate)) != 0)
                return 0;
        return 1;
}

static int ifindex_of(struct fwsh_ctx *ctx, const char *name)
{
        struct fwsh_link l;
        int r = fwsh_link_get(ctx, name, &l);

        return r < 0 ? r : l.ifindex;
}

static int check_fdb(struct fwsh_ctx *ctx, const struct cond *c)
{
        int port = fwsh_fdb_port(ctx, c->bridge, c->mac), want;

        if (port < 0)
                return port;
        if (c->port) {
                want = ifindex_of(ctx, c->port);
                return want < 0 ? want : port == want;
        }
        if (c->not_port) {
                want = ifindex_of(ctx, c->not_port);
                return want < 0 ? want : port > 0 && port != want;
        }
        return port > 0;
}

static int check_lua(lua_State *L, const struct cond *c)
{
        int ok;

        if (c->fn) {
                lua_pushvalue(L, c->fn);
                if (lua_pcall(L, 0, 1, 0) != LUA_OK)
                        return -ECANCELED; /* the error is on the stack */
        } else {
                /* run=ARGV: fwsh.proc.run(argv, {netns=}).ok */
                lua_pushcfunction(L, lfwsh_proc_run);
                lua_pushvalue(L, c->run);
                lua_createtable(L, 0, 2);
                if (c->netns) {
                        lua_pushstring(L, c->netns);
                        lua_setfield(L, -2, "netns");
                }
                if (lua_pcall(L, 2, 1, 0) != LUA_OK)
                        return -ECANCELED;
                lua_getfield(L, -1, "ok");
                lua_remove(L, -2);
        }
        ok = lua_toboolean(L, -1);
        lua_pop(L, 1);
        return ok;
}

static void describe(lua_State *L, const struct cond *c)
{
        if (c->link)
                lua_pushfstring(L, "link %s", c->link);
        else if (c->fdb)
                lua_pushfstring(L, "fdb %s on %s", c->fdb, c->bridge);
        else if (c->run)
                lua_pushliteral(L, "command");
        else
                lua_pushliteral(L, "condition");
}

/*** fwsh.wait{cond..., timeout=SECONDS, netns=NAME} -> seconds, stats: waits
 * until the condition holds, checking it again each time the kernel reports a
 * link or neighbour change (after an event overrun too: the check is a fresh
 * dump), and returns how long it took and {link_events=, neigh_events=,
 * overruns=, checks=}. Conditions: link=NAME with carrier=, up=, exists=
 * (booleans) or operstate="up"; fdb=MAC, bridge=NAME with port=NAME (learned
 * there) or not_port=NAME (learned on another port); fn=function (truthy
 * result; checked on each event and every interval); run=ARGV (the command
 * succeeds; tried every interval, default 0.05 s). netns: look, and run, in
 * that named namespace. Raises ETIMEDOUT after timeout (default 10 s). */
static int l_wait(lua_State *L)
{
        static const char *const known[] = { "link", "carrier", "up", "exists", "operstate", "fdb",
                                             "bridge", "port", "not_port", "fn", "run", "netns",
                                             "timeout", "interval", NULL };
        struct cond c = { 0 };
        struct fwsh_ctx *ctx, *own = NULL;
        struct fwsh_monitor *mon = NULL;
        struct fwsh_monitor_stats stats = { 0 };
        double start = fwsh_now_msf() / 1e3, timeout, deadline;
        unsigned long checks = 0;
        int r;

        luaL_checktype(L, 1, LUA_TTABLE);
        lfwsh_check_fields(L, 1, known);
        lua_settop(L, 1);
        c.link = lfwsh_opt_string(L, 1, "link", NULL);
        c.carrier = tri(L, 1, "carrier");
        c.up = tri(L, 1, "up");
        c.exists = tri(L, 1, "exists");
        c.operstate = lfwsh_opt_string(L, 1, "operstate", NULL);
        c.fdb = lfwsh_opt_string(L, 1, "fdb", NULL);
        c.bridge = lfwsh_opt_string(L, 1, "bridge", NULL);
        c.port = lfwsh_opt_string(L, 1, "port", NULL);
        c.not_port = lfwsh_opt_string(L, 1, "not_port", NULL);
        c.netns = lfwsh_opt_string(L, 1, "netns", NULL);
        timeout = lfwsh_opt_seconds(L, 1, "timeout", 10);
        c.interval = lfwsh_opt_seconds(L, 1, "interval", 0.05);
        lua_getfield(L, 1, "fn");
        if (!lua_isnil(L, -1)) {
                luaL_argcheck(L, lua_isfunction(L, -1), 1, "field 'fn': function expected");
                c.fn = lua_gettop(L);
        }
        lua_getfield(L, 1, "run");
        if (!lua_isnil(L, -1)) {
                luaL_argcheck(L, lua_istable(L, -1) && lua_rawlen(L, -1) > 0, 1,
                              "field 'run': a non-empty argv list expected");
                c.run = lua_gettop(L);
                /* checked here, so that a bad word is wait's argument error:
                 * proc.run, called from C, would not know its own name */
                for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, c.run); i++) {
                        lua_pushfstring(L, "field 'run': argv[%d]", (int)i);
                        if (lua_rawgeti(L, c.run, i) != LUA_TNUMBER)
                                lfwsh_to_str(L, -1, 1, lua_tostring(L, -2));
                        lua_pop(L, 2);
                }
        }
        if (!!c.link + !!c.fdb + !!c.fn + !!c.run != 1)
                return luaL_argerror(L, 1, "give exactly one of link=, fdb=, fn=, run=");
        if (c.fdb && (!c.bridge || fwsh_mac_parse(c.fdb, c.mac) < 0))
                return luaL_argerror(L, 1, "fdb= needs a MAC address and bridge=");
        if (c.link && c.carrier < 0 && c.up < 0 && c.exists < 0 && !c.operstate)
                c.exists = 1;

        ctx = lfwsh_ctx(L);
        if (c.netns) {
                int fd, saved;
                lfwsh_check(L, ctx, fwsh_netns_open(ctx, c.netns, &fd), "wait", c.netns);
                r = fwsh_netns_enter(fd, &saved);
                close(fd);
                if (r < 0)
                        lfwsh_fail_detail(L, r, "wait", c.netns, "cannot enter the namespace");
                r = fwsh_ctx_open(&own);
                fwsh_netns_leave(saved);
                lfwsh_check(L, NULL, r, "wait", c.netns);
                ctx = own;
        }
        r = fwsh_monitor_open(ctx, &mon);
        deadline = start + timeout;
        while (r >= 0) {
                double left;
                checks++;
                if (c.link)
                        r = check_link(ctx, &c);
                else if (c.fdb)
                        r = check_fdb(ctx, &c);
                else
                        r = check_lua(L, &c);
                if (r != 0)
                        break;
                left = deadline - fwsh_now_msf() / 1e3;
                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                if ((c.run || c.fn) && left > c.interval)
                        left = c.interval;
                r = fwsh_monitor_wait(mon, (int)ceil(left * 1000));
        }
        if (mon)
                fwsh_monitor_get_stats(mon, &stats);
        mon = fwsh_monitor_free(mon);
        if (r == -ECANCELED) { /* fn or run raised: pass its error on */
                fwsh_ctx_unref(own);
                return lua_error(L);
        }
        if (r < 0) {
                const char *what;
                describe(L, &c);
                what = lua_tostring(L, -1);
                if (r == -ETIMEDOUT) {
                        fwsh_ctx_unref(own); /* raising does not return: let go of it first */
                        lfwsh_fail_detail(L, r, "wait", what,
                                          lua_pushfstring(L, "not so after %f s", timeout));
                }
                if (own) {
                        lua_pushstring(L, fwsh_ctx_detail(own));
                        fwsh_ctx_unref(own);
                        lfwsh_fail_detail(L, r, "wait", what, lua_tostring(L, -1));
                }
                lfwsh_fail(L, ctx, r, "wait", what);
        }
        fwsh_ctx_unref(own);
        lua_pushnumber(L, fwsh_now_msf() / 1e3 - start);
        lua_createtable(L, 0, 4);
        lua_pushinteger(L, (lua_Integer)stats.link_events);
        lua_setfield(L, -2, "link_events");
        lua_pushinteger(L, (lua_Integer)stats.neigh_events);
        lua_setfield(L, -2, "neigh_events");
        lua_pushinteger(L, (lua_Integer)stats.overruns);
        lua_setfield(L, -2, "overruns");
        lua_pushinteger(L, (lua_Integer)checks);
        lua_setfield(L, -2, "checks");
        return 2;
}

static const luaL_Reg fns[] = { { "wait", l_wait }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_wait = { .fns = fns };
