/* intent.c - crash-safe creation of the links fwsh makes with RTM_NEWLINK
 * (bridges, veth pairs). The kernel takes a link's group in the create but not
 * its alias, fwsh's tag: between the create and the tag a SIGKILL would leave
 * a link that `fwsh down` cannot tell from anyone's. So before the create fwsh
 * writes an intent record, INTENT_DIR/LAB.PID.SEQ, naming the namespace (its
 * device and inode) and the links; once they carry their tag, it removes it.
 *
 * `fwsh down LAB` (intent_sweep) reads the records of LAB whose process is
 * gone: a link named there, in that namespace, in the lab's group, with no
 * alias at all, is one that process made and had no time to tag. Each of the
 * three is needed: a record alone does not prove the link was made (the kill
 * may have come before the create, and someone else made one of that name
 * since), nor the group alone (anyone may put a link in any group).
 *
 * Taps need none of this: one is persistent only once it is tagged (tap.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define INTENT_DIR "/run/fwsh/intent"

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

/* Deletes what the record at path names, if it is the lab's (see above). */
static int sweep_one(struct fwsh_ctx *ctx, const char *path, uint32_t group, unsigned *count)
{
        unsigned long long dev, ino;
        char name[64];
        int first = 0;
        FILE *f = fopen(path, "re");

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        if (fscanf(f, "%llu %llu\n", &dev, &ino) != 2 || dev != ctx->ns_dev || ino != ctx->ns_ino) {
                fclose(f); /* another namespace's: a down there sweeps it */
                return 0;
        }
        while (fgets(name, sizeof(name), f)) {
                struct fwsh_link l;
                struct change ch;
                int r;

                name[strcspn(name, "\n")] = '\0';
                if (fwsh_name_check(NULL, name) < 0 || fwsh_link_get(ctx, name, &l) < 0)
                        continue;
                if (l.alias[0] || l.group != group)
                        continue; /* tagged (down's other passes see it), or not ours */
                change_init(&ch, CH_LINK_DEL, name);
                ch.ifindex = l.ifindex;
                r = change_apply(ctx, &ch, NULL);
                if (r == 0)
                        (*count)++;
                else if (r != -ENODEV && !first)
                        first = r;
        }
        fclose(f);
        if (first == 0)
                unlink(path);
        return first;
}

int intent_sweep(struct fwsh_ctx *ctx, const char *lab, unsigned *count)
{
        size_t len = strlen(lab);
        struct dirent *e;
        int first = 0;
        DIR *d = opendir(INTENT_DIR);

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((e = readdir(d))) {
                char path[sizeof(INTENT_DIR) + 256];
                const char *seq_dot = strrchr(e->d_name, '.'), *pid_dot;
                char *end;
                long pid;
                int r;

                /* LAB.PID.SEQ, LAB itself may hold dots: PID is the field before the last */
                if (!seq_dot || seq_dot == e->d_name)
                        continue;
                for (pid_dot = seq_dot - 1; pid_dot > e->d_name && *pid_dot != '.'; pid_dot--)
                        ;
                if ((size_t)(pid_dot - e->d_name) != len || strncmp(e->d_name, lab, len) != 0)
                        continue;
                pid = strtol(pid_dot + 1, &end, 10);
                if (pid <= 0 || end != seq_dot)
                        continue;
                if (pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue; /* its maker is alive: it tags them, or undoes them */
                snprintf(path, sizeof(path), INTENT_DIR "/%s", e->d_name);
                r = sweep_one(ctx, path, fwsh_lab_group(lab), count);
                if (r < 0 && !first)
                        first = r;
        }
        closedir(d);
        return first;
}
