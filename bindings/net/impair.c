/* impair.c - link:impair{...}, link:impair(), link:clear_impairment(): what a
 * link does to the packets it sends (delay, loss, rate...), as tc-netem(8). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

/* A field as a number with optional unit suffixes: "20ms", "1.5s", 20;
 * "10%", 10; def when absent. units: { suffix, factor }..., NULL-terminated. */
struct unit {
        const char *suffix;
        double factor;
};

/* A number as tc writes one: digits first, so that strtod's leading blanks,
 * hex, "inf" and "nan" are refused, not read as some other value. */
static bool plain_number(const char *s)
{
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                return false;
        return isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]));
}

static double opt_measure(lua_State *L, int t, const char *field, const struct unit *units, const char *what)
{
        double v = 0;

        lua_getfield(L, t, field);
        if (lua_type(L, -1) == LUA_TNUMBER) {
                v = lua_tonumber(L, -1);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
                const char *s = lfwsh_field_str(L, -1, t, field);
                char *end = (char *)s;
                bool ok = false;

                if (plain_number(s))
                        v = strtod(s, &end);
                for (const struct unit *u = units; u->suffix && !ok && end != s; u++)
                        if (strcmp(end, u->suffix) == 0) {
                                v *= u->factor;
                                ok = true;
                        }
                if (!ok)
                        luaL_argerror(L, t, lua_pushfstring(L, "field '%s': '%s' is not %s", field, s, what));
        } else if (!lua_isnil(L, -1)) {
                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %s expected, got %s", field, what,
                                                    luaL_typename(L, -1)));
        }
        lua_pop(L, 1);
        if (!isfinite(v) || v < 0 || signbit(v))
                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %f is not %s", field, v, what));
        return v;
}

/* A value the kernel would keep as 0 (below its unit) would mean "none":
 * refused rather than silently turned off. */
static double nonzero(lua_State *L, int t, const char *field, double v, double unit, const char *unit_name)
{
        if (v > 0 && v < unit / 2)
                luaL_argerror(L, t, lua_pushfstring(L, "field '%s': %f is below the kernel's unit (%s): "
                                                    "it would be 0, none", field, v, unit_name));
        return v;
}

/* The tbf keeps bytes per second: a rate that is not a whole number of them
 * would read back as another (100 as 96), and one below 8 as none. */
static uint64_t rate_bit(lua_State *L, int t, double v)
{
        if (v >= 18446744073709551615.0)
                luaL_argerror(L, t, "field 'rate': out of range");
        if (v != floor(v) || fmod(v, 8) != 0)
                luaL_argerror(L, t, lua_pushfstring(L, "field 'rate': %f bit/s is not a whole number of "
                                                    "bytes per second (the kernel's unit: a multiple of 8 "
                                                    "bit/s)", v));
        return (uint64_t)v;
}

static const struct unit MS[] = { { "ms", 1 }, { "s", 1000 }, { "us", 0.001 }, { "", 1 }, { NULL, 0 } };
static const struct unit PCT[] = { { "%", 1 }, { "", 1 }, { NULL, 0 } };
/* tc's: bit and bps (bytes), SI prefixes, as tc(8) reads them */
static const struct unit RATE[] = {
        { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
        { "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 }, { "", 1 }, { NULL, 0 },
};

/* netem keeps a delay in us and a percentage as a 32-bit fraction. */
static double ms_field(lua_State *L, const char *field)
{
        return nonzero(L, 2, field, opt_measure(L, 2, field, MS, "a time in ms (20, \"20ms\", \"1s\")"),
                       0.001, "1 us");
}

static double pct_field(lua_State *L, const char *field)
{
        return nonzero(L, 2, field, opt_measure(L, 2, field, PCT, "a percentage (10, \"10%\")"),
                       100.0 / UINT32_MAX, "1/2^32 of 100%");
}

void lfwsh_push_impairment(lua_State *L, const struct fwsh_impair *im)
{
        lua_createtable(L, 0, 7);
        const struct { const char *name; double v; } f[] = {
                { "delay", im->delay_ms }, { "jitter", im->jitter_ms }, { "loss", im->loss },
                { "duplicate", im->duplicate }, { "corrupt", im->corrupt }, { "reorder", im->reorder },
        };
        for (size_t i = 0; i < FWSH_N(f); i++)
                if (f[i].v > 0) {
                        lua_pushnumber(L, f[i].v);
                        lua_setfield(L, -2, f[i].name);
                }
        if (im->rate_bit) {
                lua_pushinteger(L, (lua_Integer)im->rate_bit);
                lua_setfield(L, -2, "rate");
        }
}

/*** link:impair{delay=, jitter=, loss=, duplicate=, corrupt=, reorder=, rate=} -> link;
 * what the link does to the packets it sends (tc-netem: fwsh's own root qdisc,
 * a tbf under it for rate): delay and jitter in ms (20 or "20ms"), the rest in
 * percent (10 or "10%"), rate in bit/s (1e6 or "1mbit", "125kbps"), a multiple
 * of 8 (the kernel keeps bytes/s); a value below the kernel's unit (1 us, 8 bit/s)
 * raises rather than mean none; {} removes it. Journaled: a transaction's rollback puts back what was there. A root
 * qdisc fwsh did not make is never replaced. link:impair() -> the impairment
 * read back from the kernel (a table of those fields), or nil if none */
int lfwsh_link_impair(lua_State *L)
{
        static const char *const known[] = { "delay", "jitter", "loss", "duplicate", "corrupt",
                                             "reorder", "rate", NULL };
        struct fwsh_ctx *ctx;
        const char *name = lfwsh_link_arg(L, 1, "link.impair", &ctx);
        struct fwsh_impair im = { 0 };
        int r;

        if (lua_isnoneornil(L, 2)) {
                r = lfwsh_check(L, ctx, fwsh_link_impairment(ctx, name, &im, NULL), "link.impair", name);
                if (r == 0)
                        lua_pushnil(L);
                else
                        lfwsh_push_impairment(L, &im);
                return 1;
        }
        luaL_checktype(L, 2, LUA_TTABLE);
        lfwsh_check_fields(L, 2, known);
        im.delay_ms = ms_field(L, "delay");
        im.jitter_ms = ms_field(L, "jitter");
        im.loss = pct_field(L, "loss");
        im.duplicate = pct_field(L, "duplicate");
        im.corrupt = pct_field(L, "corrupt");
        im.reorder = pct_field(L, "reorder");
        im.rate_bit = rate_bit(L, 2, opt_measure(L, 2, "rate", RATE, "a rate in bit/s (1e6, \"1mbit\", "
                                                 "\"125kbps\")"));
        lfwsh_check(L, ctx, fwsh_link_impair(ctx, name, &im), "link.impair", name);
        lua_settop(L, 1);
        return 1;
}

/*** link:clear_impairment() -> link; removes fwsh's impairment (link:impair{} does too) */
int lfwsh_link_clear_impairment(lua_State *L)
{
        struct fwsh_ctx *ctx;
        const char *name = lfwsh_link_arg(L, 1, "link.clear_impairment", &ctx);

        lfwsh_check(L, ctx, fwsh_link_impair(ctx, name, NULL), "link.clear_impairment", name);
        lua_settop(L, 1);
        return 1;
}
