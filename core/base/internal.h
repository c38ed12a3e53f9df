/* internal.h - what core/base/ gives the groups of core above it, and nothing
 * outside core sees: the context's insides, netlink requests, /proc/sys.
 *
 * The groups and what each may include (one-way; tools/layers checks it):
 *   base/    its own files only
 *   change/  base/
 *   net/     change/, base/
 *   host/    change/, base/     (never net/ or lab/: host setup is no network object)
 *   lab/     net/, change/, base/
 * A group's files include their own group's internal.h, which includes the
 * internal.h of the group below it. */
#ifndef FWSH_BASE_INTERNAL_H
#define FWSH_BASE_INTERNAL_H

#include <netlink/msg.h>
#include <sys/stat.h>

#include "base/fwsh_base.h"

#define FWSH_TAG_PREFIX "fwsh:"
#define NETNS_RUN_DIR "/run/netns"

struct change;
struct backend;

/* ---- context ---------------------------------------------------------------------- */

struct fwsh_ctx {
        unsigned refs;
        struct nl_sock *sk;
        int nsfd;                      /* the namespace this context belongs to */
        dev_t ns_dev;
        ino_t ns_ino;
        int kernel_err;                /* errno from the last NLMSG_ERROR, 0 */
        char detail[FWSH_DETAIL_MAX];
        char lab[FWSH_LAB_MAX + 1];
        struct fwsh_journal *journal;
        const struct backend *backend; /* change/internal.h: where changes go */
        char ns_name[FWSH_NETNS_NAME_MAX + 1]; /* for explained lines: ip -n NAME */
        void (*explain)(void *arg, const char *lines);
        void *explain_arg;
        /* What net/ hangs on a context, with the hooks that let base/ and
         * change/ use it without knowing it. */
        struct plan *plan;             /* the plan backend's model (net/plan.c), NULL */
        void (*plan_drop)(struct fwsh_ctx *ctx);
        struct batch *batch;           /* creations queued (net/batch.c), NULL */
        int (*batch_queue)(struct fwsh_ctx *ctx, const struct change *ch,
                           const struct change *inverse);
        void (*batch_drop)(struct fwsh_ctx *ctx);
};

/* A new context on the namespace the calling thread is in, whose changes go
 * to backend (net/kernel.c opens them on the kernel's). */
int ctx_open(const struct backend *backend, struct fwsh_ctx **ret_ctx);
/* Sets ctx's detail from fmt (if ctx is not NULL) and returns err. */
int ctx_fail(struct fwsh_ctx *ctx, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void ctx_clear(struct fwsh_ctx *ctx);
/* Puts the calling thread into ctx's namespace for work that the kernel does
 * in the caller's namespace (tun, /proc/sys, netns files); *saved is -1 when
 * it was there already. ctx_leave(saved) goes back. */
int ctx_enter(struct fwsh_ctx *ctx, int *saved);
void ctx_leave(int saved);
/* Runs fn(arg) with the calling thread in the named namespace, then brings it
 * back: fn's result, or the error of getting there. */
int ns_call(struct fwsh_ctx *ctx, const char *name, int (*fn)(void *arg), void *arg);
/* Says the calling thread changed namespaces (setns, unshare). */
void ctx_thread_moved(void);
/* NETNS_RUN_DIR/name into buf. */
void netns_path(char *buf, size_t size, const char *name);

/* ---- netlink ------------------------------------------------------------------------ */

/* A new rtnetlink request with a zeroed family header of hdrlen bytes
 * (filled from hdr if not NULL). NULL when out of memory. */
struct nl_msg *rtnl_request(int type, int flags, const void *hdr, size_t hdrlen);
/* Sends msg (and frees it), feeds each reply to fn (may be NULL), waits for the
 * ack or the end of the dump. 0 or -errno, the kernel's own, with its
 * extended-ack text as ctx's detail. fn returns 0 or -errno to stop. */
int nl_query(struct fwsh_ctx *ctx, struct nl_msg *msg,
             int (*fn)(struct nlmsghdr *h, void *arg), void *arg);
/* nl_query for a dump (NLM_F_DUMP): one the kernel marks interrupted (its
 * objects changed while it was read) is read again, restart(arg) first, so
 * that fn sees one consistent listing; -EINTR if it never is. */
int nl_query_dump(struct fwsh_ctx *ctx, struct nl_msg *msg, int (*fn)(struct nlmsghdr *h, void *arg),
            void (*restart)(void *arg), void *arg);
/* Sends the requests msgs[0..n) (and frees them), many to one sendmsg, then
 * reads every ack. 0, or the -errno of the first one the kernel refused, with
 * its index in *ret_failed and its extended-ack text as ctx's detail; the
 * kernel has run the others, refused or not: errs (NULL, or n of them) gets
 * each one's 0 or -errno. */
int nl_query_batch(struct fwsh_ctx *ctx, struct nl_msg **msgs, size_t n, size_t *ret_failed,
                   int *errs);
/* libnl's -NLE_* as -errno; the one place this mapping lives. */
int nle_to_errno(int nle);

/* ---- cancelling (cancel.c) ------------------------------------------------------------ */

/* The longest a blocking wait sleeps between looks at a cancel request. */
#define CANCEL_SLICE_MS 20
/* Whether fwsh_cancel() asked to stop; true once per request. */
bool cancel_take(void);

/* ---- small shared helpers ------------------------------------------------------------ */

/* Reads or writes /proc/sys/PATH in the calling thread's namespace. */
int sysctl_read(const char *path, char *buf, size_t size);
int sysctl_write(const char *path, const char *value);
/* The lab tag (ifalias) for new objects: "fwsh:LAB". */
void lab_tag(const struct fwsh_ctx *ctx, char *buf, size_t size);
/* Checks a lab name: 1 to FWSH_LAB_MAX bytes of FWSH_LAB_CHARS. */
int lab_name_check(struct fwsh_ctx *ctx, const char *lab);
/* FNV-1a of s. */
uint32_t name_hash(const char *s);
/* Appends a copy of len bytes of s to *v (*n of them, NULL after); -ENOMEM. */
int strv_push(char ***v, size_t *n, const char *s, size_t len);

#endif
