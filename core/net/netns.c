/* netns.c - named network namespaces, the /run/netns files ip-netns(8) uses. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int fail_errno(struct fwsh_ctx *ctx, int err, const char *what)
{
        if (err == -EPERM || err == -EACCES)
                return ctx_fail(ctx, err, "%s needs CAP_SYS_ADMIN", what);
        return ctx_fail(ctx, err, "%s", what);
}

/* /run/netns must be a shared mount point, so that namespaces mounted in it are
 * seen from every mount namespace (as ip-netns(8) sets it up). */
static int prepare_run_dir(struct fwsh_ctx *ctx)
{
        if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
                return fail_errno(ctx, -errno, "mkdir " NETNS_RUN_DIR);
        if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
                return 0;
        if (errno != EINVAL)
                return fail_errno(ctx, -errno, "mount " NETNS_RUN_DIR);
        if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
            mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
                return fail_errno(ctx, -errno, "mount " NETNS_RUN_DIR);
        return 0;
}

/* Gives the empty file the new namespace is mounted on its name, path: made
 * nameless and recorded first (intent.c), so that a kill at any instant leaves
 * either nothing or a file that `fwsh down` knows for the lab's. */
static int placeholder_make(struct fwsh_ctx *ctx, const char *name, const char *path,
                            char *intent, size_t size)
{
        char self[64];
        struct stat st;
        int r = 0, fd = open(NETNS_RUN_DIR, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0);

        if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR)
                return fail_errno(ctx, -errno, "open " NETNS_RUN_DIR);
        if (fd < 0) { /* a file system without nameless files: named at once */
                fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
                if (fd < 0)
                        return errno == EEXIST ? ctx_fail(ctx, -EEXIST, "%s exists", path)
                                               : fail_errno(ctx, -errno, path);
                r = fstat(fd, &st) < 0 ? fail_errno(ctx, -errno, "fstat")
                                       : intent_begin_netns(ctx, name, &st, intent, size);
                if (r < 0)
                        unlink(path);
                close(fd);
                return r;
        }
        if (fstat(fd, &st) < 0)
                r = fail_errno(ctx, -errno, "fstat");
        else
                r = intent_begin_netns(ctx, name, &st, intent, size);
        snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
        if (r == 0 && linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0) {
                r = errno == EEXIST ? ctx_fail(ctx, -EEXIST, "%s exists", path)
                                    : fail_errno(ctx, -errno, path);
                intent_end(intent);
        }
        close(fd);
        return r;
}

/* The namespace is tagged before it has a name, and named (mounted) only
 * once tagged: whenever /run/netns/NAME is a namespace, it is one `fwsh down`
 * recognises; before that, the intent record covers the empty file. */
