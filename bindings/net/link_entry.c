/* link_entry.c - the one shape of a link's data: what link:info() returns and
 * what fwsh.show/fwsh.state write for each link (bridge, port or other link),
 * made by one function so that the two cannot disagree. The fields of a kind
 * sit under the kind's own key (bridge = {...}, tap = {...}); a veth names its
 * peer; the generic fields are every link's. */
#include <string.h>

#include "base/emit.h"
#include "fwsh_lua.h"

#include "net/show.h"

/* A kind's options, one field a row (core/net/opt_row.c), in the units the
 * API takes them in (seconds, not hundredths), under the kind's key; one the
 * kernel did not report is left out. A bridge adds its id, a tap whether it
 * is open and persists. */
static void emit_kind_opts(struct emit *e, const struct fwsh_opt_table *t, const struct fwsh_link *l,
                           unsigned flags)
{
        emit_object(e, t->key);
        if (flags & FWSH_KIND_PORTS)
                emit_string(e, FOR_DATA, "id", NULL, l->bridge.id);
        for (size_t i = 0; i < t->n; i++) {
                int64_t v = fwsh_opt_get(&l->opts, i);

                if (v < 0)
                        continue;
                if (t->rows[i].unit == FWSH_OPT_BOOL)
                        emit_bool(e, FOR_DATA, t->rows[i].name, NULL, v == 1);
                else if (t->rows[i].unit == FWSH_OPT_CS)
                        emit_number(e, FOR_DATA, t->rows[i].name, NULL, (double)v / 100);
                else
                        emit_int(e, FOR_DATA, t->rows[i].name, NULL, v);
        }
        if (flags & FWSH_KIND_TUN) {
                emit_bool(e, FOR_DATA, "open", NULL, l->tun.queues > 0);
                emit_bool(e, FOR_DATA, "persist", NULL, l->tun.persist);
        }
        emit_close(e);
}

/* A veth's other end: by name when it is in this namespace, else by its
 * ifindex there and the id this namespace gives that namespace. */
static void emit_veth_peer(struct emit *e, const struct topology *t, const struct fwsh_link *l)
{
        const struct fwsh_link *peer = l->link_netnsid < 0 ? show_link(t, l->link) : NULL;

        if (!l->link)
                return;
        if (peer) {
                emit_string(e, FOR_DATA, "peer", NULL, peer->name);
        } else {
                emit_int(e, FOR_DATA, "peer_ifindex", NULL, l->link);
                emit_int(e, FOR_DATA, "peer_netnsid", NULL, l->link_netnsid);
        }
}

/* What only a kind has, by what its kind's table says it is (core/net/kind.c). */
void show_link_kind(struct emit *e, const struct topology *t, const struct fwsh_link *l)
{
        unsigned flags = fwsh_link_kind_flags(l->kind);
        const struct fwsh_opt_table *opts = fwsh_kind_opts(l->kind);

        if (opts)
                emit_kind_opts(e, opts, l, flags);
        if (flags & FWSH_KIND_PAIR)
                emit_veth_peer(e, t, l);
}

static void emit_impairment(struct emit *e, const struct fwsh_impair *im)
{
        emit_object(e, "impair");
        if (im->delay_ms > 0)
                emit_number(e, FOR_DATA, "delay", NULL, im->delay_ms);
        if (im->jitter_ms > 0)
                emit_number(e, FOR_DATA, "jitter", NULL, im->jitter_ms);
        if (im->loss > 0)
                emit_number(e, FOR_DATA, "loss", NULL, im->loss);
        if (im->duplicate > 0)
                emit_number(e, FOR_DATA, "duplicate", NULL, im->duplicate);
        if (im->corrupt > 0)
                emit_number(e, FOR_DATA, "corrupt", NULL, im->corrupt);
        if (im->reorder > 0)
                emit_number(e, FOR_DATA, "reorder", NULL, im->reorder);
        if (im->rate_bit > 0)
                emit_int(e, FOR_DATA, "rate", NULL, (long long)im->rate_bit);
        emit_close(e);
}

void show_link_entry(struct emit *e, const struct topology *t, const struct fwsh_link *l, const char *name_fmt)
{
        const struct fwsh_link *m = l->master ? show_link(t, l->master) : NULL;
        const struct fwsh_impair *im = show_impairment(t, l->ifindex);
        const char *lab = fwsh_alias_lab(l->alias);
        char mac[18];

        emit_string(e, name_fmt ? FOR_ANY : FOR_DATA, "name", name_fmt, l->name);
        emit_int(e, FOR_DATA, "ifindex", NULL, l->ifindex);
        emit_string(e, FOR_DATA, "kind", NULL, lfwsh_kind_word(l->kind));
        emit_bool(e, FOR_DATA, "up", NULL, l->up);
        emit_bool(e, FOR_DATA, "carrier", NULL, l->carrier);
        emit_string(e, FOR_DATA, "operstate", NULL, fwsh_operstate_name(l->operstate));
        emit_int(e, FOR_DATA, "mtu", NULL, l->mtu);
        if (l->has_mac)
                emit_string(e, FOR_DATA, "mac", NULL, fwsh_mac_format(l->mac, mac));
        if (l->alias[0])
                emit_string(e, FOR_DATA, "alias", NULL, l->alias);
        if (lab)
                emit_string(e, FOR_DATA, "lab", NULL, lab);
        if (m)
                emit_string(e, FOR_DATA, "master", NULL, m->name);
        if (l->port_state >= 0)
                emit_string(e, FOR_DATA, "port_state", NULL, fwsh_port_state_name(l->port_state));
        show_link_kind(e, t, l);
        emit_array(e, "addresses");
        for (size_t i = 0; i < t->naddrs; i++)
                if (t->addrs[i].ifindex == l->ifindex)
                        emit_string(e, FOR_DATA, NULL, NULL, t->addrs[i].text);
        emit_close(e);
        if (im)
                emit_impairment(e, im);
}

void show_push_link(lua_State *L, struct fwsh_ctx *ctx, const char *op, const char *name)
{
        struct topology t;
        struct emit e;
        int top = lua_gettop(L);
        const struct fwsh_link *l = show_read_one(L, ctx, op, name, &t);

        emit_begin(&e, L, EMIT_LUA);
        show_link_entry(&e, &t, l, NULL);
        emit_end(&e);
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
}
