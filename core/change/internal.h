/* internal.h - what core/change/ gives the groups above it: the one path every
 * change takes (change_apply: backend, then journal), the change record, and
 * the backend interface the net group implements (kernel, plan). change/
 * knows no kind of object: it calls the backend, which does. */
#ifndef FWSH_CHANGE_INTERNAL_H
#define FWSH_CHANGE_INTERNAL_H

#include <stddef.h>

#include "base/internal.h"
#include "change/fwsh_change.h"
#include "net/fwsh_net.h" /* the types a change carries: fwsh_link_set, fwsh_addr */

enum change_op {
        CH_LINK_NEW,    /* bridge, veth or vxlan: kind, name, set (initial settings), veth, vxlan */
        CH_LINK_SET,    /* name, set */
        CH_LINK_DEL,    /* name; ifindex (always, when it undoes a creation) */
        CH_TAP_NEW,     /* name, set (set.opts: the tap's rows, made by the ioctls; the rest applied after) */
        CH_ADDR_NEW,    /* addr */
        CH_ADDR_DEL,    /* addr */
        CH_ROUTE_NEW,   /* route */
        CH_ROUTE_DEL,   /* route */
        CH_NETNS_NEW,   /* name */
        CH_NETNS_DEL,   /* name; ns_cookie (when it undoes a creation) */
        CH_SYSCTL,      /* sysctl */
        CH_IMPAIR,      /* ifindex, name, impair: set it (nothing in it: remove fwsh's) */
};

/* A bridge's or a tap's creation, the one change a batch queues, sets none of
 * the fields from netns on: batch.c keeps a queued change's first
 * CHANGE_LINK_NEW_SIZE bytes, half of it (see change_link_new_copy). */
struct change {
        enum change_op op;
        char name[FWSH_NETNS_NAME_MAX + 1];
        int ifindex;                  /* links: > 0 to find it by index, not name */
        char kind[16];
        struct fwsh_link_set set;     /* set.alias and set.netns are unused: see alias, netns */
        bool has_alias;
        char alias[128];
        uint32_t group;               /* links: put it in this group, 0 leave */
        char master_name[FWSH_NAME_MAX + 1]; /* CH_TAP_NEW in a batch: its bridge, which the
                                               batch makes; "" (set.master says) */
        struct {
                char path[128];       /* under /proc/sys/ */
                char value[32];
        } sysctl;
        /* What no bridge or tap creation sets: */
        char netns[FWSH_NETNS_NAME_MAX + 1]; /* CH_LINK_SET: move it there, "" */
        struct {
                char peer[FWSH_NAME_MAX + 1];
                char peer_netns[FWSH_NETNS_NAME_MAX + 1]; /* put the peer there, "" */
        } veth;
        struct fwsh_vxlan_ends vxlan;         /* the rows (id, port...) are in set.opts */
        struct fwsh_addr addr;
        struct {
                struct fwsh_addr dst, via;
                bool has_via;
                int ifindex;
                uint32_t metric, table;
        } route;
        struct fwsh_impair impair;
        /* CH_NETNS_DEL: the cookie of the namespace fwsh made under that
         * name (0: whatever has the name, as the user asked). */
        uint64_t ns_cookie;
        /* Set on a journal's inverse as it is applied: a rollback deletes
         * only what is still the object this run made (a link at its
         * ifindex carrying the lab's tag, a namespace with its cookie), and
         * leaves whatever took its name since. */
        bool owned_only;
};

#define CHANGE_LINK_NEW_SIZE offsetof(struct change, netns)

/* *ret: the change whose first CHANGE_LINK_NEW_SIZE bytes are at head, the
 * rest as change_init leaves it. */
void change_link_new_copy(const void *head, struct change *ret);

void change_init(struct change *ch, enum change_op op, const char *name);
/* Tags a new link's change with ctx's lab: its ifalias and its link group. */
void lab_mark(const struct fwsh_ctx *ctx, struct change *ch);

/* Where changes go: the kernel (net/kernel.c) or a model of it (net/plan.c). */
struct backend {
        const char *name;
        int (*apply)(struct fwsh_ctx *ctx, const struct change *ch);
        /* The command lines that make ch, '\n' between them (explain). */
        int (*render)(struct fwsh_ctx *ctx, const struct change *ch, char *buf, size_t size);
        /* Queries that a model answers itself (the plan: copies of its links,
         * addresses of every family, routes of every table and type; free(*ret)
         * after). NULL: the entry points ask the kernel, with its own filters
         * and fast paths (an ioctl for an index, a filtered dump). */
        int (*links)(struct fwsh_ctx *ctx, struct fwsh_link **ret, size_t *ret_n);
        int (*addrs)(struct fwsh_ctx *ctx, struct fwsh_addr **ret, size_t *ret_n);
        int (*routes)(struct fwsh_ctx *ctx, struct fwsh_route **ret, size_t *ret_n);
        int (*ipv6_disabled)(struct fwsh_ctx *ctx, const char *name);
        int (*netns_exists)(struct fwsh_ctx *ctx, const char *name);
        int (*netns_list)(struct fwsh_ctx *ctx, char ***ret, size_t *ret_n);
        /* Fills in *inverse the identity of what ch (just applied) made:
         * the new link's ifindex, the new namespace's cookie, found while it
         * is still ours, so that the undo deletes that object, not a name. */
        int (*identify)(struct fwsh_ctx *ctx, const struct change *ch, struct change *inverse);
};

/* Applies ch through ctx's backend and, if it succeeds and a journal is set,
 * records inverse (may be NULL: nothing to undo) there. */
int change_apply(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse);
/* Applies ch through ctx's backend, explaining it if asked; no journal. */
int change_apply_now(struct fwsh_ctx *ctx, const struct change *ch);

/* Records inverse in ctx's journal, if it has one: for a composite change,
 * whose steps are applied with no inverse each, once all of them succeeded. */
int journal_record(struct fwsh_ctx *ctx, const struct change *inverse);
/* Journal: inverse changes with the context each belongs to. A link's
 * delete without its ifindex is refused (-EINVAL): an undo never deletes
 * by name. */
int journal_push(struct fwsh_journal *j, struct fwsh_ctx *ctx, const struct change *inverse);
/* Room for more journal_record()s in ctx's journal (if it has one), so that
 * those of a link's delete (change_init(CH_LINK_DEL, name), an ifindex at
 * most) cannot fail: any other inverse takes an allocation of its own. */
int journal_reserve(struct fwsh_ctx *ctx, size_t more);

#endif
