/* capture.c - fwsh.capture: a link's packets into a pcap file, written in
 * the background by a process the lab owns, until the capture object stops
 * it (or its count, __close, __gc, the lab's teardown, the end of fwsh). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fwsh_lua.h"

#define CAPTURE_MT "fwsh.capture"

struct lcapture {
        struct fwsh_capture *c;   /* NULL: it never started, or it was collected */
        char what[FWSH_NAME_MAX + FWSH_NETNS_NAME_MAX + 16]; /* "br2", "eth2 (netns fw-1)" */
};

/*** fwsh.capture(link, {file=PATH [, filter=EXPR, count=N, snaplen=BYTES,
 * netns=NAME, promisc=true]}) -> capture: captures link's packets (a name, in
 * the namespace the script is in or in netns; or a handle) into the pcap file
 * PATH, made or emptied, as `tcpdump -w` writes it (tcpdump -r and Wireshark
 * read it), in a background process that belongs to the lab. It captures
 * from the moment this returns: the socket is bound and the filter set.
 * filter is a pcap-filter(7) expression ("icmp", "udp port 3780", "ip proto
 * 112"); count ends it by itself after that many packets; snaplen keeps that
 * many bytes of each (default and most 262144); promisc=false leaves the link
 * out of promiscuous mode (a bridge then sees only what it receives itself,
 * not what it forwards). Raises, and makes no file, for a link that does not
 * exist or a filter libpcap refuses (its words after the filter). It stops at
 * capture:stop(), <close>, garbage collection, fwsh.proc.stop_lab(), the end
 * of fwsh (also if fwsh is killed: it closes the file first).
 * @see pcap(3PCAP), pcap-filter(7), tcpdump(8) */
static int l_capture(lua_State *L)
{
        static const char *const known[] = { "file", "filter", "count", "snaplen", "netns", "promisc", NULL };
        struct fwsh_capture_spec spec = FWSH_CAPTURE_SPEC_INIT;
        struct lcapture *lc;
        struct fwsh_ctx *ctx;
        const char *ns;
        int fd = -1, r;

        luaL_checktype(L, 2, LUA_TTABLE);
        lfwsh_check_fields(L, 2, known);
        spec.path = lfwsh_opt_string(L, 2, "file", NULL);
        if (!spec.path || !spec.path[0])
                luaL_argerror(L, 2, "field 'file': the path of the pcap file to write expected");
        spec.filter = lfwsh_opt_string(L, 2, "filter", NULL);
        spec.count = (uint64_t)lfwsh_opt_range(L, 2, "count", 0, 1, LUA_MAXINTEGER);
        spec.snaplen = (int)lfwsh_opt_range(L, 2, "snaplen", FWSH_CAPTURE_SNAPLEN, 1, FWSH_CAPTURE_SNAPLEN);
        spec.promisc = lfwsh_opt_bool(L, 2, "promisc", true);
        ns = lfwsh_opt_string(L, 2, "netns", NULL);
        if (ns && lfwsh_to_link(L, 1))
                luaL_argerror(L, 2, "field 'netns': a handle knows its namespace: give the link's name");
        spec.link = lfwsh_link_arg(L, 1, "capture", &ctx);
        lc = lua_newuserdatauv(L, sizeof(*lc), 1);
        lc->c = NULL; /* closed until it starts */
        if (ns)
                snprintf(lc->what, sizeof(lc->what), "%s (netns %s)", spec.link, ns);
        else
                snprintf(lc->what, sizeof(lc->what), "%s", spec.link);
        luaL_setmetatable(L, CAPTURE_MT);
        /* its fields: what it captures, and where to */
        lua_createtable(L, 0, 3);
        lua_pushstring(L, spec.path);
        lua_setfield(L, -2, "file");
        lua_pushstring(L, spec.link);
        lua_setfield(L, -2, "link");
        if (ns) {
                lua_pushstring(L, ns);
                lua_setfield(L, -2, "netns");
        }
        lua_setiuservalue(L, -2, 1);
        if (ns)
                lfwsh_check(L, ctx, fwsh_netns_open(ctx, ns, &fd), "capture", lc->what);
        spec.netns_fd = fd;
        r = fwsh_capture_start(ctx, &spec, &lc->c);
        if (fd >= 0)
                close(fd);
        lfwsh_check(L, ctx, r, "capture", lc->what);
        return 1;
}

static struct lcapture *check_capture(lua_State *L, int idx)
{
        struct lcapture *lc = luaL_checkudata(L, idx, CAPTURE_MT);

        if (!lc->c)
                luaL_error(L, "attempt to use a capture that did not start");
        return lc;
}

static int push_stats(lua_State *L, const struct fwsh_capture_stats *st)
{
        lua_pushinteger(L, (lua_Integer)st->packets);
        lua_pushinteger(L, (lua_Integer)st->dropped);
        return 2;
}

