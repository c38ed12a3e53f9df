/* identify.c - what a creation made, by its identity: the backends' identify,
 * which change_apply calls right after a creation to complete its inverse. A
 * name is only a name: by the time of a rollback, ours may be gone and the
 * name another's. An ifindex is the link's own in its namespace; a namespace's
 * own is its cookie (SO_NETNS_COOKIE), never given twice while the system
 * runs, where its nsfs inode number is given again to the next namespace as
 * soon as it is freed. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int netns_cookie_here(uint64_t *ret)
{
        socklen_t len = sizeof(*ret);
        int sk = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

        if (sk < 0)
                return -errno;
        if (getsockopt(sk, SOL_SOCKET, SO_NETNS_COOKIE, ret, &len) < 0)
                r = -errno;
        close(sk);
        return r;
}

static int cookie_here(void *ret)
{
        return netns_cookie_here(ret);
}

int netns_cookie(struct fwsh_ctx *ctx, const char *name, uint64_t *ret)
{
        return ns_call(ctx, name, cookie_here, ret);
}

int fwsh_netns_id(struct fwsh_ctx *ctx, const char *name, uint64_t *ret)
{
        int r = fwsh_netns_check(ctx, name);

        *ret = 0;
        if (r < 0 || ctx->plan)
                return r;
        r = netns_cookie(ctx, name, ret);
        return r == -ENOPROTOOPT ? 0 : r;
}

int fwsh_netns_delete_made(struct fwsh_ctx *ctx, const char *name, uint64_t id)
{
        struct change ch;
        int r = fwsh_netns_check(ctx, name);

        if (r < 0)
                return r;
        change_init(&ch, CH_NETNS_DEL, name);
        ch.ns_cookie = id;
        r = change_apply(ctx, &ch, NULL); /* its contents cannot be brought back */
        if (r == -EPERM || r == -ENOENT) {
                ctx_clear(ctx);
                return 0;
        }
        return r < 0 ? r : 1;
}

int change_identify(struct fwsh_ctx *ctx, const struct change *ch, struct change *inverse)
{
        int r;

        if (inverse->op == CH_LINK_DEL && inverse->ifindex <= 0) {
                /* Just made and tagged under an intent record: still ours. */
                if ((r = fwsh_link_index(ctx, inverse->name)) < 0)
                        return r;
                inverse->ifindex = r;
        } else if (inverse->op == CH_NETNS_DEL && ch->op == CH_NETNS_NEW && !ctx->plan) {
                r = netns_cookie(ctx, inverse->name, &inverse->ns_cookie);
                /* A kernel before 5.14 has no cookie: by name, as before. */
                if (r == -ENOPROTOOPT)
                        inverse->ns_cookie = 0;
                else if (r < 0)
                        return r;
        }
        return 0;
}
