/* bootfile.c - files inside a root (openat2 RESOLVE_IN_ROOT: an absolute
 * symbolic link in a mounted image points into the image, not at the host),
 * read whole and replaced whole (a temporary file in the same directory,
 * synced, then renamed over the old one); growing text and string lists. */
#include "bootfile.h"

/* ---- growing text and string lists ---------------------------------------------- */

int text_add(struct text *t, const char *s, size_t n)
{
        if (t->len + n + 1 > t->cap) {
                size_t cap = t->cap ? t->cap : 256;
                char *p;
                while (cap < t->len + n + 1)
                        cap *= 2;
                p = realloc(t->p, cap);
                if (!p)
                        return -ENOMEM;
                t->p = p;
                t->cap = cap;
        }
        if (n)
                memcpy(t->p + t->len, s, n);
        t->len += n;
        t->p[t->len] = '\0';
        return 0;
}

int text_adds(struct text *t, const char *s)
{
        return text_add(t, s, strlen(s));
}

void text_free(struct text *t)
{
        free(t->p);
        memset(t, 0, sizeof(*t));
}

/* Module names are the same with '-' or '_', as modprobe(8) takes them. */
bool same_module(const char *a, size_t alen, const char *b)
{
        size_t i;

        for (i = 0; i < alen && b[i]; i++) {
                char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
                if (x != y)
                        return false;
        }
        return i == alen && !b[i];
}

bool strv_has(char *const *v, size_t n, const char *s, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (same_module(s, len, v[i]))
                        return true;
        return false;
}

int check_modules(struct fwsh_ctx *ctx, const char *const *modules, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(modules[i]);
                if (len == 0 || len > MODULE_NAME_MAX || modules[i][0] == '-' ||
                    strspn(modules[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
                        return ctx_fail(ctx, -EINVAL, "'%s' is not a module name: 1 to %d letters, "
                                                      "digits, '_' or '-', not starting with '-'",
                                        modules[i], MODULE_NAME_MAX);
        }
        return 0;
}

/* ---- files inside a root ------------------------------------------------------------ */

int open_in_root(int rootfd, const char *rel, int flags)
{
        struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT };
        long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

        if (fd < 0 && errno == ENOSYS)   /* a kernel older than 5.6 */
                fd = openat(rootfd, rel, flags | O_CLOEXEC);
        return fd < 0 ? -errno : (int)fd;
}

int place_open(struct fwsh_ctx *ctx, const char *root, struct place *pl)
{
        size_t n;

        if (ctx)
                ctx_clear(ctx);
        if (!root)
                root = "/";
        if (root[0] != '/')
                return ctx_fail(ctx, -EINVAL, "root %s is not an absolute path", root);
        n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                n--;
        if (n >= sizeof(pl->root) - 64)
                return ctx_fail(ctx, -ENAMETOOLONG, "root path too long");
        memcpy(pl->root, root, n);
        pl->root[n == 1 ? 0 : n] = '\0';
        pl->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pl->rootfd < 0)
                return ctx_fail(ctx, -errno, "root %s: %s", root, strerror(errno));
        return 0;
}

void place_close(struct place *pl)
{
        if (pl->rootfd >= 0)
                close(pl->rootfd);
        pl->rootfd = -1;
}

char *place_shown(const struct place *pl, const char *rel)
{
        char *s;
        return asprintf(&s, "%s/%s", pl->root, rel) < 0 ? NULL : s;
}

/* Opens ROOT/rel, a directory, making what is missing of it if create. In
 * a plan, what is missing is only shown, and *ret_fd is -1: file_read finds
 * nothing in it, file_write and file_remove only show what they would do. */
int dir_open(struct fwsh_ctx *ctx, const struct place *pl, const char *rel, bool create,
                    int *ret_fd)
{
        char prefix[PATH_MAX];
        int fd = open_in_root(pl->rootfd, rel, O_RDONLY | O_DIRECTORY);

        if (fd == -ENOENT && create && fwsh_ctx_planned(ctx)) {
                struct fwsh_line l = { .len = 0 };
                char path[PATH_MAX + 64];

                snprintf(path, sizeof(path), "%s/%s", pl->root, rel);
                fwsh_line_add(&l, "mkdir -p --");
                fwsh_line_word(&l, path);
                fwsh_effect_line(ctx, &l);
                *ret_fd = -1;
                return 0;
        }
        if (fd >= 0 || fd != -ENOENT || !create) {
                if (fd < 0)
                        return ctx_fail(ctx, fd, "%s/%s: %s", pl->root, rel, strerror(-fd));
                *ret_fd = fd;
                return 0;
        }
        /* One component at a time, each made in the one before it. */
        fd = dup(pl->rootfd);
        for (const char *p = rel; fd >= 0 && *p;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                char comp[NAME_MAX + 1];
                int next;

                snprintf(comp, sizeof(comp), "%.*s", (int)len, p);
                snprintf(prefix, sizeof(prefix), "%.*s", (int)(p - rel + len), rel);
                if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        close(fd);
                        return ctx_fail(ctx, r, "mkdir %s/%s: %s", pl->root, prefix, strerror(-r));
                }
                next = open_in_root(pl->rootfd, prefix, O_RDONLY | O_DIRECTORY);
                close(fd);
                if (next < 0)
                        return ctx_fail(ctx, next, "%s/%s: %s", pl->root, prefix, strerror(-next));
                fd = next;
                p += len + (slash ? 1 : 0);
        }
        if (fd < 0)
                return ctx_fail(ctx, -errno, "%s: %s", pl->root, strerror(errno));
        *ret_fd = fd;
        return 0;
}

