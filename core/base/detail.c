/* detail.c - why the last call on a context failed, in words: every group
 * reports through here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *fwsh_ctx_detail(const struct fwsh_ctx *ctx)
{
        return ctx ? ctx->detail : "";
}

int ctx_fail(struct fwsh_ctx *ctx, int err, const char *fmt, ...)
{
        char detail[FWSH_DETAIL_MAX];
        va_list ap;

        if (ctx) {
                /* Through a copy: callers may pass ctx->detail itself as an argument. */
                va_start(ap, fmt);
                vsnprintf(detail, sizeof(detail), fmt, ap);
                va_end(ap);
                memcpy(ctx->detail, detail, sizeof(detail));
        }
        return err;
}

void ctx_clear(struct fwsh_ctx *ctx)
{
        ctx->detail[0] = '\0';
        ctx->kernel_err = 0;
}
