/* sandbox.c - fwsh --sandbox: a private network and mount namespace, so that a
 * script can build its lab without touching the host's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/mount.h>

#include "fwsh.h"
#include "repl.h"

/* Makes path (and every mount below it) read-only in this mount namespace:
 * a bind of itself, then the read-only attribute on the whole tree. 0 also
 * when there is no path. */
static int read_only(const char *path)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        struct stat st;

        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        /* A kernel older than 5.12: the top mount only. */
        return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0 ? -errno : 0;
}

int sandbox_enter(const char **ret_step)
{
        struct fwsh_link_set up = FWSH_LINK_SET_INIT;
        struct fwsh_ctx *ctx = NULL;
        int r;

        *ret_step = "unshare(CLONE_NEWNET|CLONE_NEWNS) (needs CAP_SYS_ADMIN)";
        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
                return -errno;
        /* Nothing mounted from here on is seen outside. */
        *ret_step = "making / a private mount";
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        /* The host's configuration and boot files are not the sandbox's to
         * change (boot.persist, a script's io.open): read-only here. A script
         * that sets up boot files in a sandbox gives them a root of their own
         * (fwsh.boot's root=, host-setup.lua --root DIR) outside these. */
        *ret_step = "making /etc read-only";
        if ((r = read_only("/etc")) < 0) {
                errno = -r;
                return r;
        }
        *ret_step = "making /boot read-only";
        if ((r = read_only("/boot")) < 0) {
                errno = -r;
                return r;
        }
        /* /sys/class/net shows the namespace that mounted sysfs: mount ours. */
        mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        /* Named namespaces the script makes live and die with the sandbox. */
        *ret_step = "mounting a tmpfs on /run/netns";
        if (mkdir("/run/netns", 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mount("fwsh-sandbox", "/run/netns", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=755") < 0)
                return -errno;
        /* and so do the intent records of the links it makes (core/net/intent.c):
         * a sandbox killed takes its links with it, and must not leave these. */
        *ret_step = "mounting a tmpfs on /run/fwsh";
        if (mkdir("/run/fwsh", 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mount("fwsh-sandbox", "/run/fwsh", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=755") < 0)
                return -errno;
        /* and the lab's state directories (fwsh.lab_dir) with them */
        *ret_step = "mkdir /run/fwsh/labs";
        if (mkdir("/run/fwsh/labs", 0755) < 0 && errno != EEXIST)
                return -errno;
        setenv("FWSH_LAB_ROOT", "/run/fwsh/labs", 1);
        *ret_step = "bringing lo up";
        up.up = 1;
        r = fwsh_ctx_open(&ctx);
        if (r == 0)
                r = fwsh_link_set(ctx, "lo", &up);
        fwsh_ctx_unref(ctx);
        if (r < 0)
                errno = -r;
        return r;
}
