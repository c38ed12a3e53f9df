/* batch.h - what batch.c (the queue) and batch_commit.c (making it) share. */
#ifndef FWSH_NET_BATCH_H
#define FWSH_NET_BATCH_H

#include <stdint.h>

#include "internal.h"

#define ITEM_WORDS (CHANGE_LINK_NEW_SIZE / 8)
/* Two mask words: the head grew past 64 words with a value per bridge option
 * row; unset options are zero words, which an item does not keep. */
#define ITEM_MASKS 2
_Static_assert(CHANGE_LINK_NEW_SIZE % 8 == 0 && ITEM_WORDS <= 64 * ITEM_MASKS,
               "a head's words fit the masks");

/* A queued bridge or tap: its change's first CHANGE_LINK_NEW_SIZE bytes
 * (change/internal.h) as the 8-byte words of them that are not zero, most of
 * them being unset fields and the tails of names (a tap in a lab: 15 of 64);
 * item_change() gives the change back whole. Its inverse is CH_LINK_DEL of
 * name. */
struct item {
        char name[FWSH_NAME_MAX + 1];
        bool bridge;          /* else a tap */
        bool made;
        int ifindex;          /* bridges, once made */
        int fd;               /* taps: the tun descriptor until it persists, -1 */
        uint64_t present[ITEM_MASKS]; /* bit w: word w of the head is not zero, and in words */
        uint64_t words[];
};

struct batch {
        struct item **v;      /* in the order queued */
        size_t n, cap;
        uint32_t *slots;      /* the items by name: index + 1, 0 empty */
        size_t nslots;        /* a power of two, at least twice n */
        char *block;          /* the items, packed in blocks, each starting with the */
        size_t used;          /* address of the one before; bytes used of the last */
};

bool batch_is_bridge(const struct change *ch);
/* The change queued as it, whole. */
void item_change(const struct item *it, struct change *ret);
/* The queued item called name, or NULL. */
struct item *batch_find(const struct batch *b, const char *name);
void batch_free(struct batch *b);

#endif
