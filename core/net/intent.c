/* intent.c - crash-safe creation of the links fwsh makes with RTM_NEWLINK
 * (bridges, veth pairs). The kernel takes a link's group in the create but not
 * its alias, fwsh's tag: between the create and the tag a SIGKILL would leave
 * a link that `fwsh down` cannot tell from anyone's. So before the create fwsh
 * writes an intent record, INTENT_DIR/LAB.PID.SEQ, naming the namespace (its
 * device and inode) and the links; once they carry their tag, it removes it.
 *
 * `fwsh down LAB` (core/lab/intent_sweep.c) reads the records of LAB whose process is
 * gone: a link named there, in that namespace, in the lab's group, with no
 * alias at all, is one that process made and had no time to tag. Each of the
 * three is needed: a record alone does not prove the link was made (the kill
 * may have come before the create, and someone else made one of that name
 * since), nor the group alone (anyone may put a link in any group).
 *
 * Taps need none of this: one is persistent only once it is tagged (tap.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static unsigned long seq;

int intent_begin(struct fwsh_ctx *ctx, const char *const *names, size_t n, char *ret_path,
                 size_t size)
{
        FILE *f;
        int fd;

        ret_path[0] = '\0';
        if (ctx->backend->links) /* a model: nothing is made */
                return 0;
        if (mkdir("/run/fwsh", 0755) < 0 && errno != EEXIST)
                return ctx_fail(ctx, -errno, "mkdir /run/fwsh: %s", strerror(errno));
        if (mkdir(INTENT_DIR, 0700) < 0 && errno != EEXIST)
                return ctx_fail(ctx, -errno, "mkdir " INTENT_DIR ": %s", strerror(errno));
        snprintf(ret_path, size, INTENT_DIR "/%s.%ld.%lu", ctx->lab, (long)getpid(), ++seq);
        fd = open(ret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                ctx_fail(ctx, r, "%s: %s", ret_path, strerror(-r));
                ret_path[0] = '\0';
                return r;
        }
        fprintf(f, "%llu %llu\n", (unsigned long long)ctx->ns_dev, (unsigned long long)ctx->ns_ino);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s\n", names[i]);
        /* No fsync: a crash of the machine takes the links with it. */
        if (fclose(f) != 0) {
                int r = -errno;
                unlink(ret_path);
                ctx_fail(ctx, r, "%s: %s", ret_path, strerror(-r));
                ret_path[0] = '\0';
                return r;
        }
        return 0;
}

void intent_end(const char *path)
{
        if (path[0])
                unlink(path);
}
