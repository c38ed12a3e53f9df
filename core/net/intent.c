/* intent.c - crash-safe creation of what fwsh makes in more than one step.
 *
 * Links made with RTM_NEWLINK (bridges, veth pairs): the kernel takes a link's
 * group in the create but not its alias, fwsh's tag: between the create and
 * the tag a SIGKILL would leave a link that `fwsh down` cannot tell from
 * anyone's. So before the create fwsh writes an intent record naming the
 * namespace (its device and inode) and the links; once they carry their tag,
 * it removes it. `fwsh down LAB` (core/lab/intent_sweep.c) reads the stale
 * records of LAB: a link named there, in that namespace, in the lab's group,
 * with no alias at all, is one that process made and had no time to tag. Each
 * of the three is needed: a record alone does not prove the link was made (the
 * kill may have come before the create, and someone else made one of that name
 * since), nor the group alone (anyone may put a link in any group).
 *
 * Named namespaces (netns.c): the file /run/netns/NAME exists, empty, before
 * the namespace is mounted on it, and again between the umount and the unlink
 * that delete it. The record names that file by its device and inode, so that
 * down removes it only if it is still that very file.
 *
 * A record is live while the process that wrote it holds an flock(2) on it;
 * the kernel drops the lock when that process dies, however it dies. Not the
 * PID: a PID is reused, and in a PID namespace every fwsh may be PID 1; a
 * lock is neither. The record is made without a name (O_TMPFILE), locked and
 * written, and only then linked into INTENT_DIR under a random name: no
 * instant exists at which a sweeper can see it unlocked or half written, and
 * a name left by a dead process never stands in the way of a new one.
 *
 * Taps need none of this: one is persistent only once it is tagged (tap.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The records this process holds: their paths and the descriptors that hold
 * their locks. A handful at once at most (one per window of a batch). */
struct held {
        char path[INTENT_PATH_MAX];
        int fd;
        struct held *next;
};

static struct held *held;

/* A new name for a record of lab: LAB.HEX (LAB may hold dots; HEX does not). */
static void record_name(const char *lab, char *buf, size_t size)
{
        unsigned long long id;

        if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
                id = ((unsigned long long)getpid() << 32) ^ (unsigned long long)(uintptr_t)buf ^
                     (unsigned long long)random();
        snprintf(buf, size, INTENT_DIR "/%s.%016llx", lab, id);
}

/* Links the locked, written, nameless file fd into INTENT_DIR. */
static int record_link(struct fwsh_ctx *ctx, int fd, char *path, size_t size)
{
        char self[64];

        snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
        for (int tries = 0; tries < 8; tries++) {
                record_name(ctx->lab, path, size);
                if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        return -errno;
}

/* Makes a locked record holding text; its path into ret_path. */
static int record_make(struct fwsh_ctx *ctx, const char *text, char *ret_path, size_t size)
{
        struct held *h;
        size_t len = strlen(text);
        int fd, r = 0;

        if (mkdir("/run/fwsh", 0755) < 0 && errno != EEXIST)
                return ctx_fail(ctx, -errno, "mkdir /run/fwsh: %s", strerror(errno));
        if (mkdir(INTENT_DIR, 0700) < 0 && errno != EEXIST)
                return ctx_fail(ctx, -errno, "mkdir " INTENT_DIR ": %s", strerror(errno));
        if (!(h = calloc(1, sizeof(*h))))
                return -ENOMEM;
        fd = open(INTENT_DIR, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
                if (flock(fd, LOCK_EX) < 0 || write(fd, text, len) != (ssize_t)len)
                        r = errno ? -errno : -EIO;
                else
                        r = record_link(ctx, fd, h->path, sizeof(h->path));
        } else if (errno == EOPNOTSUPP || errno == EISDIR) {
                /* A file system without nameless files: named at once, locked
                 * at once; a sweeper in between would find no link made yet. */
                record_name(ctx->lab, h->path, sizeof(h->path));
                fd = open(h->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(fd, text, len) != (ssize_t)len)
                        r = errno ? -errno : -EIO;
                if (r < 0 && fd >= 0)
                        unlink(h->path);
        } else {
                r = -errno;
        }
        /* No fsync: a crash of the machine takes the links with it. */
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                free(h);
                return ctx_fail(ctx, r, "intent record in " INTENT_DIR ": %s", strerror(-r));
        }
        h->fd = fd;
        h->next = held;
        held = h;
        snprintf(ret_path, size, "%s", h->path);
        return 0;
}

int intent_begin(struct fwsh_ctx *ctx, const char *const *names, size_t n, char *ret_path,
                 size_t size)
{
        size_t cap = 64, used;
        char *text;
        int r;

        ret_path[0] = '\0';
        if (ctx->backend->links) /* a model: nothing is made */
                return 0;
        for (size_t i = 0; i < n; i++)
                cap += strlen(names[i]) + 1;
        if (!(text = malloc(cap)))
                return -ENOMEM;
        used = (size_t)snprintf(text, cap, "%llu %llu\n", (unsigned long long)ctx->ns_dev,
                                (unsigned long long)ctx->ns_ino);
        for (size_t i = 0; i < n; i++)
                used += (size_t)snprintf(text + used, cap - used, "%s\n", names[i]);
        r = record_make(ctx, text, ret_path, size);
        free(text);
        return r;
}

int intent_begin_netns(struct fwsh_ctx *ctx, const char *name, const struct stat *file,
                       char *ret_path, size_t size)
{
        char text[64 + FWSH_NETNS_NAME_MAX];

        ret_path[0] = '\0';
        snprintf(text, sizeof(text), "netns %llu %llu\n%s\n", (unsigned long long)file->st_dev,
                 (unsigned long long)file->st_ino, name);
        return record_make(ctx, text, ret_path, size);
}

void intent_end(const char *path)
{
        if (!path[0])
                return;
        for (struct held **hh = &held; *hh; hh = &(*hh)->next) {
                struct held *h = *hh;
                if (strcmp(h->path, path) != 0)
                        continue;
                /* the name first: the lock holds until no sweeper can open it anew */
                unlink(h->path);
                close(h->fd);
                *hh = h->next;
                free(h);
                return;
        }
        unlink(path);
}
