/* nl.c - talking rtnetlink through libnl-3, keeping the kernel's own errno
 * (libnl merges several into one NLE_* code) and its extended-ack text. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "internal.h"

int nle_to_errno(int nle)
{
        static const int map[] = {
                [NLE_SUCCESS] = 0,          [NLE_INTR] = EINTR,
                [NLE_BAD_SOCK] = EBADF,     [NLE_AGAIN] = EAGAIN,
                [NLE_NOMEM] = ENOMEM,       [NLE_EXIST] = EEXIST,
                [NLE_INVAL] = EINVAL,       [NLE_RANGE] = ERANGE,
                [NLE_MSGSIZE] = EMSGSIZE,   [NLE_OPNOTSUPP] = EOPNOTSUPP,
                [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
                [NLE_OBJ_NOTFOUND] = ENOENT, [NLE_NOATTR] = ENODATA,
                [NLE_MISSING_ATTR] = EINVAL, [NLE_AF_MISMATCH] = EAFNOSUPPORT,
                [NLE_SEQ_MISMATCH] = EPROTO, [NLE_MSG_OVERFLOW] = EOVERFLOW,
                [NLE_MSG_TRUNC] = EMSGSIZE, [NLE_NOADDR] = EADDRNOTAVAIL,
                [NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP, [NLE_MSG_TOOSHORT] = EPROTO,
                [NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP, [NLE_OBJ_MISMATCH] = EINVAL,
                [NLE_NOCACHE] = ENOENT,     [NLE_BUSY] = EBUSY,
                [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT, [NLE_NOACCESS] = EACCES,
                [NLE_PERM] = EPERM,         [NLE_PKTLOC_FILE] = ENOENT,
                [NLE_PARSE_ERR] = EINVAL,   [NLE_NODEV] = ENODEV,
                [NLE_IMMUTABLE] = EPERM,    [NLE_DUMP_INTR] = EINTR,
                [NLE_ATTRSIZE] = ERANGE,
        };
        if (nle < 0)
                nle = -nle;
        if ((size_t)nle < FWSH_N(map) && map[nle])
                return map[nle];
        return EIO;
}

/* fwsh's largest request, a veth pair with its tags, is under 512 bytes;
 * libnl's default is a page, which a batch of 32 messages takes 32 of. */
#define REQUEST_SIZE 1024

struct nl_msg *rtnl_request(int type, int flags, const void *hdr, size_t hdrlen)
{
        struct nl_msg *msg = nlmsg_alloc_size(REQUEST_SIZE);
        void *p;

        if (!msg)
                return NULL;
        if (!nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, NLM_F_REQUEST | flags)) {
                nlmsg_free(msg);
                return NULL;
        }
        p = nlmsg_reserve(msg, hdrlen, NLMSG_ALIGNTO);
        if (!p) {
                nlmsg_free(msg);
                return NULL;
        }
        if (hdr)
                memcpy(p, hdr, hdrlen);
        else
                memset(p, 0, hdrlen);
        return msg;
}

struct query {
        struct fwsh_ctx *ctx;
        int (*fn)(struct nlmsghdr *h, void *arg);
        void *arg;
        int result;
        bool done;
        bool interrupted; /* the dump's object set changed as it was read */
};

static int on_valid(struct nl_msg *msg, void *arg)
{
        struct query *q = arg;

        if (q->fn && q->result == 0)
                q->result = q->fn(nlmsg_hdr(msg), q->arg);
        return NL_OK;
}

/* NLM_F_DUMP_INTR: every message is still whole, but the dump as a whole may
 * miss or repeat objects (they changed while it was read); nl_query_dump reads it
 * again. */
static int on_dump_intr(struct nl_msg *msg, void *arg)
{
        struct query *q = arg;

        (void)msg;
        q->interrupted = true;
        return NL_OK;
}

static int on_end(struct nl_msg *msg, void *arg)
{
        struct query *q = arg;

        (void)msg;
        q->done = true;
        return NL_STOP;
}

/* The extended ack, if the kernel sent one, follows the error (and, unless
 * capped, the echoed request): NLMSGERR_ATTR_MSG is the reason in words. */
static void read_extack(struct fwsh_ctx *ctx, struct nlmsgerr *e)
{
        struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
        struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
        size_t off = sizeof(*e);
        int len;

        if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
                return;
        if (!(h->nlmsg_flags & NLM_F_CAPPED))
                off += e->msg.nlmsg_len - NLMSG_HDRLEN;
        len = (int)h->nlmsg_len - NLMSG_HDRLEN - (int)NLMSG_ALIGN(off);
        if (len <= 0)
                return;
        if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + NLMSG_ALIGN(off)),
                      len, NULL) < 0)
                return;
        if (tb[NLMSGERR_ATTR_MSG])
                nla_strlcpy(ctx->detail, tb[NLMSGERR_ATTR_MSG], sizeof(ctx->detail));
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
        struct query *q = arg;

        (void)nla;
        q->ctx->kernel_err = -e->error;
        read_extack(q->ctx, e);
        q->done = true;
        return NL_STOP;
}

static const char *needed_capability(int err)
{
        return err == EPERM || err == EACCES ? "needs CAP_NET_ADMIN" : "";
}

/* A copy of the socket's callbacks, for one query's own; NULL without memory. */
static struct nl_cb *query_cb(struct fwsh_ctx *ctx)
{
        struct nl_cb *sock_cb = nl_socket_get_cb(ctx->sk); /* takes a reference */
        struct nl_cb *cb = nl_cb_clone(sock_cb);

        nl_cb_put(sock_cb);
        return cb;
}

