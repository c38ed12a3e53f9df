/* sysctl.c - a namespace's /proc/sys as a change (CH_SYSCTL), and the one
 * switch the net objects read back: net.ipv6.conf.NAME.disable_ipv6. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

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

        if (ctx->backend->ipv6_disabled)
                return ctx->backend->ipv6_disabled(ctx, name);
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
