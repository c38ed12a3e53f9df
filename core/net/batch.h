/* batch.h - what batch.c (the queue) and batch_commit.c (making it) share. */
#ifndef FWSH_NET_BATCH_H
#define FWSH_NET_BATCH_H

#include "internal.h"

/* A queued bridge or tap: its change's first bytes (change/internal.h), which
 * item_change() gives back whole; its inverse is CH_LINK_DEL of name. */
struct item {
        unsigned char head[CHANGE_LINK_NEW_SIZE];
        char name[FWSH_NAME_MAX + 1];
        bool bridge;          /* else a tap */
        int ifindex;          /* bridges, once made */
        int fd;               /* taps: the tun descriptor until it persists, -1 */
        bool made;
};

struct batch {
        struct item *v;
        size_t n, cap;
        uint32_t *slots;      /* the items by name: index + 1, 0 empty; cap * 2 of them */
};

bool batch_is_bridge(const struct change *ch);
/* The change queued as it, whole. */
void item_change(const struct item *it, struct change *ret);
/* The queued item called name, or NULL. */
struct item *batch_find(const struct batch *b, const char *name);
void batch_free(struct batch *b);

#endif
