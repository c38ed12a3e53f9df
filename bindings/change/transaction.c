/* transaction.c - fwsh.transaction: all of fn's changes, or none of them. */
#include <errno.h>

#include "fwsh_lua.h"

void lfwsh_atomic_begin(lua_State *L, struct lfwsh_atomic *a)
{
        struct lfwsh_state *st = lfwsh_state(L);

        a->prev = st->journal;
        a->j = fwsh_journal_new();
        if (!a->j)
                lfwsh_fail(L, NULL, -ENOMEM, "transaction", "journal");
        st->journal = a->j;
        if (st->ctx)
                lfwsh_use(L, st->ctx);
}

static void end(lua_State *L, struct lfwsh_atomic *a)
{
        struct lfwsh_state *st = lfwsh_state(L);

        st->journal = a->prev;
        if (st->ctx)
                lfwsh_use(L, st->ctx);
        a->j = fwsh_journal_free(a->j);
}

int lfwsh_atomic_commit(lua_State *L, struct lfwsh_atomic *a)
{
        int r = 0;

        if (a->prev)
                r = fwsh_journal_splice(a->prev, a->j);
        if (r < 0)
                fwsh_journal_rollback(a->j, NULL);
        end(L, a);
        return r;
}

void lfwsh_atomic_abort(lua_State *L, struct lfwsh_atomic *a)
{
        fwsh_journal_rollback(a->j, NULL);
        end(L, a);
}

/*** fwsh.transaction(fn, ...) -> fn's results. If fn raises, every change it
 * made through fwsh is undone, newest first, also in other namespaces, and fn's
 * error is raised again, unchanged (a table error gets a `rollback` field if
 * undoing failed too; a string error is left as it was). Nested transactions
 * join the outer one. What cannot be undone: a deleted namespace, a veth pair
 * whose peer was in another namespace, a link moved to another namespace; a
 * deleted bridge, tap, VXLAN or veth pair comes back with its settings but
 * without its ports and addresses (a veth's peer: down, with the MTU of the end
 * deleted). Module loads, boot files and
 * firewalld zones are not journaled (see docs/host-setup.md) */
static int l_transaction(lua_State *L)
{
        struct lfwsh_atomic a;
        const char *detail = NULL;
        int status, r;

        luaL_checktype(L, 1, LUA_TFUNCTION);
        lfwsh_atomic_begin(L, &a);
        status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
        if (status == LUA_OK) {
                r = lfwsh_atomic_commit(L, &a);
                if (r < 0)
                        lfwsh_fail(L, NULL, r, "transaction", "commit");
                return lua_gettop(L);
        }
        r = fwsh_journal_rollback(a.j, &detail);
        end(L, &a);
        if (r < 0 && lua_istable(L, -1)) {
                lua_pushstring(L, detail);
                lua_setfield(L, -2, "rollback");
        }
        return lua_error(L);
}

/*** fwsh.keep() -> number: what the open transaction (the script's own, unless
 * --keep-partial) made so far is kept, whatever comes after: its rollback
 * will not undo it. For steps that stand on their own, as host setup's; how
 * many changes were kept */
static int l_keep(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);
        size_t n = st->journal ? fwsh_journal_size(st->journal) : 0;

        if (st->journal)
                fwsh_journal_forget(st->journal);
        lua_pushinteger(L, (lua_Integer)n);
        return 1;
}

static const luaL_Reg fns[] = {
        { "transaction", l_transaction }, { "keep", l_keep }, { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_transaction = { .fns = fns };
