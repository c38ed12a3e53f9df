/* effect.c - side effects that are not the backend's network objects: files
 * written or removed, programs run, nft commands, module loads, firewalld
 * calls, lab directories made or removed. Each asks here first, so that the
 * one decision a plan makes for links (change.c) holds for them too: in a
 * plan (--dry-run) the effect is given to it as the shell line that would make
 * it, and the caller makes nothing; otherwise the line is explained if the
 * session asked (--explain) and the caller goes on. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

bool fwsh_ctx_planned(const struct fwsh_ctx *ctx)
{
        return ctx && ctx->plan;
}

bool fwsh_effect_shown(const struct fwsh_ctx *ctx)
{
        return ctx && (ctx->plan || ctx->explain);
}

int fwsh_effect(struct fwsh_ctx *ctx, const char *lines)
{
        if (!ctx)
                return 0;
        if (ctx->explain)
                ctx->explain(ctx->explain_arg, lines);
        return ctx->plan ? 1 : 0;
}

void fwsh_line_add(struct fwsh_line *l, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (l->len >= sizeof(l->buf) - 1) {
                l->truncated = true;
                return;
        }
        va_start(ap, fmt);
        n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(l->buf) - l->len) {
                l->len = sizeof(l->buf) - 1;
                l->truncated = true;
        } else {
                l->len += (size_t)n;
        }
}

void fwsh_line_word(struct fwsh_line *l, const char *s)
{
        const char *sep = l->len && l->buf[l->len - 1] != '\n' ? " " : "";

        if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                            "@%+=:,./_-") == strlen(s)) {
                fwsh_line_add(l, "%s%s", sep, s);
                return;
        }
        fwsh_line_add(l, "%s'", sep);
        for (; *s; s++) {
                if (*s == '\'')
                        fwsh_line_add(l, "%s", "'\\''");
                else
                        fwsh_line_add(l, "%c", *s);
        }
        fwsh_line_add(l, "'");
}

int fwsh_effect_line(struct fwsh_ctx *ctx, struct fwsh_line *l)
{
        /* A line cut short would be a different command: say so instead. */
        if (l->truncated)
                return fwsh_effect(ctx, "# (a command too long to show)");
        return fwsh_effect(ctx, l->buf);
}

int fwsh_effect_argv(struct fwsh_ctx *ctx, const char *netns, const char *const *argv, const char *tail)
{
        struct fwsh_line l = { .len = 0 };

        if (!fwsh_effect_shown(ctx))
                return 0;
        if (netns && *netns) {
                fwsh_line_add(&l, "ip netns exec");
                fwsh_line_word(&l, netns);
        }
        for (size_t i = 0; argv[i]; i++)
                fwsh_line_word(&l, argv[i]);
        if (tail)
                fwsh_line_add(&l, "%s", tail);
        return fwsh_effect_line(ctx, &l);
}

int fwsh_effect_write(struct fwsh_ctx *ctx, const char *path, const char *text, size_t len)
{
        struct fwsh_line l = { .len = 0 };
        const char *end = "FWSH_EOF";

        if (!fwsh_effect_shown(ctx))
                return 0;
        /* A here-document, unless the text could end it early, is not text,
         * or is too long to show whole. */
        if (memchr(text, '\0', len) || memmem(text, len, end, strlen(end)) ||
            (len && text[len - 1] != '\n') || len > sizeof(l.buf) / 2) {
                fwsh_line_add(&l, "# write %zu bytes to", len);
                fwsh_line_word(&l, path);
                return fwsh_effect_line(ctx, &l);
        }
        fwsh_line_add(&l, "cat >");
        fwsh_line_word(&l, path);
        fwsh_line_add(&l, " <<'%s'\n%.*s%s", end, (int)len, text, end);
        return fwsh_effect_line(ctx, &l);
}

int fwsh_effect_remove(struct fwsh_ctx *ctx, const char *path, bool dir)
{
        struct fwsh_line l = { .len = 0 };

        if (!fwsh_effect_shown(ctx))
                return 0;
        fwsh_line_add(&l, dir ? "rm -r --one-file-system --" : "rm -f --");
        fwsh_line_word(&l, path);
        return fwsh_effect_line(ctx, &l);
}
