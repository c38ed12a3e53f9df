/* batch.c - fwsh.batch: bridges and taps made all at once, at the end of fn. */
#include <errno.h>

#include "fwsh_lua.h"

/*** fwsh.batch(fn, ...) -> fn's results. The bridges and taps fn adds in the
 * namespace it runs in are made when fn returns, all at once: the bridges, then
 * the taps, 32 requests to a sendmsg (see bench/README.md for what that
 * saves). Inside fn: a name taken raises at
 * once; a tap's bridge may be one the batch makes; handles on what is queued
 * work only after the batch (their name reads at once); queries see the
 * kernel without what is queued; any other change raises (do it after). If fn
 * raises, nothing is made; if the kernel refuses one link, every link of the
 * batch is removed again and the error names that one. Inside a transaction,
 * the transaction can undo the batch. A plan (--dry-run) or --explain runs fn
 * one change at a time; a nested batch joins the outer one */
static int l_batch(lua_State *L)
{
        struct fwsh_batch_failure failed;
        struct fwsh_ctx *ctx;
        int status, held, r;

        luaL_checktype(L, 1, LUA_TFUNCTION);
        ctx = lfwsh_ctx(L);
        if (fwsh_batch_is_open(ctx) || fwsh_batch_begin(ctx) < 0) {
                lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
                return lua_gettop(L);
        }
        fwsh_ctx_ref(ctx);
        lfwsh_hold_begin(L);
        lua_insert(L, 1);
        held = 1;
        lfwsh_state(L)->batches++;
        status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
        lfwsh_state(L)->batches--;
        lfwsh_hold_end(L);
        if (status != LUA_OK) {
                fwsh_batch_abort(ctx);
                lfwsh_hold_release(L, held, ctx, false);
                fwsh_ctx_unref(ctx);
                return lua_error(L);
        }
        r = fwsh_batch_commit(ctx, &failed);
        lfwsh_hold_release(L, held, ctx, r == 0);
        if (r < 0) {
                const char *detail = lua_pushstring(L, fwsh_ctx_detail(ctx));
                fwsh_ctx_unref(ctx);
                if (failed.kind[0])
                        lua_pushfstring(L, "%s.add", failed.kind);
                else
                        lua_pushliteral(L, "batch");
                return lfwsh_fail_detail(L, r, lua_tostring(L, -1),
                                         failed.name[0] ? failed.name : "commit", detail);
        }
        fwsh_ctx_unref(ctx);
        return lua_gettop(L) - 1;
}

static const luaL_Reg fns[] = { { "batch", l_batch }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_batch = { .fns = fns };
