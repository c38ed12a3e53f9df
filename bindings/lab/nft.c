/* nft.c - fwsh.nft: nftables commands through libnftables, here or in a named
 * namespace. */
#include <stdlib.h>
#include <unistd.h>

#include "fwsh_lua.h"

/*** fwsh.nft.run(commands [, {netns=NAME, json=false}]) -> output: runs nft(8)
 * commands (a ruleset file's text) as one transaction, in the namespace given
 * or the current one; returns what nft printed ("" for most changes, the
 * ruleset for "list ruleset", JSON text with json=true). Raises with nft's own
 * message if it refuses, and then nothing of it is applied. @see nft(8) */
static int l_run(lua_State *L)
{
        static const char *const known[] = { "netns", "json", NULL };
        const char *cmds = lfwsh_check_str(L, 1), *ns;
        struct fwsh_ctx *ctx;
        char *out = NULL;
        bool json;
        int fd = -1, r;

        lfwsh_check_fields(L, 2, known);
        ns = lfwsh_opt_string(L, 2, "netns", NULL);
        json = lfwsh_opt_bool(L, 2, "json", false);
        ctx = lfwsh_ctx(L);
        if (ns)
                lfwsh_check(L, ctx, fwsh_netns_open(ctx, ns, &fd), "nft.run", ns);
        r = fwsh_nft_run(ctx, fd, ns, cmds, json, &out);
        if (fd >= 0)
                close(fd);
        lfwsh_check(L, ctx, r, "nft.run", ns ? ns : "(here)");
        lua_pushstring(L, out);
        free(out);
        return 1;
}

static const luaL_Reg fns[] = { { "run", l_run }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_nft = { .field = "nft", .fns = fns };
