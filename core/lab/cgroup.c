/* cgroup.c - the cgroups that hold a lab's processes, so that none outlives
 * its lab: not the daemons' forks either, which leave the process group and
 * which the parent-death signal does not reach.
 *
 * Each process fwsh starts (proc.c) joins a cgroup of its own before it
 * execs, CG2/fwsh.LAB.NSINO/HEX: the lab's, in the network namespace whose
 * inode is NSINO (labs of one name in different namespaces, as in parallel
 * sandboxes, are different labs), one leaf per process. A fwsh that runs in
 * such a cgroup itself (started by another fwsh: an emulated host's, a
 * spec's) makes its labs' cgroups below its own, so that what it starts is
 * still a descendant of what the outer one started, and ends with it. The child writes
 * itself into the leaf before it can fork, so every descendant is born
 * inside. When the process ends, is stopped or its run times out, cgroup.kill
 * ends every descendant at once, forks racing the kill included, and the leaf
 * goes; `fwsh down LAB`, after a SIGKILL of fwsh, kills the lab's whole
 * subtree by its name and removes it.
 *
 * Why a cgroup and not a PID namespace per process with a reaper for init: a
 * cgroup is found by name from any process (down), its kill is one write
 * that no fork escapes, it adds no process, and the child keeps its PID as
 * the caller sees it. The cost, measured on this kernel: a mkdir and an rmdir
 * per process, 0.05 ms; 300 proc.run{"true"} took 10 to 20 ms each with and
 * without it (the machine's spread is larger than the difference). Where no
 * cgroup2 is mounted (or fwsh may not write to it), processes start as before:
 * their own process group and the parent-death signal, which covers the
 * process and its group but not a fork that left it.
 *
 * The cgroup2 hierarchy is found from /proc/self/mountinfo: its mount point
 * differs (/sys/fs/cgroup, or /sys/fs/cgroup/unified where v1 controllers are
 * mounted too), and a mount hidden under another is skipped by checking the
 * file system's magic. Where every one is hidden (`ip netns exec` and
 * `fwsh --sandbox` mount a sysfs of their own over /sys), fwsh mounts the
 * hierarchy itself, detached (fsmount(2)): the same tree, attached nowhere,
 * so that no mount namespace sees a change; it is reached as /proc/self/fd/N. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/mount.h>

#include "base/clock.h"
#include "internal.h"

#define KILL_WAIT_MS 2000 /* SIGKILLed processes end in microseconds; a stuck one: give up */

static char root[PATH_MAX];
static int root_found; /* 0: not looked for; 1: root holds it; < 0: none */
static char base[PATH_MAX / 2]; /* where labs' cgroups go below root: "" or this process's own */

/* Undoes mountinfo's octal escapes (\040 for a blank) in place. */
static void unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

/* Where this process's labs' cgroups go: below its own cgroup if that is
 * one a fwsh made (its path starts at a fwsh.LAB.NSINO), else at the top. */
static void find_base(void)
{
        char line[sizeof(base)];
        FILE *f = fopen("/proc/self/cgroup", "re");

        base[0] = '\0';
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                size_t n = strcspn(line, "\n");
                if (!line[n]) /* longer than we keep: at the top, then */
                        break;
                line[n] = '\0';
                if (strncmp(line, "0::/fwsh.", 9) == 0)
                        snprintf(base, sizeof(base), "%s", line + 3);
        }
        fclose(f);
}

/* A mount of the cgroup2 hierarchy that no mount namespace shows, for as
 * long as the process lives: root names it. */
static void detached_mount(void)
{
        int fs = (int)syscall(SYS_fsopen, "cgroup2", FSOPEN_CLOEXEC), mnt = -1;

        if (fs < 0)
                return;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
                mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
        close(fs);
        if (mnt < 0)
                return;
        snprintf(root, sizeof(root), "/proc/self/fd/%d", mnt);
        root_found = 1;
}

/* The mount point of a cgroup2 hierarchy this process can reach, or NULL. */
static const char *cgroup2_root(void)
{
        char line[4096];
        FILE *f;

        if (root_found)
                return root_found > 0 ? root : NULL;
        root_found = -ENOENT;
        find_base();
        f = fopen("/proc/self/mountinfo", "re");
        while (f && fgets(line, sizeof(line), f)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
                char *sep = strstr(line, " - "), mnt[PATH_MAX], top[8];
                struct statfs sf;

                /* the whole tree (ROOT /): the paths /proc/self/cgroup gives are from there */
                if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0 ||
                    sscanf(line, "%*s %*s %*s %7s %4095s", top, mnt) != 2 || strcmp(top, "/") != 0)
                        continue;
                unescape(mnt);
                if (statfs(mnt, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC &&
                    strlen(mnt) < sizeof(root) - 64) {
                        snprintf(root, sizeof(root), "%s", strcmp(mnt, "/") ? mnt : "");
                        root_found = 1;
                        break;
                }
        }
        if (f)
                fclose(f);
        if (root_found < 0)
                detached_mount();
        return root_found > 0 ? root : NULL;
}

/* CG2/fwsh.LAB.NSINO into buf; -ENOENT if there is no cgroup2. */
static int lab_path(struct fwsh_ctx *ctx, const char *lab, char *buf, size_t size)
{
        const char *r = cgroup2_root();

        if (!r)
                return -ENOENT;
        snprintf(buf, size, "%s%s/fwsh.%s.%llu", r, base, lab, (unsigned long long)ctx->ns_ino);
        return 0;
}

