/* bootconf.c - modules loaded at boot: fwsh_boot_persist, _remove and
 * _status over modules-load.d (modules_load.c) and the kernel command line in
 * /etc/default/grub (grub_cmdline.c). */
#include "bootfile.h"

/* ---- all or nothing -------------------------------------------------------------------------- */

/* A file as it was before persist changed it, to put back if a later part fails. */
struct saved {
        bool dir_exists, exists;
        struct text t;
        struct stat st;
};

static int save(const struct place *pl, const char *dir, const char *name, struct saved *ret)
{
        int dirfd, r = dir_open(NULL, pl, dir, false, &dirfd);

        ret->dir_exists = ret->exists = false;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        ret->dir_exists = true;
        r = file_read(dirfd, name, &ret->t, &ret->st);
        close(dirfd);
        ret->exists = r == 0;
        return r == -ENOENT ? 0 : r;
}

/* Puts back what save read: the file as it was, or none (and no directory,
 * if persist made it and it is empty). */
static void restore(struct fwsh_ctx *ctx, const struct place *pl, const char *dir, const char *name,
                    const char *path, const struct saved *sv)
{
        const char *slash = strrchr(dir, '/');
        char parent[PATH_MAX];
        int dirfd, pfd;

        if (dir_open(NULL, pl, dir, false, &dirfd) < 0)
                return;
        if (sv->exists)
                file_write(ctx, dirfd, name, path, sv->t.p, sv->t.len, sv->st.st_mode, &sv->st);
        else
                file_remove(ctx, dirfd, name, path);
        close(dirfd);
        if (sv->dir_exists || !slash || fwsh_ctx_planned(ctx))
                return;
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
        pfd = open_in_root(pl->rootfd, parent, O_RDONLY | O_DIRECTORY);
        if (pfd >= 0) {
                unlinkat(pfd, slash + 1, AT_REMOVEDIR);   /* only if empty */
                close(pfd);
        }
}

/* What grub_persist needs before anything is written: the file, readable. */
static int grub_check(struct fwsh_ctx *ctx, const struct place *pl)
{
        struct saved sv = { false, false, { NULL, 0, 0 }, { 0 } };
        char *path = place_shown(pl, GRUB_DIR "/" GRUB_FILE);
        int r = path ? save(pl, GRUB_DIR, GRUB_FILE, &sv) : -ENOMEM;

        if (r == 0 && !sv.exists)
                r = ctx_fail(ctx, -ENOENT, "no %s: not a system that boots with GRUB", path);
        else if (r < 0 && path)
                r = read_fail(ctx, path, r);
        text_free(&sv.t);
        free(path);
        return r;
}

/* ---- the entry points ---------------------------------------------------------------------- */

