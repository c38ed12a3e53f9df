/* show.c - fwsh.show and fwsh.state: the namespace's whole topology in one
 * walk, which the emitter (emit.h) turns into the `brctl show` table, JSON or
 * Lua data: bridges, their ports (kind, STP port state, carrier; for taps the
 * owner and whether a process holds them open), every link's addresses, the
 * other links, the unicast routes of every table, the named namespaces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "base/emit.h"
#include "fwsh_lua.h"

#include "net/show.h"

/* A bridge: brctl's columns, then its ports, one line each in the text. */
static void emit_bridge(struct emit *e, const struct topology *t, const struct fwsh_link *br)
{
        int ports = 0;

        /* The columns are text only: the data has them in the entry's bridge = {...} */
        emit_object(e, NULL);
        emit_string(e, FOR_TEXT, NULL, "%s\t\t", br->name);
        emit_string(e, FOR_TEXT, NULL, "%s\t", br->bridge.id);
        emit_bool(e, FOR_TEXT, NULL, "%s\t\t", fwsh_opt_get(&br->opts, 0) == 1); /* stp */
        show_link_entry(e, t, br, NULL);
        emit_array(e, "ports");
        for (size_t i = 0; i < t->nlinks; i++) {
                const struct fwsh_link *p = &t->links[i];
                if (p->master != br->ifindex)
                        continue;
                if (ports++)
                        emit_text(e, "\t\t\t\t\t\t\t");
                emit_object(e, NULL);
                show_link_entry(e, t, p, "%s\n");
                emit_close(e);
        }
        if (!ports)
                emit_text(e, "\n");
        emit_close(e);
        emit_close(e);
}

static void emit_route(struct emit *e, const struct fwsh_route *r)
{
        emit_object(e, NULL);
        emit_string(e, FOR_DATA, "dst", NULL, r->dst);
        if (r->via[0])
                emit_string(e, FOR_DATA, "via", NULL, r->via);
        if (r->dev[0])
                emit_string(e, FOR_DATA, "dev", NULL, r->dev);
        emit_int(e, FOR_DATA, "metric", NULL, r->metric);
        emit_int(e, FOR_DATA, "table", NULL, r->table);
        emit_string(e, FOR_DATA, "family", NULL, r->family == AF_INET ? "inet" : "inet6");
        emit_close(e);
}

static void walk(struct emit *e, const struct topology *t)
{
        emit_text(e, "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n");
        emit_array(e, "bridges");
        for (size_t i = 0; i < t->nlinks; i++)
                if (show_is_bridge(&t->links[i]))
                        emit_bridge(e, t, &t->links[i]);
        emit_close(e);
        emit_array(e, "links"); /* neither a bridge nor a bridge's port */
        for (size_t i = 0; i < t->nlinks; i++) {
                const struct fwsh_link *l = &t->links[i];
                if (show_is_bridge(l) || show_is_bridge(show_link(t, l->master)))
                        continue;
                emit_object(e, NULL);
                show_link_entry(e, t, l, NULL);
                emit_close(e);
        }
        emit_close(e);
        emit_array(e, "routes");
        for (size_t i = 0; i < t->nroutes; i++)
                emit_route(e, &t->routes[i]);
        emit_close(e);
        emit_array(e, "namespaces");
        for (size_t i = 0; i < t->nnetns; i++)
                emit_string(e, FOR_DATA, NULL, NULL, t->netns[i]);
        emit_close(e);
        /* the text: each impaired link under the table, in tc's words */
        for (size_t i = 0; i < t->nimpaired; i++) {
                const struct fwsh_link *l = show_link(t, t->impaired[i].ifindex);
                const struct fwsh_impair *im = &t->impaired[i].im;
                char line[256];
                int n = snprintf(line, sizeof(line), "%simpaired %s:", i ? "" : "\n", l ? l->name : "?");
                if (im->delay_ms > 0)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, " delay %gms", im->delay_ms);
                if (im->jitter_ms > 0)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, " jitter %gms", im->jitter_ms);
                if (im->loss > 0)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, " loss %g%%", im->loss);
                if (im->duplicate > 0)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, " duplicate %g%%", im->duplicate);
                if (im->corrupt > 0)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, " corrupt %g%%", im->corrupt);
                if (im->reorder > 0)
                        n += snprintf(line + n, sizeof(line) - (size_t)n, " reorder %g%%", im->reorder);
                if (im->rate_bit > 0)
                        snprintf(line + n, sizeof(line) - (size_t)n, " rate %llubit", (unsigned long long)im->rate_bit);
                emit_text(e, line);
                emit_text(e, "\n");
        }
}

/* Pushes the topology of the session's namespace as out says. */
static void push_topology(lua_State *L, enum emit_output out)
{
        struct topology t;
        struct emit e;
        int top = lua_gettop(L);

        show_read(L, lfwsh_ctx(L), &t);
        emit_begin(&e, L, out);
        walk(&e, &t);
        emit_end(&e);
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
}

/*** fwsh.show([{json=false, dot=false, print=true}]) -> the bridges and their
 * ports as `brctl show` prints them, or with json=true the whole topology as
 * JSON (what fwsh.state() returns; a byte of a name that is not UTF-8 written as
 * the code point of its value, 0xff as \u00ff), or with dot=true as a Graphviz graph
 * (grounding bridges filled, non-grounding dashed, a port where a VRRP
 * master's virtual MAC was learned marked); printed to standard output
 * unless print=false, then returned as a string */
static int l_show(lua_State *L)
{
        static const char *const known[] = { "print", "json", "dot", NULL };
        bool print, json, dot;

        lfwsh_check_fields(L, 1, known);
        print = lfwsh_opt_bool(L, 1, "print", true);
        json = lfwsh_opt_bool(L, 1, "json", false);
        dot = lfwsh_opt_bool(L, 1, "dot", false);
        luaL_argcheck(L, !(json && dot), 1, "json or dot, not both");
        if (dot) {
                struct topology t;
                int top = lua_gettop(L);
                show_read(L, lfwsh_ctx(L), &t);
                show_dot(L, lfwsh_ctx(L), &t);
                lua_replace(L, top + 1);
                lua_settop(L, top + 1);
        } else {
                push_topology(L, json ? EMIT_JSON : EMIT_TEXT);
        }
        if (!print)
                return 1;
        fputs(lua_tostring(L, -1), stdout);
        fflush(stdout);
        return 0;
}

/*** fwsh.state() -> the topology of this namespace as data: { bridges = { entry
 * + ports = { entry, ... }, ... }, links = { entry, ... } (neither bridges nor
 * their ports), routes = { {dst=, via=, dev=, metric=, table=, family=}, ... },
 * namespaces = { name, ... } }, where each entry is what that link's
 * link:info() returns */
static int l_state(lua_State *L)
{
        push_topology(L, EMIT_LUA);
        return 1;
}

static const luaL_Reg fns[] = { { "show", l_show }, { "state", l_state }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_show = { .fns = fns };
