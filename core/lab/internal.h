/* internal.h - what core/lab/'s files share. A lab's runtime stands on every
 * group below it: it finds and removes what net/ made, by its tag. */
#ifndef FWSH_LAB_INTERNAL_H
#define FWSH_LAB_INTERNAL_H

#include "net/internal.h"
#include "lab/fwsh_lab.h"

/* Whether l is lab's: it carries the lab's tag (lo's only marks a namespace
 * as the lab's). A link fwsh was killed before it could tag is found by its
 * intent record (net/intent.c). */
bool lab_link_tagged(const struct fwsh_link *l, const char *lab);
/* Deletes, in ctx's namespace, the links tagged as lab's in one request, by
 * identity (down_links.c), counting them in *count; 0 with none deleted when
 * that cannot be done safely (lab.c then deletes them one by one). */
int lab_links_delete(struct fwsh_ctx *ctx, const char *lab, unsigned *count);
/* Removes lab's state directories (labdir.c), counting them in *ret_n. */
int lab_dirs_remove(struct fwsh_ctx *ctx, const char *lab, unsigned *ret_n);
/* Deletes, in ctx's namespace, the untagged links in lab's group that a
 * killed fwsh recorded an intent for, and the empty /run/netns files of the
 * namespaces it had not mounted yet (intent_sweep.c); counts them in *links
 * and *netns. */
int intent_sweep(struct fwsh_ctx *ctx, const char *lab, unsigned *links, unsigned *netns);

/* ---- the cgroups of a lab's processes (cgroup.c) ---------------------------------------- */

/* Makes a new cgroup for one process of lab in ctx's namespace: its path
 * (free it) into *ret_path, and its cgroup.procs open for writing, for the
 * child to join before it execs, into *ret_fd. -ENOENT if this system has no
 * cgroup2 to use (the process is then started without one). */
int lab_cgroup_make(struct fwsh_ctx *ctx, const char *lab, char **ret_path, int *ret_fd);
/* Kills every process left in the cgroup at leaf (NULL: none) and removes it,
 * and the lab's cgroup with it if that was its last. -ETIMEDOUT if one would
 * not end. */
int lab_cgroup_end(const char *leaf);
/* `fwsh down LAB`: kills every process in the cgroups of lab in ctx's
 * namespace, whoever started them, and removes them. 0 also if there are none. */
int lab_cgroup_down(struct fwsh_ctx *ctx, const char *lab);

#endif
