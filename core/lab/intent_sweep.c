/* intent_sweep.c - `fwsh down LAB`'s pass over the intent records a killed
 * fwsh left (core/net/intent.c says what they are and why this is proof). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

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
        if (first == 0 && !fwsh_ctx_planned(ctx))   /* a plan removed nothing */
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
