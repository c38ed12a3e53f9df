/* ctx.c - a context: one netlink socket and one handle per network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static int open_current_ns(int *ret_fd, struct stat *ret_st)
{
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int ctx_open(const struct backend *backend, struct fwsh_ctx **ret_ctx)
{
        struct fwsh_ctx *ctx = calloc(1, sizeof(*ctx));
        struct stat st;
        int one = 1, r;

        if (!ctx)
                return -ENOMEM;
        ctx->refs = 1;
        ctx->nsfd = -1;
        ctx->backend = backend;
        snprintf(ctx->lab, sizeof(ctx->lab), "default");

        r = open_current_ns(&ctx->nsfd, &st);
        if (r < 0)
                goto fail;
        ctx->ns_dev = st.st_dev;
        ctx->ns_ino = st.st_ino;

        ctx->sk = nl_socket_alloc();
        if (!ctx->sk) {
                r = -ENOMEM;
                goto fail;
        }
        errno = 0;
        r = nl_connect(ctx->sk, NETLINK_ROUTE);
        if (r < 0) {
                /* libnl has no code for EMFILE, ENFILE and others (NLE_FAILURE,
                 * which would read EIO): the system's errno says it */
                int saved = errno;
                r = -nle_to_errno(-r);
                if (r == -EIO && saved > 0)
                        r = -saved;
                goto fail;
        }
        /* Ask for the kernel's reasons in words, and only the header of our
         * request back in error messages. */
        setsockopt(nl_socket_get_fd(ctx->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        setsockopt(nl_socket_get_fd(ctx->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        nl_socket_set_buffer_size(ctx->sk, 1 << 20, 1 << 20);
        /* One recvmsg per message, not a peek first: a buffer as large as the
         * kernel makes a dump's messages for a reader that offers it. */
        nl_socket_disable_msg_peek(ctx->sk);
        nl_socket_set_msg_buf_size(ctx->sk, 32768);
        *ret_ctx = ctx;
        return 0;
fail:
        fwsh_ctx_unref(ctx);
        return r;
}

struct fwsh_ctx *fwsh_ctx_ref(struct fwsh_ctx *ctx)
{
        if (ctx)
                ctx->refs++;
        return ctx;
}

struct fwsh_ctx *fwsh_ctx_unref(struct fwsh_ctx *ctx)
{
        if (!ctx || --ctx->refs > 0)
                return NULL;
        if (ctx->sk)
                nl_socket_free(ctx->sk);
        if (ctx->nsfd >= 0)
                close(ctx->nsfd);
        /* What the groups above hung on it: a plan's model, a batch still open
         * (nothing of it was made). */
        if (ctx->plan_drop)
                ctx->plan_drop(ctx);
        if (ctx->batch_drop)
                ctx->batch_drop(ctx);
        free(ctx);
        return NULL;
}

int fwsh_ctx_set_lab(struct fwsh_ctx *ctx, const char *lab)
{
        int r;

        if (strcmp(ctx->lab, lab) == 0) /* ctx->lab is valid: every binding call sets it */
                return 0;
        if ((r = lab_name_check(ctx, lab)) < 0)
                return r;
        memcpy(ctx->lab, lab, strlen(lab) + 1);
        return 0;
}

const char *fwsh_ctx_lab(const struct fwsh_ctx *ctx)
{
        return ctx->lab;
}

void fwsh_ctx_set_journal(struct fwsh_ctx *ctx, struct fwsh_journal *j)
{
        ctx->journal = j;
}

bool fwsh_ctx_same_netns(const struct fwsh_ctx *a, const struct fwsh_ctx *b)
{
        return a->ns_dev == b->ns_dev && a->ns_ino == b->ns_ino;
}

void fwsh_ctx_set_explain(struct fwsh_ctx *ctx, void (*fn)(void *arg, const char *lines), void *arg)
{
        ctx->explain = fn;
        ctx->explain_arg = arg;
}

void fwsh_ctx_set_netns_name(struct fwsh_ctx *ctx, const char *name)
{
        snprintf(ctx->ns_name, sizeof(ctx->ns_name), "%s", name ? name : "");
}