static int boot_change(struct fwsh_ctx *ctx, const char *root, const char *const *modules, size_t n,
                       unsigned what, struct fwsh_boot_result *ret, bool persist)
{
        struct fwsh_boot_result res = { { 0 }, { 0 } };
        struct saved before = { false, false, { NULL, 0, 0 }, { 0 } };
        struct place pl = { -1, "" };
        int r;

        if (ctx)
                ctx_clear(ctx);
        if (!what || (what & ~(unsigned)(FWSH_BOOT_MODULES_LOAD | FWSH_BOOT_GRUB)))
                return ctx_fail(ctx, -EINVAL, "nothing to do: name modules-load.d, grub or both");
        if (modules && (r = check_modules(ctx, modules, n)) < 0)
                return r;
        if (persist && (!modules || n == 0))
                return ctx_fail(ctx, -EINVAL, "no modules given");
        r = place_open(ctx, root, &pl);
        if (r < 0)
                return r;
        /* Persist is all or nothing: what grub needs is checked before
         * modules-load.d is written, and that is put back if grub fails later. */
        if (persist && (what & FWSH_BOOT_GRUB))
                r = grub_check(ctx, &pl);
        if (r == 0 && persist && (what & FWSH_BOOT_MODULES_LOAD) &&
            (r = save(&pl, MODULES_LOAD_DIR, MODULES_LOAD_FILE, &before)) < 0)
                r = ctx_fail(ctx, r, "%s/" MODULES_LOAD_DIR "/" MODULES_LOAD_FILE ": %s", pl.root,
                             strerror(-r));
        if (r == 0 && (what & FWSH_BOOT_MODULES_LOAD))
                r = persist ? modules_load_persist(ctx, &pl, modules, n, &res.modules_load)
                            : modules_load_remove(ctx, &pl, modules, n, &res.modules_load);
        if (r == 0 && (what & FWSH_BOOT_GRUB))
                r = persist ? grub_persist(ctx, &pl, modules, n, &res.grub)
                            : grub_remove(ctx, &pl, modules, n, &res.grub);
        if (r < 0 && persist && res.modules_load.changed) {
                char detail[FWSH_DETAIL_MAX];

                snprintf(detail, sizeof(detail), "%s", ctx ? fwsh_ctx_detail(ctx) : "");
                restore(ctx, &pl, MODULES_LOAD_DIR, MODULES_LOAD_FILE, res.modules_load.path, &before);
                ctx_fail(ctx, r, "%s", detail);   /* grub's reason, not the restore's */
        }
        text_free(&before.t);
        place_close(&pl);
        if (r < 0) {
                fwsh_boot_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}

int fwsh_boot_persist(struct fwsh_ctx *ctx, const char *root, const char *const *modules,
                      size_t n, unsigned what, struct fwsh_boot_result *ret)
{
        return boot_change(ctx, root, modules, n, what, ret, true);
}

int fwsh_boot_remove(struct fwsh_ctx *ctx, const char *root, const char *const *modules,
                     size_t n, unsigned what, struct fwsh_boot_result *ret)
{
        return boot_change(ctx, root, modules, n, what, ret, false);
}

void fwsh_boot_status_clear(struct fwsh_boot_status *st)
{
        free(st->modules_load_path);
        free(st->grub_path);
        fwsh_strv_free(st->modules_load, st->n_modules_load);
        fwsh_strv_free(st->grub, st->n_grub);
        fwsh_strv_free(st->grub_fwsh, st->n_grub_fwsh);
        memset(st, 0, sizeof(*st));
}

int fwsh_boot_status(struct fwsh_ctx *ctx, const char *root, struct fwsh_boot_status *ret)
{
        struct fwsh_boot_status st = { 0 };
        struct text t = { NULL, 0, 0 };
        struct place pl = { -1, "" };
        struct record rec = { 0 };
        struct conf_line l;
        struct stat sb;
        size_t pos = 0;
        int dirfd, r = place_open(ctx, root, &pl);

        if (r < 0)
                return r;
        st.modules_load_path = place_shown(&pl, MODULES_LOAD_DIR "/" MODULES_LOAD_FILE);
        st.grub_path = place_shown(&pl, GRUB_DIR "/" GRUB_FILE);
        if (!st.modules_load_path || !st.grub_path)
                r = -ENOMEM;
        if (r == 0 && dir_open(NULL, &pl, MODULES_LOAD_DIR, false, &dirfd) == 0) {
                r = file_read(dirfd, MODULES_LOAD_FILE, &t, &sb);
                close(dirfd);
                st.modules_load_exists = r == 0;
                if (r == -ENOENT)
                        r = 0;
                else if (r < 0)
                        r = read_fail(ctx, st.modules_load_path, r);
                while (r == 0 && st.modules_load_exists && conf_next(&t, &pos, &l))
                        if (l.len)
                                r = strv_push(&st.modules_load, &st.n_modules_load, l.name, l.len);
                text_free(&t);
        }
        if (r == 0 && dir_open(NULL, &pl, GRUB_DIR, false, &dirfd) == 0) {
                struct assign a;
                r = file_read(dirfd, GRUB_FILE, &t, &sb);
                close(dirfd);
                st.grub_exists = r == 0;
                if (r == -ENOENT)
                        r = 0;
                else if (r < 0)
                        r = read_fail(ctx, st.grub_path, r);
                if (r == 0 && st.grub_exists) {
                        if (find_assign(t.p, t.len, &a) < 0)
                                r = ctx_fail(ctx, -EINVAL, "%s: " CMDLINE_VAR "'s quote is never closed",
                                             st.grub_path);
                        else if (a.found)
                                r = value_modules(t.p, &a, &st.grub, &st.n_grub);
                }
                text_free(&t);
        }
        if (r == 0)
                r = record_read(ctx, &pl, &rec);
        for (size_t i = 0; r == 0 && i < rec.n; i++)
                r = strv_push(&st.grub_fwsh, &st.n_grub_fwsh, rec.modules[i], strlen(rec.modules[i]));
        record_free(&rec);
        place_close(&pl);
        if (r < 0) {
                fwsh_boot_status_clear(&st);
                return r;
        }
        *ret = st;
        return 0;
}
