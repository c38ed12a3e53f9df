/* identify.c - what a creation made, by its identity: the backends' identify,
 * which change_apply calls right after a creation to complete its inverse. A
 * name is only a name: by the time of a rollback, ours may be gone and the
 * name another's. An ifindex and a namespace's inode are the object's own. */
#include <errno.h>
#include <sys/stat.h>

#include "internal.h"

int change_identify(struct fwsh_ctx *ctx, const struct change *ch, struct change *inverse)
{
        char path[sizeof(NETNS_RUN_DIR) + FWSH_NETNS_NAME_MAX + 2];
        struct stat st;
        int r;

        if (inverse->op == CH_LINK_DEL && inverse->ifindex <= 0) {
                /* Just made and tagged under an intent record: still ours. */
                if ((r = fwsh_link_index(ctx, inverse->name)) < 0)
                        return r;
                inverse->ifindex = r;
        } else if (inverse->op == CH_NETNS_DEL && ch->op == CH_NETNS_NEW && !ctx->plan) {
                /* The bind mount of the namespace: its nsfs inode, not the file's. */
                netns_path(path, sizeof(path), inverse->name);
                if (stat(path, &st) < 0)
                        return -errno;
                inverse->ns_dev = st.st_dev;
                inverse->ns_ino = st.st_ino;
        }
        return 0;
}
