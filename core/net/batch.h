/* batch.h - what batch.c (the queue) and batch_commit.c (making it) share. */
#ifndef FWSH_NET_BATCH_H
#define FWSH_NET_BATCH_H

#include "internal.h"

struct item {
        struct change ch;     /* its inverse: CH_LINK_DEL of ch.name */
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
/* The queued item called name, or NULL. */
struct item *batch_find(const struct batch *b, const char *name);
void batch_free(struct batch *b);

#endif
