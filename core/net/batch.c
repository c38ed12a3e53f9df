/* batch.c - bridges and taps queued, to be made all at once by
 * batch_commit.c: the kernel does the same work as call by call, in a few
 * sendmsg calls instead of one or two a link.
 *
 * While a batch is open, change_apply() queues a bridge or tap creation after
 * the checks that need no kernel change (name free, in the kernel and in the
 * queue; the master a bridge) and refuses every other change: what comes after
 * in a script would see links that are not there yet. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "batch.h"

bool batch_is_bridge(const struct change *ch)
{
        return ch->op == CH_LINK_NEW && strcmp(ch->kind, "bridge") == 0;
}

void item_change(const struct item *it, struct change *ret)
{
        change_link_new_copy(it->head, ret);
}

/* The slot of name: its item's, or the empty one where it would go. */
static uint32_t *slot(const struct batch *b, const char *name)
{
        size_t mask = b->cap * 2 - 1;

        for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask)
                if (!b->slots[i] || strcmp(b->v[b->slots[i] - 1].name, name) == 0)
                        return &b->slots[i];
}

struct item *batch_find(const struct batch *b, const char *name)
{
        uint32_t *s = b->cap ? slot(b, name) : NULL;

        return s && *s ? &b->v[*s - 1] : NULL;
}

/* Room for one more item; the index rebuilt at twice the size. */
static int grow(struct batch *b)
{
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct item *v;
        uint32_t *slots;

        if (b->n < b->cap)
                return 0;
        if (cap > UINT32_MAX / 2 || !(slots = calloc(cap * 2, sizeof(*slots))))
                return -ENOMEM;
        if (!(v = realloc(b->v, cap * sizeof(*v)))) {
                free(slots);
                return -ENOMEM;
        }
        free(b->slots);
        b->v = v;
        b->slots = slots;
        b->cap = cap;
        for (size_t i = 0; i < b->n; i++)
                *slot(b, v[i].name) = (uint32_t)i + 1;
        return 0;
}

void batch_free(struct batch *b)
{
        free(b->v);
        free(b->slots);
        free(b);
}

static int batch_queue(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse);

int fwsh_batch_begin(struct fwsh_ctx *ctx)
{
        ctx_clear(ctx);
        if (ctx->batch)
                return ctx_fail(ctx, -EBUSY, "a batch is open already");
        if (ctx->plan || ctx->explain)
                return ctx_fail(ctx, -EOPNOTSUPP, "a plan or an explained run is not batched");
        ctx->batch = calloc(1, sizeof(*ctx->batch));
        if (!ctx->batch)
                return -ENOMEM;
        ctx->batch_queue = batch_queue; /* change_apply's way in */
        ctx->batch_drop = fwsh_batch_abort;
        return 0;
}

bool fwsh_batch_is_open(const struct fwsh_ctx *ctx)
{
        return ctx->batch != NULL;
}

bool fwsh_batch_has_bridge(const struct fwsh_ctx *ctx, const char *name)
{
        const struct item *it = ctx->batch ? batch_find(ctx->batch, name) : NULL;

        return it && it->bridge;
}

void fwsh_batch_abort(struct fwsh_ctx *ctx)
{
        if (!ctx->batch)
                return;
        batch_free(ctx->batch);
        ctx->batch = NULL;
}

static int batch_queue(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse)
{
        struct batch *b = ctx->batch;
        struct item *it;
        int r;

        if (!(batch_is_bridge(ch) || ch->op == CH_TAP_NEW) || ch->netns[0] ||
            inverse->op != CH_LINK_DEL || strcmp(inverse->name, ch->name) != 0)
                return ctx_fail(ctx, -EOPNOTSUPP, "a batch makes bridges and taps only: "
                                                  "do this after it");
        if (batch_find(b, ch->name))
                return ctx_fail(ctx, -EEXIST, "this batch makes a link of that name already");
        r = fwsh_link_index(ctx, ch->name);
        if (r > 0)
                return link_taken(ctx, ch->name);
        if (r != -ENODEV)
                return r;
        if ((r = grow(b)) < 0)
                return r;
        it = &b->v[b->n++];
        memset(it, 0, sizeof(*it));
        memcpy(it->head, ch, sizeof(it->head));
        fwsh_strcpy(it->name, sizeof(it->name), ch->name);
        it->bridge = batch_is_bridge(ch);
        *slot(b, ch->name) = (uint32_t)b->n;
        ctx_clear(ctx);
        return 0;
}