int lab_cgroup_make(struct fwsh_ctx *ctx, const char *lab, char **ret_path, int *ret_fd)
{
        char dir[PATH_MAX], leaf[PATH_MAX + 32], procs[PATH_MAX + 48];
        int r = lab_path(ctx, lab, dir, sizeof(dir));

        *ret_path = NULL;
        *ret_fd = -1;
        if (r < 0)
                return r;
        for (int tries = 0; tries < 8; tries++) {
                unsigned long long id;

                if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
                        id = (unsigned long long)(fwsh_now_msf() * 1e6) ^
                             ((unsigned long long)getpid() << 40) ^ (unsigned long long)tries;
                snprintf(leaf, sizeof(leaf), "%s/%016llx", dir, id);
                /* The lab's directory may be gone between the two mkdirs: another
                 * process's last leaf went, and it with it. Then again. */
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (mkdir(leaf, 0755) == 0)
                        break;
                if (errno != EEXIST && errno != ENOENT)
                        return -errno;
                leaf[0] = '\0';
        }
        if (!leaf[0])
                return -EEXIST;
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", leaf);
        if ((*ret_fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0 || !(*ret_path = strdup(leaf))) {
                r = *ret_fd < 0 ? -errno : -ENOMEM;
                if (*ret_fd >= 0)
                        close(*ret_fd);
                *ret_fd = -1;
                rmdir(leaf);
                return r;
        }
        return 0;
}

/* Whether the cgroup at path still holds a process (itself or below). */
static bool populated(const char *path)
{
        char file[PATH_MAX + 32], buf[256];
        ssize_t n;
        int fd;

        snprintf(file, sizeof(file), "%s/cgroup.events", path);
        if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        return strstr(buf, "populated 1") != NULL;
}

/* SIGKILL to every process in path's cgroup and below, one by one: for a
 * kernel before cgroup.kill (5.14). Repeats until none is left to fork. */
static void kill_each(const char *path)
{
        char file[PATH_MAX + 32];
        struct dirent *e;
        DIR *d;
        FILE *f;
        long pid;

        snprintf(file, sizeof(file), "%s/cgroup.procs", path);
        if ((f = fopen(file, "re"))) {
                while (fscanf(f, "%ld", &pid) == 1)
                        if (pid > 0)
                                kill((pid_t)pid, SIGKILL);
                fclose(f);
        }
        if (!(d = opendir(path)))
                return;
        while ((e = readdir(d)))
                if (e->d_type == DT_DIR && e->d_name[0] != '.') {
                        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
                        kill_each(file);
                }
        closedir(d);
}

/* Kills what the cgroup at path and its children hold and waits until
 * they have ended. -ETIMEDOUT if one is left. */
static int kill_all(const char *path)
{
        char file[PATH_MAX + 32];
        int64_t deadline = fwsh_now_ms() + KILL_WAIT_MS;
        bool by_file;
        int fd;

        snprintf(file, sizeof(file), "%s/cgroup.kill", path);
        fd = open(file, O_WRONLY | O_CLOEXEC);
        by_file = fd >= 0 && write(fd, "1", 1) == 1;
        if (fd >= 0)
                close(fd);
        for (int step = 1; populated(path); step = step < 16 ? step * 2 : 16) {
                struct timespec ts = { 0, step * 1000000L };

                if (fwsh_now_ms() >= deadline)
                        return -ETIMEDOUT;
                if (!by_file)
                        kill_each(path);
                nanosleep(&ts, NULL);
        }
        return 0;
}

/* Removes the (emptied) cgroup at path with the leaves under it. */
static int remove_tree(const char *path)
{
        char sub[PATH_MAX + 32];
        struct dirent *e;
        DIR *d = opendir(path);

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((e = readdir(d)))
                if (e->d_type == DT_DIR && e->d_name[0] != '.') {
                        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                        remove_tree(sub);
                }
        closedir(d);
        return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

int lab_cgroup_end(const char *leaf)
{
        char dir[PATH_MAX];
        char *slash;
        int r;

        if (!leaf)
                return 0;
        r = kill_all(leaf);
        if (r == 0)
                r = remove_tree(leaf); /* with the cgroups a fwsh it ran made below it */
        /* and the lab's directory, if that was its last leaf (else EBUSY: kept) */
        snprintf(dir, sizeof(dir), "%s", leaf);
        if ((slash = strrchr(dir, '/')))
                *slash = '\0';
        rmdir(dir);
        return r;
}

/* Kills and removes the cgroup of lab at dir, if there is one. */
static int down_one(struct fwsh_ctx *ctx, const char *dir)
{
        int r;

        if (access(dir, F_OK) < 0)
                return 0;
        r = kill_all(dir);
        if (r < 0)
                return ctx_fail(ctx, r, "%s: a process is still running after SIGKILL", dir);
        r = remove_tree(dir);
        return r < 0 ? ctx_fail(ctx, r, "rmdir %s: %s", dir, strerror(-r)) : 0;
}

int lab_cgroup_down(struct fwsh_ctx *ctx, const char *lab)
{
        char dir[sizeof(root) + FWSH_LAB_MAX + 32];
        int r;

        if (ctx->plan || lab_path(ctx, lab, dir, sizeof(dir)) < 0)
                return 0;
        r = down_one(ctx, dir);
        /* A down run by a process of a lab (below its cgroup) also takes the lab's at the top. */
        if (base[0] && r == 0) {
                snprintf(dir, sizeof(dir), "%s/fwsh.%s.%llu", root, lab,
                         (unsigned long long)ctx->ns_ino);
                r = down_one(ctx, dir);
        }
        return r;
}
