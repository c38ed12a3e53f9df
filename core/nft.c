/* nft.c - nftables rulesets through libnftables, in a given namespace: the
 * same language as nft(8), without running nft. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "internal.h"

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

int fwsh_nft_run(struct fwsh_ctx *ctx, int netns_fd, const char *cmds, bool json, char **ret_output)
{
        struct nft_ctx *nft;
        const char *out;
        char *copy = NULL;
        int saved = -1, r;

        ctx_clear(ctx);
        /* libnftables opens its netlink socket in the namespace it is created in. */
        if (netns_fd >= 0 && (r = fwsh_netns_enter(netns_fd, &saved)) < 0)
                return ctx_fail(ctx, r, "entering the namespace");
        nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!nft) {
                r = -ENOMEM;
                goto out;
        }
        if (json)
                nft_ctx_output_set_flags(nft, nft_ctx_output_get_flags(nft) | NFT_CTX_OUTPUT_JSON);
        if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0) {
                r = -ENOMEM;
                goto out;
        }
        if (nft_run_cmd_from_buffer(nft, cmds) != 0) {
                r = nft_fail(ctx, nft_ctx_get_error_buffer(nft));
                goto out;
        }
        out = nft_ctx_get_output_buffer(nft);
        if (ret_output && !(copy = strdup(out ? out : ""))) {
                r = -ENOMEM;
                goto out;
        }
        if (ret_output)
                *ret_output = copy;
        r = 0;
out:
        if (nft)
                nft_ctx_free(nft);
        if (saved >= 0 && fwsh_netns_leave(saved) < 0 && r == 0)
                r = ctx_fail(ctx, -EIO, "cannot return to the namespace it left");
        return r;
}
