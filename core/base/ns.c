/* ns.c - the calling thread's network namespace: which one it is in, moving it
 * (every move goes through here), and the named ones in /run/netns it opens. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The namespace the thread is in, known until fwsh moves it (every move goes
 * through netns.c, which calls ctx_thread_moved). */
static _Thread_local struct {
        bool known;
        dev_t dev;
        ino_t ino;
} here;

void ctx_thread_moved(void)
{
        here.known = false;
}

/* Whether the calling thread is in ctx's namespace right now. */
static bool is_current(const struct fwsh_ctx *ctx)
{
        struct stat st;

        if (!here.known) {
                if (stat("/proc/thread-self/ns/net", &st) < 0)
                        return false;
                here.dev = st.st_dev;
                here.ino = st.st_ino;
                here.known = true;
        }
        return here.dev == ctx->ns_dev && here.ino == ctx->ns_ino;
}

int ctx_enter(struct fwsh_ctx *ctx, int *saved)
{
        *saved = -1;
        if (is_current(ctx))
                return 0;
        return fwsh_netns_enter(ctx->nsfd, saved);
}

void ctx_leave(int saved)
{
        if (saved >= 0)
                fwsh_netns_leave(saved);
}

int fwsh_netns_enter(int fd, int *ret_saved)
{
        int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

        if (saved < 0)
                return -errno;
        ctx_thread_moved();
        if (setns(fd, CLONE_NEWNET) < 0) {
                int r = -errno;
                close(saved);
                return r;
        }
        *ret_saved = saved;
        return 0;
}

int fwsh_netns_leave(int saved)
{
        int r;

        ctx_thread_moved();
        r = setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;

        close(saved);
        return r;
}

void netns_path(char *buf, size_t size, const char *name)
{
        snprintf(buf, size, NETNS_RUN_DIR "/%s", name);
}

int fwsh_netns_open(struct fwsh_ctx *ctx, const char *name, int *ret_fd)
{
        char path[sizeof(NETNS_RUN_DIR) + FWSH_NETNS_NAME_MAX + 2];
        int fd, r = fwsh_netns_check(ctx, name);

        if (r < 0)
                return r;
        netns_path(path, sizeof(path), name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? ctx_fail(ctx, -ENOENT, "no namespace %s", name)
                                       : ctx_fail(ctx, -errno, "%s%s", path,
                                                  errno == EPERM || errno == EACCES ?
                                                  " needs CAP_SYS_ADMIN" : "");
        *ret_fd = fd;
        return 0;
}

int ns_call(struct fwsh_ctx *ctx, const char *name, int (*fn)(void *arg), void *arg)
{
        int fd, saved, r = fwsh_netns_open(ctx, name, &fd);

        if (r < 0)
                return r;
        r = fwsh_netns_enter(fd, &saved);
        close(fd);
        if (r < 0)
                return r;
        r = fn(arg);
        fwsh_netns_leave(saved);
        return r;
}