/*** capture:stop([grace]) -> packets, dropped: stops it (SIGKILL if it has
 * not closed the file after grace seconds, default 2): what the kernel still
 * holds is written, the file flushed and closed. packets: written to the
 * file; dropped: lost by the kernel (its buffer was full). Again after that:
 * the same numbers. Raises if the capture failed meanwhile (the disk full,
 * the link gone) */
static int m_stop(lua_State *L)
{
        struct lcapture *lc = check_capture(L, 1);
        struct fwsh_capture_stats st;
        int r = fwsh_capture_stop(lc->c, lfwsh_ms(lfwsh_check_seconds(L, 2, 2)), &st);

        if (r < 0)
                lfwsh_fail_detail(L, r, "capture.stop", lc->what, fwsh_capture_detail(lc->c));
        return push_stats(L, &st);
}

/*** capture:wait([timeout]) -> packets, dropped: waits until it ends by
 * itself, at its count (for ever without timeout, in seconds); raises
 * ETIMEDOUT, or as capture:stop if it failed */
static int m_wait(lua_State *L)
{
        struct lcapture *lc = check_capture(L, 1);
        int ms = lua_isnoneornil(L, 2) ? -1 : lfwsh_ms(lfwsh_check_seconds(L, 2, 0));
        struct fwsh_capture_stats st;
        int r = fwsh_capture_wait(lc->c, ms, &st);

        if (r < 0)
                lfwsh_fail_detail(L, r, "capture.wait", lc->what,
                                  r == -ETIMEDOUT ? "still capturing" : fwsh_capture_detail(lc->c));
        return push_stats(L, &st);
}

/*** capture:packets() -> how many packets it has written so far */
static int m_packets(lua_State *L)
{
        lua_pushinteger(L, (lua_Integer)fwsh_capture_packets(check_capture(L, 1)->c));
        return 1;
}

/*** capture:running() -> whether it still captures (false once stopped, or
 * at its count) */
static int m_running(lua_State *L)
{
        lua_pushboolean(L, fwsh_capture_running(check_capture(L, 1)->c));
        return 1;
}

/* capture.file, capture.link, capture.netns; then the methods. */
static int capture_index(lua_State *L)
{
        luaL_checkudata(L, 1, CAPTURE_MT);
        lua_getiuservalue(L, 1, 1);
        lua_pushvalue(L, 2);
        if (lua_rawget(L, -2) != LUA_TNIL)
                return 1;
        lua_getmetatable(L, 1);
        lua_getfield(L, -1, "methods");
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
        return 1;
}

/* __close: stopped, its counts kept for capture:stop(); never raises. */
static int capture_close(lua_State *L)
{
        struct lcapture *lc = luaL_checkudata(L, 1, CAPTURE_MT);

        if (lc->c)
                fwsh_capture_stop(lc->c, 2000, NULL);
        return 0;
}

static int capture_gc(lua_State *L)
{
        struct lcapture *lc = luaL_checkudata(L, 1, CAPTURE_MT);

        lc->c = fwsh_capture_free(lc->c);
        return 0;
}

static int capture_tostring(lua_State *L)
{
        struct lcapture *lc = luaL_checkudata(L, 1, CAPTURE_MT);
        const char *file;

        lua_getiuservalue(L, 1, 1);
        lua_getfield(L, -1, "file");
        file = lua_tostring(L, -1);
        if (!lc->c)
                lua_pushfstring(L, "capture %s (not started)", lc->what);
        else
                lua_pushfstring(L, "capture %s -> %s (%s, %I packets)", lc->what, file ? file : "?",
                                fwsh_capture_running(lc->c) ? "running" : "stopped",
                                (lua_Integer)fwsh_capture_packets(lc->c));
        return 1;
}

/* Its process is one of fwsh.proc's, stopped when the Lua state closes: the
 * module opens proc's part too. */
static void init(lua_State *L)
{
        static const luaL_Reg methods[] = {
                { "stop", m_stop }, { "wait", m_wait }, { "packets", m_packets },
                { "running", m_running }, { NULL, NULL },
        };
        static const luaL_Reg meta[] = {
                { "__index", capture_index }, { "__close", capture_close }, { "__gc", capture_gc },
                { "__tostring", capture_tostring }, { NULL, NULL },
        };

        if (luaL_newmetatable(L, CAPTURE_MT)) {
                luaL_setfuncs(L, meta, 0);
                luaL_newlib(L, methods);
                lua_setfield(L, -2, "methods");
        }
        lua_pop(L, 1);
}

static const luaL_Reg fns[] = { { "capture", l_capture }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_capture = { .fns = fns, .init = init };
