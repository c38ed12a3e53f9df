/* kernel.c - the kernel backend: each change made by the primitive file of its
 * kind (link.c, tap.c, addr.c, ...), and contexts opened on it. */
#include <errno.h>

#include "internal.h"

static int kernel_apply(struct fwsh_ctx *ctx, const struct change *ch)
{
        switch (ch->op) {
        case CH_LINK_NEW:
                return link_kernel_new(ctx, ch);
        case CH_LINK_SET:
                return link_kernel_set(ctx, ch);
        case CH_LINK_DEL:
                return link_kernel_del(ctx, ch);
        case CH_TAP_NEW:
                return tap_kernel_new(ctx, ch);
        case CH_ADDR_NEW:
        case CH_ADDR_DEL:
                return addr_kernel(ctx, ch);
        case CH_ROUTE_NEW:
        case CH_ROUTE_DEL:
                return route_kernel(ctx, ch);
        case CH_NETNS_NEW:
        case CH_NETNS_DEL:
                return netns_kernel(ctx, ch);
        case CH_SYSCTL:
                return sysctl_kernel(ctx, ch);
        case CH_IMPAIR:
                return impair_kernel(ctx, ch);
        }
        return -EINVAL;
}

const struct backend kernel_backend = {
        .name = "kernel",
        .apply = kernel_apply,
        .render = change_render,
        .identify = change_identify,
        /* queries: none of its own; each entry point asks the kernel */
};

int fwsh_ctx_open(struct fwsh_ctx **ret_ctx)
{
        return ctx_open(&kernel_backend, ret_ctx);
}
