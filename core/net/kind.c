/* kind.c - the one lookup of a link kind by its name. Each kind's own code
 * and table is in its file (bridge.c, tap.c, veth.c, vxlan.c), which registers
 * it; any other kind is a plain link. */
#include <string.h>

#include "internal.h"

static const struct link_kind plain_kind = { .name = "" };

static const struct link_kind *kinds[8];
static size_t nkinds;

void link_kind_register(const struct link_kind *k)
{
        if (nkinds < FWSH_N(kinds))
                kinds[nkinds++] = k;
}

const struct link_kind *link_kind_find(const char *name)
{
        for (size_t i = 0; name && i < nkinds; i++)
                if (strcmp(kinds[i]->name, name) == 0)
                        return kinds[i];
        return &plain_kind;
}

const char *fwsh_link_kind_type(const char *kind)
{
        const char *type = link_kind_find(kind)->type;

        return type ? type : "fwsh.link";
}

const struct fwsh_opt_table *fwsh_kind_opts(const char *kind)
{
        return link_kind_find(kind)->opts;
}

unsigned fwsh_link_kind_flags(const char *kind)
{
        const struct link_kind *k = link_kind_find(kind);

        return (k->ports ? FWSH_KIND_PORTS : 0u) | (k->pair ? FWSH_KIND_PAIR : 0u) |
               (k->tun ? FWSH_KIND_TUN : 0u);
}
