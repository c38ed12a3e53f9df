/* labdir.c - a lab's state directories: /tmp/fwsh-LAB.XXXXXX (mkdtemp(3)), or
 * under $FWSH_LAB_ROOT, where the lab library keeps its daemons' configuration
 * and logs. Each holds
 * a file .fwsh-lab with the lab's tag, "fwsh:LAB", as its links carry it in
 * their ifalias: `fwsh down LAB` removes the directories a killed script left,
 * and never one without that tag, whatever its name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LABDIR_TAG_FILE ".fwsh-lab"

/* Where they go: /tmp, or $FWSH_LAB_ROOT, which `fwsh --sandbox` points at a
 * tmpfs of its own so that nothing is left on the host. A value that cannot
 * be used is an error, not /tmp: the user asked for the lab's files elsewhere.
 * It is a glob's prefix below, so it holds no pattern character. */
static int labdir_root(struct fwsh_ctx *ctx, const char **ret_root)
{
        const char *root = getenv("FWSH_LAB_ROOT");

        *ret_root = "/tmp";
        if (!root || !root[0])
                return 0;
        if (root[0] != '/' || strpbrk(root, "*?[\\"))
                return ctx_fail(ctx, -EINVAL, "FWSH_LAB_ROOT=%s: an absolute path without *?[\\ "
                                "expected", root);
        if (strlen(root) >= 256)
                return ctx_fail(ctx, -ENAMETOOLONG, "FWSH_LAB_ROOT: %zu bytes, at most 255",
                                strlen(root));
        *ret_root = root;
        return 0;
}

/* fwsh_effect for making path, lab's: as sh would, under the name the plan
 * goes on using (the template's, XXXXXX and all). */
static int shown(struct fwsh_ctx *ctx, const char *path, const char *lab)
{
        struct fwsh_line l = { .len = 0 };

        if (!fwsh_effect_shown(ctx))
                return 0;
        fwsh_line_add(&l, "mkdir -m 0700 --");
        fwsh_line_word(&l, path);
        fwsh_line_add(&l, " && echo " FWSH_TAG_PREFIX "%s >", lab);
        fwsh_line_word(&l, path);
        fwsh_line_add(&l, "/" LABDIR_TAG_FILE);
        return fwsh_effect_line(ctx, &l);
}

int fwsh_lab_dir_make(struct fwsh_ctx *ctx, const char *lab, char *ret_path, size_t size)
{
        char path[PATH_MAX], tag[8 + FWSH_LAB_MAX], file[sizeof(path) + 16];
        const char *root;
        int fd, r = lab_name_check(ctx, lab), n;

        if (r < 0 || (r = labdir_root(ctx, &root)) < 0)
                return r;
        snprintf(path, sizeof(path), "%s/fwsh-%s.XXXXXX", root, lab);
        if (strlen(path) >= size)
                return ctx_fail(ctx, -ENAMETOOLONG, "no room for the path");
        if (fwsh_ctx_planned(ctx)) {
                /* A plan makes none: its path is the template's. */
                shown(ctx, path, lab);
                memcpy(ret_path, path, strlen(path) + 1);
                return 0;
        }
        if (!mkdtemp(path))
                return ctx_fail(ctx, -errno, "mkdtemp %s: %s", path, strerror(errno));
        snprintf(file, sizeof(file), "%s/" LABDIR_TAG_FILE, path);
        n = snprintf(tag, sizeof(tag), FWSH_TAG_PREFIX "%s\n", lab);
        fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || write(fd, tag, (size_t)n) != n) {
                r = ctx_fail(ctx, fd < 0 || errno ? -errno : -EIO, "%s: %s", file, strerror(errno));
                if (fd >= 0)
                        close(fd);
                unlink(file);
                rmdir(path);
                return r;
        }
        close(fd);
        shown(ctx, path, lab);   /* --explain: under the name it got */
        memcpy(ret_path, path, strlen(path) + 1);
        return 0;
}

/* Whether dir is a directory of ours (not a link to one) whose tag is lab's. */
static bool is_labs(const char *dir, const char *lab)
{
        char file[PATH_MAX], want[8 + FWSH_LAB_MAX], have[sizeof(want) + 1];
        struct stat st;
        ssize_t n;
        int fd;

        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                return false;
        snprintf(file, sizeof(file), "%s/" LABDIR_TAG_FILE, dir);
        snprintf(want, sizeof(want), FWSH_TAG_PREFIX "%s\n", lab);
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return false;
        n = read(fd, have, sizeof(have) - 1);
        close(fd);
        if (n < 0)
                return false;
        have[n] = '\0';
        return strcmp(have, want) == 0;
}