/* One request and its replies; msg is freed. */
static int query_once(struct fwsh_ctx *ctx, struct nl_msg *msg,
                      int (*fn)(struct nlmsghdr *h, void *arg), void *arg, bool *ret_interrupted)
{
        struct query q = { .ctx = ctx, .fn = fn, .arg = arg };
        struct nl_cb *cb;
        int r;

        ctx_clear(ctx);
        *ret_interrupted = false;
        cb = query_cb(ctx);
        if (!cb) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &q);
        nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_end, &q);
        nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_end, &q);
        nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &q);
        nl_cb_err(cb, NL_CB_CUSTOM, on_error, &q);

        r = nl_send_auto(ctx->sk, msg);
        nlmsg_free(msg);
        while (r >= 0 && !q.done)
                r = nl_recvmsgs(ctx->sk, cb);
        nl_cb_put(cb);

        if (ctx->kernel_err) {
                r = -ctx->kernel_err;
                if (!ctx->detail[0])
                        ctx_fail(ctx, r, "%s", needed_capability(-r));
                return r;
        }
        if (r < 0)
                return -nle_to_errno(r);
        *ret_interrupted = q.interrupted;
        return q.result;
}

int nl_query(struct fwsh_ctx *ctx, struct nl_msg *msg,
             int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
        bool interrupted;
        int r = query_once(ctx, msg, fn, arg, &interrupted);

        return r == 0 && interrupted ? ctx_fail(ctx, -EINTR, "the kernel's dump was interrupted") : r;
}

/* How often a dump is read again when what it lists keeps changing under it
 * (links made or removed by others as it is read: iproute2 only warns). */
#define DUMP_TRIES 8

int nl_query_dump(struct fwsh_ctx *ctx, struct nl_msg *msg, int (*fn)(struct nlmsghdr *h, void *arg),
            void (*restart)(void *arg), void *arg)
{
        for (int tries = 1;; tries++) {
                bool interrupted;
                int r;

                nlmsg_get(msg); /* kept for another reading */
                r = query_once(ctx, msg, fn, arg, &interrupted);
                if (r < 0 || !interrupted || tries == DUMP_TRIES) {
                        nlmsg_free(msg);
                        if (r == 0 && interrupted)
                                return ctx_fail(ctx, -EINTR, "the kernel's dump was interrupted %d times "
                                                "(what it lists kept changing)", tries);
                        return r;
                }
                restart(arg);
                nlmsg_hdr(msg)->nlmsg_seq = NL_AUTO_SEQ; /* a new request, its own number */
        }
}

/* ---- many requests to one sendmsg ---------------------------------------------------- */

struct acks {
        struct fwsh_ctx *ctx;
        int *errs;            /* each request's result, or NULL */
        size_t seen;          /* acks and errors read so far */
        size_t failed;        /* index of the first request refused, or SIZE_MAX */
        int err;
};

static int on_batch_ack(struct nl_msg *msg, void *arg)
{
        struct acks *a = arg;

        (void)msg;
        if (a->errs)
                a->errs[a->seen] = 0;
        a->seen++;
        return NL_STOP;
}

static int on_batch_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
        struct acks *a = arg;

        (void)nla;
        if (a->failed == SIZE_MAX) {
                a->failed = a->seen;
                a->err = -e->error;
                read_extack(a->ctx, e);
        }
        if (a->errs)
                a->errs[a->seen] = e->error;
        a->seen++;
        return NL_SKIP; /* NL_STOP would end the reading with acks still to read */
}

/* What one sendmsg carries; their acks (headers only: NETLINK_CAP_ACK) fit
 * the socket's receive buffer many times over. */
#define BATCH_MSGS 64

int nl_query_batch(struct fwsh_ctx *ctx, struct nl_msg **msgs, size_t n, size_t *ret_failed,
                   int *errs)
{
        struct acks a = { .ctx = ctx, .errs = errs, .failed = SIZE_MAX };
        struct nl_cb *cb;
        struct iovec iov[BATCH_MSGS];
        size_t sent = 0;
        int r = 0;

        ctx_clear(ctx);
        for (size_t i = 0; errs && i < n; i++)
                errs[i] = -EIO; /* not known to be done */
        cb = query_cb(ctx);
        if (!cb)
                r = -NLE_NOMEM;
        else {
                nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_batch_ack, &a);
                nl_cb_err(cb, NL_CB_CUSTOM, on_batch_error, &a);
        }
        /* Every request asks for an ack, in order: libnl checks each one's
         * sequence number against the next it expects. */
        while (r >= 0 && sent < n) {
                size_t k = 0;

                for (; k < BATCH_MSGS && sent + k < n; k++) {
                        struct nl_msg *m = msgs[sent + k];
                        nl_complete_msg(ctx->sk, m);
                        iov[k].iov_base = nlmsg_hdr(m);
                        iov[k].iov_len = nlmsg_hdr(m)->nlmsg_len;
                }
                r = nl_send_iovec(ctx->sk, msgs[sent], iov, (unsigned)k);
                if (r < 0)
                        break;
                sent += k;
                while (r >= 0 && a.seen < sent)
                        r = nl_recvmsgs(ctx->sk, cb);
        }
        for (size_t i = 0; i < n; i++)
                nlmsg_free(msgs[i]);
        if (cb)
                nl_cb_put(cb);
        if (a.failed != SIZE_MAX) {
                *ret_failed = a.failed;
                if (!ctx->detail[0])
                        ctx_fail(ctx, -a.err, "%s", needed_capability(a.err));
                return -a.err;
        }
        if (r < 0) {
                *ret_failed = sent;
                return -nle_to_errno(r);
        }
        return 0;
}
