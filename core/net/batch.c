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
        return ch->op == CH_LINK_NEW && link_kind_find(ch->kind)->ports;
}

/* The words of ch's head that are not zero, in order, and which they are. */
static size_t head_pack(const struct change *ch, uint64_t ret_present[ITEM_MASKS],
                        uint64_t words[ITEM_WORDS])
{
        size_t k = 0;

        memset(ret_present, 0, ITEM_MASKS * sizeof(*ret_present));
        for (size_t w = 0; w < ITEM_WORDS; w++) {
                uint64_t word;

                memcpy(&word, (const char *)ch + w * sizeof(word), sizeof(word));
                if (word) {
                        ret_present[w / 64] |= UINT64_C(1) << (w % 64);
                        words[k++] = word;
                }
        }
        return k;
}

void item_change(const struct item *it, struct change *ret)
{
        uint64_t head[ITEM_WORDS] = { 0 };
        const uint64_t *w = it->words;

        for (size_t i = 0; i < ITEM_MASKS; i++)
                for (uint64_t m = it->present[i]; m; m &= m - 1)
                        head[i * 64 + (size_t)__builtin_ctzll(m)] = *w++;
        change_link_new_copy(head, ret);
}

/* The slot of name: its item's, or the empty one where it would go. */
static uint32_t *slot(const struct batch *b, const char *name)
{
        size_t mask = b->nslots - 1;

        for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask)
                if (!b->slots[i] || strcmp(b->v[b->slots[i] - 1]->name, name) == 0)
                        return &b->slots[i];
}

struct item *batch_find(const struct batch *b, const char *name)
{
        uint32_t *s = b->nslots ? slot(b, name) : NULL;

        return s && *s ? b->v[*s - 1] : NULL;
}

/* Items are packed in blocks of BLOCK bytes that never move: a queue of
 * 500 bridges and taps (160 bytes a tap) takes 20 pages, not the 66 that
 * 544-byte items took (each page's first touch, a page fault, costs 17 us on
 * this VM). */
#define BLOCK 32768

/* Room for one more item of words words: in v, in slots, and its bytes. */
static struct item *item_new(struct batch *b, size_t words)
{
        size_t size = sizeof(struct item) + words * sizeof(uint64_t);
        struct item *it;

        if (b->n == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 64;
                struct item **v = cap <= UINT32_MAX / 2 ? realloc(b->v, cap * sizeof(*v)) : NULL;

                if (!v)
                        return NULL;
                b->v = v;
                b->cap = cap;
        }
        if ((b->n + 1) * 2 > b->nslots) {
                size_t nslots = b->nslots ? b->nslots * 2 : 128;
                uint32_t *slots = calloc(nslots, sizeof(*slots));

                if (!slots)
                        return NULL;
                free(b->slots);
                b->slots = slots;
                b->nslots = nslots;
                for (size_t i = 0; i < b->n; i++)
                        *slot(b, b->v[i]->name) = (uint32_t)i + 1;
        }
        if (!b->block || b->used + size > BLOCK) {
                char *block = malloc(BLOCK);

                if (!block)
                        return NULL;
                memcpy(block, &b->block, sizeof(b->block));
                b->block = block;
                b->used = sizeof(b->block); /* the block before; items stay 8-aligned */
        }
        it = (struct item *)(b->block + b->used);
        b->used += size;
        return it;
}

void batch_free(struct batch *b)
{
        char *block = b->block, *before;

        for (; block; block = before) {
                memcpy(&before, block, sizeof(before));
                free(block);
        }
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
        uint64_t words[ITEM_WORDS], present[ITEM_MASKS];
        struct item *it;
        size_t k;
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
        k = head_pack(ch, present, words);
        if (!(it = item_new(b, k)))
                return -ENOMEM;
        b->v[b->n++] = it;
        memset(it, 0, sizeof(*it));
        memcpy(it->present, present, sizeof(present));
        memcpy(it->words, words, k * sizeof(*words));
        fwsh_strcpy(it->name, sizeof(it->name), ch->name);
        it->bridge = batch_is_bridge(ch);
        *slot(b, ch->name) = (uint32_t)b->n;
        ctx_clear(ctx);
        return 0;
}
