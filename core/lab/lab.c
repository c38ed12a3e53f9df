/* lab.c - labs: everything fwsh creates carries its lab's tag, "fwsh:LAB" in
 * the ifalias of links (and of lo in namespaces it made), so that a lab can be
 * listed and removed without the script, also after a crash or a reboot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct labs {
        struct fwsh_lab *v;
        size_t n, cap;
};

static struct fwsh_lab *lab_slot(struct labs *ls, const char *name)
{
        for (size_t i = 0; i < ls->n; i++)
                if (strcmp(ls->v[i].name, name) == 0)
                        return &ls->v[i];
        if (ls->n == ls->cap) {
                size_t cap = ls->cap ? ls->cap * 2 : 8;
                struct fwsh_lab *v = realloc(ls->v, cap * sizeof(*v));
                if (!v)
                        return NULL;
                ls->v = v;
                ls->cap = cap;
        }
        memset(&ls->v[ls->n], 0, sizeof(ls->v[0]));
        snprintf(ls->v[ls->n].name, sizeof(ls->v[0].name), "%s", name);
        return &ls->v[ls->n++];
}

/* What netns_owner reads inside the namespace: its cookie (if asked) and a
 * context there. */
struct inside {
        uint64_t *cookie;
        struct fwsh_ctx *ctx;
};

static int read_inside(void *arg)
{
        struct inside *in = arg;

        if (in->cookie && netns_cookie_here(in->cookie) < 0)
                *in->cookie = 0;
        return fwsh_ctx_open(&in->ctx);
}

/* fwsh_lab_netns_owner, and the namespace's cookie into *ret_cookie: the one
 * whose tag was read is the one `down` deletes, not a later holder of the
 * name. */
static int netns_owner(struct fwsh_ctx *ctx, const char *ns, char *buf, size_t size,
                       uint64_t *ret_cookie)
{
        struct inside in = { .cookie = ret_cookie };
        struct fwsh_link lo;
        const char *lab;
        int r;

        buf[0] = '\0';
        r = ns_call(ctx, ns, read_inside, &in);
        if (r < 0)
                return r;
        if (fwsh_link_get(in.ctx, "lo", &lo) == 0 && (lab = fwsh_alias_lab(lo.alias)))
                snprintf(buf, size, "%.*s", FWSH_LAB_MAX, lab);
        fwsh_ctx_unref(in.ctx);
        return 0;
}

int fwsh_lab_netns_owner(struct fwsh_ctx *ctx, const char *ns, char *buf, size_t size)
{
        return netns_owner(ctx, ns, buf, size, NULL);
}

int fwsh_lab_list(struct fwsh_ctx *ctx, struct fwsh_lab **ret, size_t *ret_n)
{
        struct labs ls = { 0 };
        struct fwsh_link *links = NULL;
        char **names = NULL, lab[FWSH_LAB_MAX + 1];
        size_t n = 0, nn = 0;
        int r = fwsh_link_list(ctx, &links, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r == 0; i++) {
                const char *l = fwsh_alias_lab(links[i].alias);
                struct fwsh_lab *slot = l && strcmp(links[i].name, "lo") ? lab_slot(&ls, l) : NULL;
                if (l && strcmp(links[i].name, "lo") && !slot)
                        r = -ENOMEM;
                if (slot)
                        slot->links++;
        }
        free(links);
        if (r == 0)
                r = fwsh_netns_list(ctx, &names, &nn);
        for (size_t i = 0; i < nn && r == 0; i++) {
                struct fwsh_lab *slot;
                if (fwsh_lab_netns_owner(ctx, names[i], lab, sizeof(lab)) < 0 || !lab[0])
                        continue;
                if (!(slot = lab_slot(&ls, lab)))
                        r = -ENOMEM;
                else
                        slot->netns++;
        }
        fwsh_strv_free(names, nn);
        if (r < 0) {
                free(ls.v);
                return r;
        }
        *ret = ls.v;
        *ret_n = ls.n;
        return 0;
}

/* Deletes the lab's links one by one: ports first, then bridges. */
static int delete_tagged(struct fwsh_ctx *ctx, const char *lab, unsigned *count)
{
        struct fwsh_link *links = NULL;
        size_t n = 0;
        int first = 0, r = fwsh_link_list(ctx, &links, &n);

        if (r < 0)
                return r;
        for (int bridges = 0; bridges < 2; bridges++) {
                for (size_t i = 0; i < n; i++) {
                        struct change ch;

                        if (!lab_link_tagged(&links[i], lab) ||
                            link_kind_find(links[i].kind)->ports != bridges)
                                continue;
                        change_init(&ch, CH_LINK_DEL, links[i].name);
                        ch.ifindex = links[i].ifindex;
                        r = change_apply(ctx, &ch, NULL);
                        if (r == -ENODEV) /* a veth's peer, gone with it */
                                continue;
                        if (r < 0 && !first)
                                first = r;
                        if (r == 0)
                                (*count)++;
                }
        }
        free(links);
        return first;
}

int fwsh_lab_down(struct fwsh_ctx *ctx, const char *lab, struct fwsh_lab *ret)
{
        struct fwsh_lab done = { 0 };
        char **names = NULL, owner[FWSH_LAB_MAX + 1];
        size_t nn = 0;
        int first = 0, r;

        snprintf(done.name, sizeof(done.name), "%s", lab);
        /* Its processes first, with all they forked: they hold its links and namespaces. */
        first = lab_cgroup_down(ctx, lab);
        r = lab_links_delete(ctx, lab, &done.links);
        if (!first)
                first = r;
        /* What that left (a kind the kernel will not delete in bulk, a link
         * that would not move): one by one. */
        r = delete_tagged(ctx, lab, &done.links);
        if (!first)
                first = r;
        /* and what a killed fwsh made but had not tagged yet */
        r = intent_sweep(ctx, lab, &done.links, &done.netns);
        if (!first)
                first = r;
        r = fwsh_netns_list(ctx, &names, &nn);
        if (!first)
                first = r;
        for (size_t i = 0; i < nn; i++) {
                struct change ch;
                uint64_t cookie;

                if (netns_owner(ctx, names[i], owner, sizeof(owner), &cookie) < 0 ||
                    strcmp(owner, lab) != 0)
                        continue;
                change_init(&ch, CH_NETNS_DEL, names[i]);
                ch.ns_cookie = cookie;
                r = change_apply(ctx, &ch, NULL);
                if (r == 0)
                        done.netns++;
                else if (!first)
                        first = r;
        }
        fwsh_strv_free(names, nn);
        r = lab_dirs_remove(ctx, lab, &done.dirs);
        if (!first)
                first = r;
        if (ret)
                *ret = done;
        return first;
}
