/* internal.h - what core/lab/'s files share. A lab's runtime stands on every
 * group below it: it finds and removes what net/ made, by its tag. */
#ifndef FWSH_LAB_INTERNAL_H
#define FWSH_LAB_INTERNAL_H

#include "net/internal.h"
#include "lab/fwsh_lab.h"

/* Removes lab's state directories (labdir.c), counting them in *ret_n. */
int lab_dirs_remove(struct fwsh_ctx *ctx, const char *lab, unsigned *ret_n);
/* Deletes, in ctx's namespace, the untagged links in lab's group that a
 * killed fwsh recorded an intent for, and the empty /run/netns files of the
 * namespaces it had not mounted yet (intent_sweep.c); counts them in *links
 * and *netns. */
int intent_sweep(struct fwsh_ctx *ctx, const char *lab, unsigned *links, unsigned *netns);

#endif
