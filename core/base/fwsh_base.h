/* fwsh_base.h - the public face of core/base/: contexts (one per network
 * namespace), names, and the small helpers every group uses. It calls
 * nothing of the groups above it.
 *
 * Conventions, for every function of core (every group's fwsh_*.h):
 *  - returns 0 (or a non-negative count) on success, a negative errno on failure;
 *    never -1, never a libnl NLE_* code;
 *  - output parameters are named ret_*, come last, and are untouched on failure;
 *  - on failure, fwsh_ctx_detail() says why in words: the kernel's extended-ack
 *    text, or the reason core refused the request before asking the kernel;
 *  - nothing here prints, exits, or knows about Lua;
 *  - destructors accept NULL and return NULL.
 */
#ifndef FWSH_BASE_H
#define FWSH_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FWSH_NAME_MAX 15          /* IFNAMSIZ - 1: the kernel's limit on link names */
#define FWSH_NETNS_NAME_MAX 63    /* a file name under /run/netns, kept short */
#define FWSH_LAB_MAX 31
#define FWSH_LAB_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define FWSH_DETAIL_MAX 256
/* The number of elements of an array (not a pointer). */
#define FWSH_N(a) (sizeof(a) / sizeof((a)[0]))

struct fwsh_ctx;
struct fwsh_journal;

/* ---- context: one per network namespace ------------------------------------ */

/* A context is opened on the kernel by fwsh_ctx_open (net/fwsh_net.h). */
struct fwsh_ctx *fwsh_ctx_ref(struct fwsh_ctx *ctx);
/* Drops a reference; the last one closes the socket. Returns NULL. */
struct fwsh_ctx *fwsh_ctx_unref(struct fwsh_ctx *ctx);
/* Why the last failed call on ctx failed, in words; "" when nothing more is known. */
const char *fwsh_ctx_detail(const struct fwsh_ctx *ctx);
/* The lab that objects created through ctx are tagged with (ifalias "fwsh:LAB").
 * -EINVAL for an empty name, one over FWSH_LAB_MAX bytes, or one with characters
 * outside [A-Za-z0-9._-]. */
int fwsh_ctx_set_lab(struct fwsh_ctx *ctx, const char *lab);
const char *fwsh_ctx_lab(const struct fwsh_ctx *ctx);
/* The lab an ifalias tags its link with ("fwsh:LAB"), or NULL when it is no tag. */
const char *fwsh_alias_lab(const char *alias);
/* Records the inverse of every change made through ctx into j (NULL: stop). */
void fwsh_ctx_set_journal(struct fwsh_ctx *ctx, struct fwsh_journal *j);
/* Calls fn with the command lines (ip, sysctl; '\n' between them) that make
 * each change made through ctx, as it is made; NULL stops. */
void fwsh_ctx_set_explain(struct fwsh_ctx *ctx, void (*fn)(void *arg, const char *lines), void *arg);
/* Names ctx's namespace for explained lines ("ip -n NAME ..."); "" for none. */
void fwsh_ctx_set_netns_name(struct fwsh_ctx *ctx, const char *name);
/* Whether a and b work in the same namespace. */
bool fwsh_ctx_same_netns(const struct fwsh_ctx *a, const struct fwsh_ctx *b);

/* ---- names ----------------------------------------------------------------- */

/* 0 if name is a valid link name: 1..15 bytes, not "." or "..", no '/', ':' or
 * white space. -EINVAL otherwise, with the reason in ctx's detail (ctx may be NULL). */
int fwsh_name_check(struct fwsh_ctx *ctx, const char *name);

/* Copies src into dst (size bytes), cut to fit and terminated: what
 * snprintf(dst, size, "%s", src) does, at a memcpy's cost (snprintf takes
 * some 600 instructions for a link's name, several times a link). */
void fwsh_strcpy(char *dst, size_t size, const char *src);

/* Parses "aa:bb:cc:dd:ee:ff" (or with '-'). -EINVAL if it is not a MAC. */
int fwsh_mac_parse(const char *text, uint8_t ret_mac[6]);
/* Formats mac as aa:bb:cc:dd:ee:ff into buf, which has room for 18 bytes; returns buf. */
const char *fwsh_mac_format(const uint8_t mac[6], char *buf);

/* ---- the calling thread's namespace, named namespaces ---------------------------- */

/* 0 if name is a valid namespace name, -EINVAL (reason in detail) if not. */
int fwsh_netns_check(struct fwsh_ctx *ctx, const char *name);
/* Opens the named namespace: an fd for setns(2), O_CLOEXEC. */
int fwsh_netns_open(struct fwsh_ctx *ctx, const char *name, int *ret_fd);
/* Moves the calling thread into the namespace fd; *ret_saved (an fd) brings it back. */
int fwsh_netns_enter(int fd, int *ret_saved);
/* Returns the calling thread to saved and closes saved. */
int fwsh_netns_leave(int saved);

/* Frees the n strings of v, then v. Returns NULL. */
char **fwsh_strv_free(char **v, size_t n);

/* ---- cancelling a blocking call ---------------------------------------------------- */

/* Asks the blocking call in progress (fwsh_monitor_wait, fwsh_proc_wait,
 * fwsh_proc_run, fwsh_proc_stop) to return -EINTR within CANCEL_SLICE_MS, or
 * the next one to, once. Async-signal-safe: for a signal handler. */
void fwsh_cancel(void);
/* Drops a request no blocking call has taken. */
void fwsh_cancel_clear(void);

/* ---- labs: the link group of a lab's links ------------------------------------------ */

/* The link group fwsh puts a lab's links in ("group N" in ip-link(8)), so that
 * `fwsh down` can delete them in one request. */
uint32_t fwsh_lab_group(const char *lab);

#endif