/* Reads dirfd/name, a regular file (not a symbolic link). -ENOENT if absent. */
int file_read(int dirfd, const char *name, struct text *ret, struct stat *ret_st)
{
        struct text t = { NULL, 0, 0 };
        char buf[8192];
        ssize_t n;
        int r = 0, fd;

        if (dirfd < 0)   /* a directory a plan only shows being made */
                return -ENOENT;
        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0) {
                r = -errno;
        } else if (!S_ISREG(ret_st->st_mode)) {
                r = -EINVAL;
        } else if (ret_st->st_size > FILE_MAX) {
                r = -EFBIG;
        } else {
                r = text_add(&t, "", 0);
                while (r == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
                        if (n < 0)
                                r = errno == EINTR ? 0 : -errno;
                        else
                                r = t.len + (size_t)n > FILE_MAX ? -EFBIG : text_add(&t, buf, (size_t)n);
                }
        }
        close(fd);
        if (r < 0) {
                text_free(&t);
                return r;
        }
        *ret = t;
        return 0;
}

int read_fail(struct fwsh_ctx *ctx, const char *path, int r)
{
        if (r == -ELOOP)
                return ctx_fail(ctx, r, "%s is a symbolic link: fwsh edits only regular files", path);
        if (r == -EINVAL)
                return ctx_fail(ctx, r, "%s is not a regular file", path);
        if (r == -EFBIG)
                return ctx_fail(ctx, r, "%s is over %d bytes", path, FILE_MAX);
        return ctx_fail(ctx, r, "%s: %s", path, strerror(-r));
}

/* The path of name in the directory of path (which names a file beside it). */
static const char *beside(const char *path, const char *name, char *buf, size_t size)
{
        const char *slash = strrchr(path, '/');

        snprintf(buf, size, "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, name);
        return buf;
}

/* Replaces dirfd/name with data: a temporary file beside it, synced, renamed
 * over it. mode and the owner of old (if not NULL) are kept. */
int file_write(struct fwsh_ctx *ctx, int dirfd, const char *name, const char *path,
                      const char *data, size_t len, mode_t mode, const struct stat *old)
{
        static unsigned counter;
        char tmp[NAME_MAX + 1], shown[PATH_MAX + 64];
        int fd = -1, r = 0;

        if (fwsh_effect_write(ctx, beside(path, name, shown, sizeof(shown)), data, len) > 0)
                return 0;

        for (int tries = 0; fd < 0 && tries < 100; tries++) {
                snprintf(tmp, sizeof(tmp), ".%.200s.fwsh-%ld-%u", name, (long)getpid(), counter++);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return ctx_fail(ctx, -errno, "cannot write beside %s: %s", path, strerror(errno));
        }
        if (fd < 0)
                return ctx_fail(ctx, -EEXIST, "cannot make a temporary file beside %s", path);
        for (size_t off = 0; r == 0 && off < len;) {
                ssize_t n = write(fd, data + off, len - off);
                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        off += (size_t)n;
        }
        if (r == 0 && fchmod(fd, mode & 07777) < 0)
                r = -errno;
        if (r == 0 && old && (old->st_uid != geteuid() || old->st_gid != getegid()) &&
            fchown(fd, old->st_uid, old->st_gid) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return ctx_fail(ctx, r, "writing %s: %s", path, strerror(-r));
        }
        fsync(dirfd);
        return 0;
}

int file_remove(struct fwsh_ctx *ctx, int dirfd, const char *name, const char *path)
{
        char shown[PATH_MAX + 64];

        if (fwsh_effect_remove(ctx, beside(path, name, shown, sizeof(shown)), false) > 0)
                return 0;
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return ctx_fail(ctx, -errno, "removing %s: %s", path, strerror(errno));
        fsync(dirfd);
        return 0;
}

/* ---- results ------------------------------------------------------------------------- */

void file_clear(struct fwsh_boot_file *f)
{
        free(f->path);
        fwsh_strv_free(f->changed_modules, f->n_changed);
        fwsh_strv_free(f->kept, f->n_kept);
        memset(f, 0, sizeof(*f));
}

void fwsh_boot_result_clear(struct fwsh_boot_result *r)
{
        file_clear(&r->modules_load);
        file_clear(&r->grub);
}

int file_note(struct fwsh_boot_file *f, bool changed, const char *m, size_t len)
{
        return changed ? strv_push(&f->changed_modules, &f->n_changed, m, len)
                       : strv_push(&f->kept, &f->n_kept, m, len);
}
