/* nft.c - nftables rulesets through libnftables, in a given namespace: the
 * same language as nft(8), without running nft. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "base/dlib.h"
#include "internal.h"

#define NFT_SYMBOLS(X) \
        X(nft_ctx_new) \
        X(nft_ctx_free) \
        X(nft_ctx_output_get_flags) \
        X(nft_ctx_output_set_flags) \
        X(nft_ctx_buffer_output) \
        X(nft_ctx_buffer_error) \
        X(nft_run_cmd_from_buffer) \
        X(nft_ctx_get_error_buffer) \
        X(nft_ctx_get_output_buffer)

NFT_SYMBOLS(DLIB_SYM)
static const struct dlib_sym NFT_SYMS[] = { NFT_SYMBOLS(DLIB_ARG) { NULL, NULL } };
static struct dlib nftables = { "libnftables.so.1", NFT_SYMS, NULL };

/* nft's error text, on one line, as ctx's detail. */
static int nft_fail(struct fwsh_ctx *ctx, const char *text)
{
        char buf[FWSH_DETAIL_MAX];
        size_t n = 0;

        for (const char *p = text ? text : ""; *p && n + 1 < sizeof(buf); p++) {
                if (*p == '\n') {
                        if (p[1] && n && buf[n - 1] != ' ')
                                buf[n++] = ' ';
                        continue;
                }
                buf[n++] = *p;
        }
        buf[n] = '\0';
        return ctx_fail(ctx, -EINVAL, "%s", n ? buf : "nft refused the commands");
}

/* fwsh_effect for nft commands: `nft -f -` given them on standard input. */
static int shown(struct fwsh_ctx *ctx, const char *netns_name, const char *cmds)
{
        size_t len = strlen(cmds);
        struct fwsh_line l = { .len = 0 };

        if (!fwsh_effect_shown(ctx))
                return 0;
        if (netns_name) {
                fwsh_line_add(&l, "ip netns exec");
                fwsh_line_word(&l, netns_name);
        }
        if (strstr(cmds, "FWSH_EOF")) {
                fwsh_line_add(&l, "%snft -f - # (%zu bytes of commands)", l.len ? " " : "", len);
        } else {
                fwsh_line_add(&l, "%snft -f - <<'FWSH_EOF'\n%s%sFWSH_EOF", l.len ? " " : "", cmds,
                              len && cmds[len - 1] == '\n' ? "" : "\n");
        }
        return fwsh_effect_line(ctx, &l);
}

int fwsh_nft_run(struct fwsh_ctx *ctx, int netns_fd, const char *netns_name, const char *cmds, bool json,
                 char **ret_output)
{
        struct nft_ctx *nft;
        const char *out;
        char *copy = NULL;
        int saved = -1, r;

        ctx_clear(ctx);
        if (shown(ctx, netns_fd >= 0 ? netns_name : NULL, cmds) > 0) {
                /* A plan: nft is not in its model, so it prints nothing. */
                if (ret_output && !(*ret_output = strdup("")))
                        return -ENOMEM;
                return 0;
        }
        if ((r = dlib_open(ctx, &nftables)) < 0)
                return r;
        /* libnftables opens its netlink socket in the namespace it is created in. */
        if (netns_fd >= 0 && (r = fwsh_netns_enter(netns_fd, &saved)) < 0)
                return ctx_fail(ctx, r, "entering the namespace");
        nft = sym_nft_ctx_new(NFT_CTX_DEFAULT);
        if (!nft) {
                r = -ENOMEM;
                goto out;
        }
        if (json)
                sym_nft_ctx_output_set_flags(nft, sym_nft_ctx_output_get_flags(nft) | NFT_CTX_OUTPUT_JSON);
        if (sym_nft_ctx_buffer_output(nft) < 0 || sym_nft_ctx_buffer_error(nft) < 0) {
                r = -ENOMEM;
                goto out;
        }
        if (sym_nft_run_cmd_from_buffer(nft, cmds) != 0) {
                r = nft_fail(ctx, sym_nft_ctx_get_error_buffer(nft));
                goto out;
        }
        out = sym_nft_ctx_get_output_buffer(nft);
        if (ret_output && !(copy = strdup(out ? out : ""))) {
                r = -ENOMEM;
                goto out;
        }
        if (ret_output)
                *ret_output = copy;
        r = 0;
out:
        if (nft)
                sym_nft_ctx_free(nft);
        if (saved >= 0 && fwsh_netns_leave(saved) < 0 && r == 0)
                r = ctx_fail(ctx, -EIO, "cannot return to the namespace it left");
        return r;
}
