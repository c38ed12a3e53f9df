/* name.c - what the kernel accepts as a link name, checked before asking it. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "internal.h"

int fwsh_name_check(struct fwsh_ctx *ctx, const char *name)
{
        size_t n = strlen(name);

        if (n == 0)
                return ctx_fail(ctx, -EINVAL, "empty name");
        if (n > FWSH_NAME_MAX)
                return ctx_fail(ctx, -EINVAL, "name is %zu bytes, the limit is %d", n, FWSH_NAME_MAX);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return ctx_fail(ctx, -EINVAL, "'.' and '..' are not names");
        for (const char *p = name; *p; p++) {
                if (*p == '/' || *p == ':')
                        return ctx_fail(ctx, -EINVAL, "name has a '%c'", *p);
                if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
                        return ctx_fail(ctx, -EINVAL, "name has white space or a control character");
        }
        return 0;
}

void fwsh_strcpy(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

int fwsh_netns_check(struct fwsh_ctx *ctx, const char *name)
{
        size_t n = strlen(name);

        if (n == 0)
                return ctx_fail(ctx, -EINVAL, "empty name");
        if (n > FWSH_NETNS_NAME_MAX)
                return ctx_fail(ctx, -EINVAL, "name is %zu bytes, the limit is %d", n,
                                FWSH_NETNS_NAME_MAX);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
                return ctx_fail(ctx, -EINVAL, "a namespace name is a file name: no '/', '.' or '..'");
        for (const char *p = name; *p; p++)
                if (*p <= ' ' || *p == 0x7f)
                        return ctx_fail(ctx, -EINVAL, "name has white space or a control character");
        return 0;
}
