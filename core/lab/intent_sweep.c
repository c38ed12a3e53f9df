/* intent_sweep.c - `fwsh down LAB`'s pass over the intent records a killed
 * fwsh left (core/net/intent.c says what they are and why this is proof). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Removes the empty file /run/netns/NAME a killed fwsh made and had not yet
 * mounted its namespace on: only if it is still that file (a namespace
 * mounted there since has another device and inode). */
static int sweep_netns(FILE *f, unsigned long long dev, unsigned long long ino, unsigned *count)
{
        char name[FWSH_NETNS_NAME_MAX + 2], path[sizeof(NETNS_RUN_DIR) + sizeof(name) + 1];
        struct stat st;

        if (!fgets(name, sizeof(name), f))
                return 0;
        name[strcspn(name, "\n")] = '\0';
        if (fwsh_netns_check(NULL, name) < 0)
                return 0;
        snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != dev || st.st_ino != ino)
                return 0;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        (*count)++;
        return 0;
}

/* Deletes what the stale record in f names, if it is the lab's (see above). */
static int sweep_links(struct fwsh_ctx *ctx, FILE *f, unsigned long long dev,
                       unsigned long long ino, uint32_t group, unsigned *count)
{
        char name[64];
        int first = 0;

        if (dev != ctx->ns_dev || ino != ctx->ns_ino)
                return -EXDEV; /* another namespace's: a down there sweeps it */
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
        return first;
}

/* The record at path, if no live process holds it. */
static int sweep_one(struct fwsh_ctx *ctx, const char *path, uint32_t group, unsigned *links,
                     unsigned *netns)
{
        unsigned long long dev, ino;
        char kind[8];
        FILE *f;
        int r, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* Its maker holds the lock while it lives: it tags what it made, or undoes it. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? 0 : -errno;
                close(fd);
                return r;
        }
        if (!(f = fdopen(fd, "r"))) {
                r = -errno;
                close(fd);
                return r;
        }
        if (fscanf(f, "netns %llu %llu\n", &dev, &ino) == 2)
                r = sweep_netns(f, dev, ino, netns);
        else if (rewind(f), fscanf(f, "%llu %llu\n", &dev, &ino) == 2)
                r = sweep_links(ctx, f, dev, ino, group, links);
        else
                r = fscanf(f, "%7s", kind) == 1 ? -EXDEV : 0; /* a kind this fwsh does not know */
        if (r == 0)
                unlink(path); /* before the lock goes, with the fclose */
        fclose(f);
        return r == -EXDEV ? 0 : r;
}

int intent_sweep(struct fwsh_ctx *ctx, const char *lab, unsigned *links, unsigned *netns)
{
        size_t len = strlen(lab);
        struct dirent *e;
        int first = 0;
        DIR *d;

        if (ctx->plan) /* a model: nothing to sweep */
                return 0;
        if (!(d = opendir(INTENT_DIR)))
                return errno == ENOENT ? 0 : -errno;
        while ((e = readdir(d))) {
                char path[sizeof(INTENT_DIR) + 256];
                const char *dot = strrchr(e->d_name, '.');
                int r;

                /* LAB.ID: LAB itself may hold dots, ID does not */
                if (!dot || (size_t)(dot - e->d_name) != len || strncmp(e->d_name, lab, len) != 0)
                        continue;
                snprintf(path, sizeof(path), INTENT_DIR "/%s", e->d_name);
                r = sweep_one(ctx, path, fwsh_lab_group(lab), links, netns);
                if (r < 0 && !first)
                        first = r;
        }
        closedir(d);
        return first;
}