#define REMOVE_DEPTH_MAX 64

/* The mount a file descriptor's file lies on (statx's mount id: a bind mount
 * of the same file system has the same st_dev, not the same mount id). */
static int mount_id(int dirfd, const char *name, int flags, struct statx *ret)
{
        if (statx(dirfd, name, flags | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_MNT_ID, ret) < 0)
                return -errno;
        return ret->stx_mask & STATX_MNT_ID ? 0 : -EOPNOTSUPP;
}

static int remove_in(int dfd, uint64_t mnt, unsigned depth, unsigned *kept);

/* Removes what the directory dfd holds (and closes dfd), depth first, by
 * descriptors, never following a symbolic link: nothing on another mount
 * than mnt is entered or removed (a mount point is left, counted in *kept),
 * so that what someone bind-mounted into a lab's directory survives it.
 * The entry called but (NULL: none) is left too. */
static int remove_in_but(int dfd, uint64_t mnt, unsigned depth, unsigned *kept, const char *but)
{
        DIR *d = fdopendir(dfd);
        struct dirent *e;
        int first = 0;

        if (!d) {
                first = -errno;
                close(dfd);
                return first;
        }
        while ((errno = 0, e = readdir(d))) {
                struct statx sx;
                int fd, r;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                    (but && strcmp(e->d_name, but) == 0))
                        continue;
                r = mount_id(dirfd(d), e->d_name, AT_SYMLINK_NOFOLLOW, &sx);
                if (r == 0 && (sx.stx_mnt_id != mnt || (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))) {
                        (*kept)++;
                        continue;
                }
                if (r == 0 && S_ISDIR(sx.stx_mode)) {
                        fd = depth < REMOVE_DEPTH_MAX
                                     ? openat(dirfd(d), e->d_name,
                                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                     : (errno = ELOOP, -1);
                        /* still on the same mount once open: nothing mounted over it since */
                        if (fd >= 0 && (r = mount_id(fd, "", AT_EMPTY_PATH, &sx)) == 0 &&
                            sx.stx_mnt_id != mnt) {
                                (*kept)++;
                                close(fd);
                                continue;
                        }
                        if (fd < 0)
                                r = -errno;
                        else if (r < 0)
                                close(fd);
                        else
                                r = remove_in(fd, mnt, depth + 1, kept);
                        if (r == 0 && unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
                                r = -errno;
                } else if (r == 0 && unlinkat(dirfd(d), e->d_name, 0) < 0) {
                        r = -errno;
                }
                if (r < 0 && r != -ENOENT && !first)
                        first = r;
        }
        if (errno && !first)
                first = -errno;
        closedir(d);
        return first;
}

static int remove_in(int dfd, uint64_t mnt, unsigned depth, unsigned *kept)
{
        return remove_in_but(dfd, mnt, depth, kept, NULL);
}

/* Removes the lab directory path and what it holds, but for mount points
 * inside it, which are left, and it with them and its tag (-EBUSY): `fwsh
 * down` finds it again once they are unmounted. */
static int remove_tree(struct fwsh_ctx *ctx, const char *path)
{
        struct statx sx;
        unsigned kept = 0;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), walk, r;

        if (fd < 0)
                return ctx_fail(ctx, -errno, "removing %s: %s", path, strerror(errno));
        if ((r = mount_id(fd, "", AT_EMPTY_PATH, &sx)) < 0 || (walk = dup(fd)) < 0) {
                r = r < 0 ? r : -errno;
                close(fd);
                return ctx_fail(ctx, r, "removing %s: %s", path, strerror(-r));
        }
        r = remove_in_but(walk, sx.stx_mnt_id, 0, &kept, LABDIR_TAG_FILE);
        if (r == 0 && !kept && unlinkat(fd, LABDIR_TAG_FILE, 0) < 0 && errno != ENOENT)
                r = -errno;
        close(fd);
        if (r < 0)
                return ctx_fail(ctx, r, "removing %s: %s", path, strerror(-r));
        if (kept)
                return ctx_fail(ctx, -EBUSY, "removing %s: %u mount point%s inside left alone", path,
                                kept, kept == 1 ? "" : "s");
        if (rmdir(path) < 0 && errno != ENOENT)
                return ctx_fail(ctx, -errno, "removing %s: %s", path, strerror(errno));
        return 0;
}

