/* change.c - the one path every change takes: backend, then journal; or, while
 * a batch is open, its queue (batch.c), which makes and journals it later. */
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
                snprintf(ch->name, sizeof(ch->name), "%s", name);
        ch->set = set_init;
        ch->tap.owner = -1;
        ch->tap.group = -1;
}

static int kernel_apply(struct fwsh_ctx *ctx, const struct change *ch)
{
        switch (ch->op) {
        case CH_LINK_NEW:
                return link_kernel_new(ctx, ch);
        case CH_LINK_SET:
                return link_kernel_set(ctx, ch);
        case CH_LINK_DEL:
                return link_kernel_del(ctx, ch);
        case CH_TAP_NEW:
                return tap_kernel_new(ctx, ch);
        case CH_ADDR_NEW:
        case CH_ADDR_DEL:
                return addr_kernel(ctx, ch);
        case CH_ROUTE_NEW:
        case CH_ROUTE_DEL:
                return route_kernel(ctx, ch);
        case CH_NETNS_NEW:
        case CH_NETNS_DEL:
                return netns_kernel(ctx, ch);
        case CH_SYSCTL:
                return sysctl_kernel(ctx, ch);
        }
        return -EINVAL;
}

const struct backend kernel_backend = { "kernel", kernel_apply };

int change_apply_now(struct fwsh_ctx *ctx, const struct change *ch)
{
        char lines[2048];
        int r;

        ctx_clear(ctx); /* a failure with no words of its own must not show an old one's */
        if (ctx->batch)
                return ctx_fail(ctx, -EOPNOTSUPP, "a batch makes bridges and taps only: "
                                                  "do this after it");
        /* Rendered before: a deleted link's name can no longer be looked up after. */
        if (ctx->explain && change_render(ctx, ch, lines, sizeof(lines)) < 0)
                return ctx_fail(ctx, -ENOSPC, "the change is too long to explain");
        r = ctx->backend->apply(ctx, ch);
        if (r == 0 && ctx->explain)
                ctx->explain(ctx->explain_arg, lines);
        return r;
}

int change_apply(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse)
{
        int r;

        if (ctx->batch && inverse)
                return batch_queue(ctx, ch, inverse);
        r = change_apply_now(ctx, ch);

        if (r < 0 || !inverse || !ctx->journal)
                return r;
        r = journal_push(ctx->journal, ctx, inverse);
        if (r < 0) {
                /* What cannot be undone later is undone now. */
                change_apply_now(ctx, inverse);
                return ctx_fail(ctx, r, "no memory to record the change for rollback");
        }
        return 0;
}
