/* journal.c - the inverse of every change a transaction made, to undo it.
 * change.c and this file call each other, on purpose: a change records its
 * inverse here, and a rollback applies the inverses through change.c, the one
 * path every change takes (explained, planned or made alike). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* An inverse that is a link's delete and nothing else (what undoes every
 * creation: most of a big lab's journal) is kept as its name and ifindex, 40
 * bytes; any other whole, on the heap (a struct change is over 1 KB). */
struct entry {
        struct fwsh_ctx *ctx;   /* a reference: the namespace to undo it in */
        struct change *whole;   /* owned; NULL: the link's delete below */
        int ifindex;
        char name[FWSH_NAME_MAX + 1];
};

struct fwsh_journal {
        struct entry *v;
        size_t n, cap;
};

struct fwsh_journal *fwsh_journal_new(void)
{
        return calloc(1, sizeof(struct fwsh_journal));
}

static void drop_entries(struct fwsh_journal *j)
{
        for (size_t i = 0; i < j->n; i++) {
                fwsh_ctx_unref(j->v[i].ctx);
                free(j->v[i].whole);
        }
        j->n = 0;
}

/* The link delete that e keeps as name and ifindex, into *ch. */
static void link_delete(const struct entry *e, struct change *ch)
{
        change_init(ch, CH_LINK_DEL, e->name);
        ch->ifindex = e->ifindex;
}

/* Whether inverse is a link's delete and nothing else: e holds it then. */
static bool as_link_delete(const struct change *inverse, struct entry *e)
{
        struct change ch;

        if (inverse->op != CH_LINK_DEL || strlen(inverse->name) > FWSH_NAME_MAX)
                return false;
        fwsh_strcpy(e->name, sizeof(e->name), inverse->name);
        e->ifindex = inverse->ifindex;
        link_delete(e, &ch);
        return memcmp(&ch, inverse, sizeof(ch)) == 0;
}

struct fwsh_journal *fwsh_journal_free(struct fwsh_journal *j)
{
        if (!j)
                return NULL;
        drop_entries(j);
        free(j->v);
        free(j);
        return NULL;
}

void fwsh_journal_forget(struct fwsh_journal *j)
{
        drop_entries(j);
}

size_t fwsh_journal_size(const struct fwsh_journal *j)
{
        return j->n;
}

static int reserve(struct fwsh_journal *j, size_t more)
{
        size_t cap = j->cap ? j->cap : 16;
        struct entry *v;

        while (cap < j->n + more)
                cap *= 2;
        if (cap == j->cap)
                return 0;
        v = realloc(j->v, cap * sizeof(*v));
        if (!v)
                return -ENOMEM;
        j->v = v;
        j->cap = cap;
        return 0;
}

int journal_push(struct fwsh_journal *j, struct fwsh_ctx *ctx, const struct change *inverse)
{
        int r = reserve(j, 1);
        struct entry *e;

        if (r < 0)
                return r;
        if (inverse->op == CH_LINK_DEL && inverse->ifindex <= 0)
                return -EINVAL;
        e = &j->v[j->n];
        e->whole = NULL;
        if (!as_link_delete(inverse, e)) {
                if (!(e->whole = malloc(sizeof(*e->whole))))
                        return -ENOMEM;
                *e->whole = *inverse;
        }
        e->ctx = fwsh_ctx_ref(ctx);
        j->n++;
        return 0;
}

int fwsh_journal_rollback(struct fwsh_journal *j, const char **ret_detail)
{
        static char detail[FWSH_DETAIL_MAX * 2];
        int first = 0;

        for (size_t i = j->n; i-- > 0;) {
                struct entry *e = &j->v[i];
                struct change undo;
                const struct change *inverse = &undo;
                int r;

                if (e->whole)
                        undo = *e->whole;
                else
                        link_delete(e, &undo);
                undo.owned_only = true;
                r = change_apply_now(e->ctx, inverse);
                if (r < 0 && first == 0) {
                        first = r;
                        snprintf(detail, sizeof(detail), "undo of a change to %.*s failed: %s%s%s",
                                 FWSH_NETNS_NAME_MAX, inverse->name, strerror(-r),
                                 e->ctx->detail[0] ? ": " : "", e->ctx->detail);
                }
        }
        drop_entries(j);
        if (first && ret_detail)
                *ret_detail = detail;
        return first;
}

int fwsh_journal_splice(struct fwsh_journal *parent, struct fwsh_journal *j)
{
        int r;

        if (j->n == 0)
                return 0;
        r = reserve(parent, j->n);
        if (r < 0)
                return r;
        memcpy(parent->v + parent->n, j->v, j->n * sizeof(*j->v));
        parent->n += j->n;
        j->n = 0;
        return 0;
}

int journal_record(struct fwsh_ctx *ctx, const struct change *inverse)
{
        return ctx->journal ? journal_push(ctx->journal, ctx, inverse) : 0;
}

int journal_reserve(struct fwsh_ctx *ctx, size_t more)
{
        return ctx->journal ? reserve(ctx->journal, more) : 0;
}