static int netns_create(struct fwsh_ctx *ctx, const char *name)
{
        char path[sizeof(NETNS_RUN_DIR) + FWSH_NETNS_NAME_MAX + 2], intent[INTENT_PATH_MAX] = "";
        bool named = false;
        int saved, r = prepare_run_dir(ctx);

        if (r < 0)
                return r;
        netns_path(path, sizeof(path), name);
        if (access(path, F_OK) == 0)
                return ctx_fail(ctx, -EEXIST, "%s exists", path);

        saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (saved < 0)
                return fail_errno(ctx, -errno, "/proc/thread-self/ns/net");
        ctx_thread_moved();
        if (unshare(CLONE_NEWNET) < 0) {
                r = fail_errno(ctx, -errno, "unshare(CLONE_NEWNET)");
                close(saved);
                return r;
        }
        r = netns_tag_here(ctx); /* so `fwsh down LAB` finds it, even after a crash */
        if (r == 0 && (r = placeholder_make(ctx, name, path, intent, sizeof(intent))) == 0)
                named = true;
        if (r == 0 && mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
                r = fail_errno(ctx, -errno, "bind mount of the new namespace");
        if (setns(saved, CLONE_NEWNET) < 0 && r == 0)
                r = -errno;
        close(saved);
        if (r < 0 && named) {
                umount2(path, MNT_DETACH);
                unlink(path);
        }
        intent_end(intent); /* a namespace with its tag, or nothing */
        return r;
}

/* The file a namespace is mounted on, the one the mount hides: its device is
 * the directory's, its inode the one the directory entry holds (readdir's
 * d_ino is the entry's own inode, never the mount's; stat would give the
 * namespace's). */
static int placeholder_identity(const char *name, struct stat *ret)
{
        struct dirent *e;
        DIR *d = opendir(NETNS_RUN_DIR);
        int r = -ENOENT;

        if (!d)
                return -errno;
        if (fstat(dirfd(d), ret) < 0)
                r = -errno;
        else
                while ((e = readdir(d)))
                        if (strcmp(e->d_name, name) == 0) {
                                ret->st_ino = e->d_ino;
                                r = 0;
                                break;
                        }
        closedir(d);
        return r;
}

/* Unmounted and unlinked under an intent record naming the file beneath the
 * mount (intent.c): a kill between the two leaves an empty file that
 * `fwsh down` removes, knowing it for the one this deletion unmounted. */
static int netns_remove(struct fwsh_ctx *ctx, const struct change *ch)
{
        char path[sizeof(NETNS_RUN_DIR) + FWSH_NETNS_NAME_MAX + 2], intent[INTENT_PATH_MAX] = "";
        struct stat file;
        uint64_t cookie;
        int r = 0;

        netns_path(path, sizeof(path), ch->name);
        if (access(path, F_OK) < 0)
                return ctx_fail(ctx, -errno, "no namespace %s", ch->name);
        /* The one fwsh made (its cookie), not one made since under the name. */
        if (ch->ns_cookie && (netns_cookie(ctx, ch->name, &cookie) < 0 || cookie != ch->ns_cookie))
                return ctx_fail(ctx, -EPERM, "%s is no longer the namespace fwsh made: left alone",
                                path);
        if (placeholder_identity(ch->name, &file) == 0 &&
            (r = intent_begin_netns(ctx, ch->name, &file, intent, sizeof(intent))) < 0)
                return r;
        umount2(path, MNT_DETACH);
        if (unlink(path) < 0)
                r = fail_errno(ctx, -errno, path);
        intent_end(intent);
        return r;
}

int netns_kernel(struct fwsh_ctx *ctx, const struct change *ch)
{
        return ch->op == CH_NETNS_NEW ? netns_create(ctx, ch->name) : netns_remove(ctx, ch);
}

int fwsh_netns_add(struct fwsh_ctx *ctx, const char *name)
{
        struct change ch, inv;
        int r = fwsh_netns_check(ctx, name);

        if (r < 0)
                return r;
        change_init(&ch, CH_NETNS_NEW, name);
        change_init(&inv, CH_NETNS_DEL, name);
        return change_apply(ctx, &ch, &inv);
}

int fwsh_netns_delete(struct fwsh_ctx *ctx, const char *name)
{
        struct change ch;
        int r = fwsh_netns_check(ctx, name);

        if (r < 0)
                return r;
        change_init(&ch, CH_NETNS_DEL, name);
        return change_apply(ctx, &ch, NULL); /* a namespace's contents cannot be brought back */
}

int fwsh_netns_exists(struct fwsh_ctx *ctx, const char *name)
{
        char path[sizeof(NETNS_RUN_DIR) + FWSH_NETNS_NAME_MAX + 2];

        if (fwsh_netns_check(NULL, name) < 0)
                return 0;
        if (ctx && ctx->backend->netns_exists)
                return ctx->backend->netns_exists(ctx, name);
        netns_path(path, sizeof(path), name);
        return access(path, F_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int fwsh_netns_list(struct fwsh_ctx *ctx, char ***ret_names, size_t *ret_n)
{
        DIR *d;
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        int r;

        if (ctx && ctx->backend->netns_list) {
                r = ctx->backend->netns_list(ctx, &v, &n);
                if (r < 0)
                        return r;
                if (n)
                        qsort(v, n, sizeof(*v), cmp_str);
                *ret_names = v;
                *ret_n = n;
                return 0;
        }
        d = opendir(NETNS_RUN_DIR);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret_names = NULL;
                *ret_n = 0;
                return 0;
        }
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));
                        if (!nv)
                                goto nomem;
                        v = nv;
                }
                if (!(v[n] = strdup(e->d_name)))
                        goto nomem;
                n++;
        }
        closedir(d);
        if (n)
                qsort(v, n, sizeof(*v), cmp_str);
        *ret_names = v;
        *ret_n = n;
        return 0;
nomem:
        closedir(d);
        fwsh_strv_free(v, n);
        return -ENOMEM;
}

/* Tags the namespace the calling thread is in with ctx's lab (lo's ifalias). */
int netns_tag_here(struct fwsh_ctx *ctx)
{
        struct fwsh_ctx *here;
        struct change ch;
        int r = ctx_open(ctx->backend, &here);

        if (r < 0)
                return r;
        change_init(&ch, CH_LINK_SET, "lo");
        ch.has_alias = true;
        lab_tag(ctx, ch.alias, sizeof(ch.alias));
        r = link_kernel_set(here, &ch);
        if (r < 0)
                ctx_fail(ctx, r, "tagging lo: %s", here->detail);
        fwsh_ctx_unref(here);
        return r;
}
