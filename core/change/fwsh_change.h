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

#endif
