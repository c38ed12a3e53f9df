/* port.c - links as ports of a bridge: brctl addif / delif. See ip-link(8) "master". */
#include <errno.h>
#include <string.h>

#include "internal.h"

int fwsh_port_attach(struct fwsh_ctx *ctx, const char *bridge, const char *port)
{
        struct fwsh_link_set set = FWSH_LINK_SET_INIT;
        struct fwsh_link br, p;
        int r = fwsh_link_get(ctx, bridge, &br);

        if (r < 0)
                return ctx_fail(ctx, r, "bridge %s: %s", bridge,
                                r == -ENODEV ? "no such link" : ctx->detail);
        if (!link_kind_find(br.kind)->ports)
                return ctx_fail(ctx, -EINVAL, "%s is a %s, not a bridge", bridge,
                                br.kind[0] ? br.kind : "plain link");
        r = fwsh_link_get(ctx, port, &p);
        if (r < 0)
                return ctx_fail(ctx, r, "port %s: %s", port,
                                r == -ENODEV ? "no such link" : ctx->detail);
        if (p.ifindex == br.ifindex)
                return ctx_fail(ctx, -EINVAL, "a bridge cannot be a port of itself");
        if (p.master == br.ifindex)
                return 0;
        if (p.master) {
                struct fwsh_link other;
                if (fwsh_link_get_index(ctx, p.master, &other) < 0)
                        other.name[0] = '\0';
                return ctx_fail(ctx, -EBUSY, "%s is a port of %s already", port,
                                other.name[0] ? other.name : "another bridge");
        }
        set.master = br.ifindex;
        return fwsh_link_set(ctx, port, &set);
}

int fwsh_port_detach(struct fwsh_ctx *ctx, const char *port)
{
        struct fwsh_link_set set = FWSH_LINK_SET_INIT;
        struct fwsh_link p;
        int r = fwsh_link_get(ctx, port, &p);

        if (r < 0)
                return r;
        if (!p.master)
                return ctx_fail(ctx, -EINVAL, "%s is not a port of any bridge", port);
        set.master = 0;
        return fwsh_link_set(ctx, port, &set);
}
