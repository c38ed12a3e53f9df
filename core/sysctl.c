/* sysctl.c - /proc/sys, which shows the namespace of the thread that opens it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int sysctl_open(const char *path, int flags)
{
        char full[192];

        if (strstr(path, ".."))
                return -EINVAL;
        snprintf(full, sizeof(full), "/proc/sys/%s", path);
        int fd = open(full, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int sysctl_read(const char *path, char *buf, size_t size)
{
        int fd = sysctl_open(path, O_RDONLY);
        ssize_t n;

        if (fd < 0)
                return fd;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        return 0;
}

int sysctl_write(const char *path, const char *value)
{
        int fd = sysctl_open(path, O_WRONLY);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return fd;
        n = write(fd, value, len);
        int r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
        close(fd);
        return r;
}

int sysctl_kernel(struct fwsh_ctx *ctx, const struct change *ch)
{
        int saved, r = ctx_enter(ctx, &saved);

        if (r < 0)
                return ctx_fail(ctx, r, "cannot enter the namespace: %s", strerror(-r));
        r = sysctl_write(ch->sysctl.path, ch->sysctl.value);
        ctx_leave(saved);
        if (r == -EACCES || r == -EPERM)
                return ctx_fail(ctx, r, "writing /proc/sys/%s needs CAP_NET_ADMIN", ch->sysctl.path);
        if (r < 0)
                return ctx_fail(ctx, r, "/proc/sys/%s", ch->sysctl.path);
        return 0;
}

int ipv6_disabled(struct fwsh_ctx *ctx, const char *name)
{
        char path[96], buf[16];
        int saved, r;

        if (ctx->plan)
                return plan_ipv6_disabled(ctx, name);
        r = ctx_enter(ctx, &saved);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "net/ipv6/conf/%s/disable_ipv6", name);
        r = sysctl_read(path, buf, sizeof(buf));
        ctx_leave(saved);
        if (r == -ENOENT)
                return 1; /* no IPv6 in this kernel */
        return r < 0 ? r : strcmp(buf, "0") != 0;
}