int lab_dirs_remove(struct fwsh_ctx *ctx, const char *lab, unsigned *ret_n)
{
        char pattern[PATH_MAX];
        const char *root;
        glob_t g;
        int first = 0, r = lab_name_check(ctx, lab);

        *ret_n = 0;
        if (r < 0 || (r = labdir_root(ctx, &root)) < 0)
                return r;
        snprintf(pattern, sizeof(pattern), "%s/fwsh-%s.??????", root, lab);
        r = glob(pattern, GLOB_NOSORT, NULL, &g);
        if (r == GLOB_NOMATCH)
                return 0;
        if (r != 0)
                return ctx_fail(ctx, -ENOMEM, "glob %s", pattern);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                if (!is_labs(g.gl_pathv[i], lab))
                        continue;
                if (fwsh_effect_remove(ctx, g.gl_pathv[i], true) > 0) {
                        (*ret_n)++;   /* a plan: shown, not removed */
                        continue;
                }
                r = remove_tree(ctx, g.gl_pathv[i]);
                if (r == 0)
                        (*ret_n)++;
                else if (!first)
                        first = r;
        }
        globfree(&g);
        return first;
}

int fwsh_lab_dir_remove(struct fwsh_ctx *ctx, const char *lab, const char *path)
{
        int r = lab_name_check(ctx, lab);

        if (r < 0)
                return r;
        /* A plan made its directories in the model only: they are not there. */
        if (!is_labs(path, lab) && !(fwsh_ctx_planned(ctx) && access(path, F_OK) < 0))
                return ctx_fail(ctx, -EPERM, "%s is no state directory of lab %s", path, lab);
        if (fwsh_effect_remove(ctx, path, true) > 0)
                return 0;
        return remove_tree(ctx, path);
}

int fwsh_lab_dir_find(struct fwsh_ctx *ctx, const char *lab, const char *name, char *ret_path, size_t size)
{
        char pattern[PATH_MAX];
        const char *root;
        glob_t g;
        int r = lab_name_check(ctx, lab);

        if (r < 0 || (r = labdir_root(ctx, &root)) < 0)
                return r;
        if (!name[0] || strchr(name, '/') || name[0] == '.')
                return ctx_fail(ctx, -EINVAL, "%s is no file name", name);
        snprintf(pattern, sizeof(pattern), "%s/fwsh-%s.??????", root, lab);
        if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
                return -ENOENT;
        r = -ENOENT;
        for (size_t i = 0; r < 0 && i < g.gl_pathc; i++) {
                char file[PATH_MAX + 64];
                struct stat st;

                snprintf(file, sizeof(file), "%s/%s", g.gl_pathv[i], name);
                if (!is_labs(g.gl_pathv[i], lab) || lstat(file, &st) < 0)
                        continue;
                if (strlen(file) >= size) {
                        r = ctx_fail(ctx, -ENAMETOOLONG, "no room for the path");
                } else {
                        memcpy(ret_path, file, strlen(file) + 1);
                        r = 0;
                }
        }
        globfree(&g);
        return r;
}

int fwsh_lab_dir_labs(struct fwsh_ctx *ctx, const char *name, char ***ret, size_t *ret_n)
{
        char pattern[PATH_MAX], **v = NULL;
        const char *root;
        size_t n = 0;
        glob_t g;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!name[0] || strchr(name, '/') || name[0] == '.')
                return ctx_fail(ctx, -EINVAL, "%s is no file name", name);
        if ((r = labdir_root(ctx, &root)) < 0)
                return r;
        snprintf(pattern, sizeof(pattern), "%s/fwsh-*.??????" "/%s", root, name);
        if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
                return 0;
        for (size_t i = 0; r == 0 && i < g.gl_pathc; i++) {
                /* ROOT/fwsh-LAB.XXXXXX/name: LAB, if the directory is that lab's */
                char dir[PATH_MAX], lab[FWSH_LAB_MAX + 1];
                const char *base, *dot;
                bool seen = false;
                char **nv;

                snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(g.gl_pathv[i], '/') - g.gl_pathv[i]),
                         g.gl_pathv[i]);
                base = strrchr(dir, '/') + 1 + strlen("fwsh-");
                dot = strrchr(base, '.');
                if (!dot || dot - base > FWSH_LAB_MAX || dot == base)
                        continue;
                snprintf(lab, sizeof(lab), "%.*s", (int)(dot - base), base);
                if (!is_labs(dir, lab))
                        continue;
                for (size_t k = 0; k < n; k++)
                        seen = seen || strcmp(v[k], lab) == 0;
                if (seen)
                        continue;
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv || !(nv[n] = strdup(lab))) {
                        v = nv ? nv : v;
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                n++;
        }
        globfree(&g);
        if (r < 0) {
                fwsh_strv_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
