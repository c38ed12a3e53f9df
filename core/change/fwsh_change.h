/* fwsh_change.h - the public face of core/change/: transactions, the journal
 * of inverse changes that every change through a context may record into. */
#ifndef FWSH_CHANGE_H
#define FWSH_CHANGE_H

#include "base/fwsh_base.h"

/* ---- transactions ------------------------------------------------------------------------ */

struct fwsh_journal *fwsh_journal_new(void);
struct fwsh_journal *fwsh_journal_free(struct fwsh_journal *j);
size_t fwsh_journal_size(const struct fwsh_journal *j);
/* Drops every recorded change without undoing it: what was made is kept. */
void fwsh_journal_forget(struct fwsh_journal *j);
/* Undoes every recorded change, newest first, and empties j. Keeps going past a
 * failure; returns 0 or the first error (its text in *ret_detail if not NULL,
 * a static buffer valid until the next call). */
int fwsh_journal_rollback(struct fwsh_journal *j, const char **ret_detail);
/* Moves every entry of j to the end of parent (a nested transaction succeeded). */
int fwsh_journal_splice(struct fwsh_journal *parent, struct fwsh_journal *j);

/* ---- side effects outside the backend ------------------------------------------------- */

/* Whether ctx is a plan (--dry-run): its changes are made on a model, and
 * every other effect only shown. ctx may be NULL: not a plan. */
bool fwsh_ctx_planned(const struct fwsh_ctx *ctx);

/* Every side effect that is not a change of the backend (a file written or
 * removed, a program run, nft commands, a module, firewalld, a lab
 * directory) asks this first, with the shell lines that would make it: 1 if
 * ctx is a plan, which takes the lines, and the caller must make nothing; 0
 * if the caller makes it (the lines explained first, if ctx explains). */
int fwsh_effect(struct fwsh_ctx *ctx, const char *lines);

/* Whether effects through ctx are shown at all (a plan, or explained):
 * if not, a caller need not build their lines. */
bool fwsh_effect_shown(const struct fwsh_ctx *ctx);

/* A shell line being built for fwsh_effect: words quoted for sh. */
struct fwsh_line {
        char buf[8192];
        size_t len;
        bool truncated;
};
void fwsh_line_add(struct fwsh_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fwsh_line_word(struct fwsh_line *l, const char *s);
int fwsh_effect_line(struct fwsh_ctx *ctx, struct fwsh_line *l);
/* fwsh_effect for running argv (NULL-ended; in the named namespace netns,
 * NULL: here), tail added after it (" &", or NULL). */
int fwsh_effect_argv(struct fwsh_ctx *ctx, const char *netns, const char *const *argv, const char *tail);
/* fwsh_effect for writing text (len bytes) to path, replacing it. */
int fwsh_effect_write(struct fwsh_ctx *ctx, const char *path, const char *text, size_t len);
/* fwsh_effect for removing path: a file, or (dir) a directory and what is in it. */
int fwsh_effect_remove(struct fwsh_ctx *ctx, const char *path, bool dir);

#endif
