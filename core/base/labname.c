/* labname.c - a lab's name, and what is derived from it: its tag (the ifalias
 * "fwsh:LAB" of what it made) and its link group. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

uint32_t name_hash(const char *s)
{
        uint32_t h = 2166136261u; /* FNV-1a */

        while (*s)
                h = (h ^ (uint8_t)*s++) * 16777619u;
        return h;
}

uint32_t fwsh_lab_group(const char *lab)
{
        /* Into a range `ip link set group` users rarely pick. */
        return 0x40000000u | (name_hash(lab) & 0x3fffffffu);
}

int lab_name_check(struct fwsh_ctx *ctx, const char *lab)
{
        size_t n = strlen(lab);

        if (n == 0 || n > FWSH_LAB_MAX)
                return ctx_fail(ctx, -EINVAL, "a lab name has 1 to %d bytes", FWSH_LAB_MAX);
        if (lab[0] == '-')
                return ctx_fail(ctx, -EINVAL, "a lab name does not start with '-'");
        if (strspn(lab, FWSH_LAB_CHARS) != n)
                return ctx_fail(ctx, -EINVAL, "a lab name has only letters, digits, '.', '_' and '-'");
        return 0;
}

const char *fwsh_alias_lab(const char *alias)
{
        size_t n = sizeof(FWSH_TAG_PREFIX) - 1;

        if (strncmp(alias, FWSH_TAG_PREFIX, n) != 0 || !alias[n] || strlen(alias + n) > FWSH_LAB_MAX)
                return NULL;
        return alias + n;
}

void lab_tag(const struct fwsh_ctx *ctx, char *buf, size_t size)
{
        size_t n = sizeof(FWSH_TAG_PREFIX) - 1 < size ? sizeof(FWSH_TAG_PREFIX) - 1 : size - 1;

        memcpy(buf, FWSH_TAG_PREFIX, n);
        fwsh_strcpy(buf + n, size - n, ctx->lab);
}
