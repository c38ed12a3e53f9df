/* ensure.c - what "the same link" means to ensure, for every kind: the kind
 * (found once, compared as a table, not as a name), its option rows, the
 * generic settings, then what only the kind knows (its link_kind.matches). A
 * link that matches is brought up and attached as asked; one that does not is
 * left as it is. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* -EEXIST naming the first generic setting of want that l lacks. */
static int generic_matches(struct fwsh_ctx *ctx, const struct change *want, const struct fwsh_link *l)
{
        const struct fwsh_link_set *s = &want->set;

        if (s->mtu >= 0 && s->mtu != l->mtu)
                return ctx_fail(ctx, -EEXIST, "exists with mtu %u, not %lld", l->mtu, (long long)s->mtu);
        if (s->set_mac && memcmp(s->mac, l->mac, 6) != 0) {
                char have[18];
                return ctx_fail(ctx, -EEXIST, "exists with MAC %s", fwsh_mac_format(l->mac, have));
        }
        if (s->master > 0 && l->master && l->master != s->master)
                return ctx_fail(ctx, -EEXIST, "exists as a port of another bridge (ifindex %d)",
                                l->master);
        return 0;
}

int link_ensure(struct fwsh_ctx *ctx, const struct change *want)
{
        const struct link_kind *k = link_kind_find(want->kind);
        struct fwsh_link_set set = FWSH_LINK_SET_INIT;
        struct fwsh_link l;
        int r = fwsh_link_index(ctx, want->name);

        if (r == -ENODEV)
                return 1;
        if (r > 0)
                r = fwsh_link_get(ctx, want->name, &l);
        if (r < 0)
                return r;
        if (link_kind_find(l.kind) != k)
                return ctx_fail(ctx, -EEXIST, "exists as a %s, not a %s",
                                l.kind[0] ? l.kind : "plain link", k->name);
        if (k->opts && (r = opts_match(ctx, k->opts, &want->set.opts, &l.opts)) < 0)
                return r;
        if ((r = generic_matches(ctx, want, &l)) < 0)
                return r;
        if (k->matches && (r = k->matches(ctx, want, &l)) < 0)
                return r;
        if (want->set.master > 0 && l.master != want->set.master)
                set.master = want->set.master;
        if (want->set.up == 1 && !l.up)
                set.up = 1;
        if (set.master < 0 && set.up < 0)
                return 0;
        r = fwsh_link_set(ctx, want->name, &set);
        return r < 0 ? r : 0;
}

int link_new_apply(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct change inv;

        change_init(&inv, CH_LINK_DEL, ch->name);
        return change_apply(ctx, ch, &inv);
}

int link_ensure_new(struct fwsh_ctx *ctx, const struct change *want)
{
        int r = link_ensure(ctx, want);

        if (r == 1 && (r = link_new_apply(ctx, want)) == 0)
                return 1;
        return r;
}
