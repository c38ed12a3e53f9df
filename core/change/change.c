/* change.c - the one path every change takes: backend, then journal; or, while
 * a batch is open, its queue (net/batch.c, through ctx->batch_queue), which
 * makes and journals it later. It knows no kind of object: the backend does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void change_init(struct change *ch, enum change_op op, const char *name)
{
        static const struct fwsh_link_set set_init = FWSH_LINK_SET_INIT;

        memset(ch, 0, sizeof(*ch));
        ch->op = op;
        if (name)
                fwsh_strcpy(ch->name, sizeof(ch->name), name);
        ch->set = set_init;
}

int change_apply_now(struct fwsh_ctx *ctx, const struct change *ch)
{
        char lines[2048];
        int r;

        ctx_clear(ctx); /* a failure with no words of its own must not show an old one's */
        if (ctx->batch)
                return ctx_fail(ctx, -EOPNOTSUPP, "a batch makes bridges and taps only: "
                                                  "do this after it");
        /* Rendered before: a deleted link's name can no longer be looked up after. */
        if (ctx->explain && ctx->backend->render(ctx, ch, lines, sizeof(lines)) < 0)
                return ctx_fail(ctx, -ENOSPC, "the change is too long to explain");
        r = ctx->backend->apply(ctx, ch);
        if (r == 0 && ctx->explain)
                ctx->explain(ctx->explain_arg, lines);
        return r;
}

int change_apply(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse)
{
        int r;

        struct change inv;

        if (ctx->batch && inverse)
                return ctx->batch_queue(ctx, ch, inverse);
        r = change_apply_now(ctx, ch);

        if (r < 0 || !inverse || !ctx->journal)
                return r;
        /* The undo names what was made by its identity, learnt now, while
         * it is still ours: by the time of a rollback its name may be
         * another's. Unknown, it is not recorded: its tag leaves it to
         * `fwsh down`, and nothing is ever deleted by name alone. */
        inv = *inverse;
        if (ctx->backend->identify && (r = ctx->backend->identify(ctx, ch, &inv)) < 0)
                return ctx_fail(ctx, r, "%s was made but cannot be found again to record its undo",
                                ch->name);
        r = journal_push(ctx->journal, ctx, &inv);
        if (r < 0) {
                /* What cannot be undone later is undone now. */
                inv.owned_only = true;
                change_apply_now(ctx, &inv);
                return ctx_fail(ctx, r, r == -ENOMEM ? "no memory to record the change for rollback"
                                                     : "the change cannot be recorded for rollback");
        }
        return 0;
}

void change_link_new_copy(const void *head, struct change *ret)
{
        change_init(ret, CH_LINK_NEW, NULL);
        memcpy(ret, head, CHANGE_LINK_NEW_SIZE);
}

void lab_mark(const struct fwsh_ctx *ctx, struct change *ch)
{
        ch->has_alias = true;
        lab_tag(ctx, ch->alias, sizeof(ch->alias));
        ch->group = fwsh_lab_group(ctx->lab);
}
