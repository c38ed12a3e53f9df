/* internal.h - what core's files share and nothing outside core sees. */
#ifndef FWSH_INTERNAL_H
#define FWSH_INTERNAL_H

#include <netlink/msg.h>
#include <sys/stat.h>

#include "fwsh.h"

#define FWSH_TAG_PREFIX "fwsh:"

/* ---- the one path for every change ------------------------------------------- */

enum change_op {
        CH_LINK_NEW,    /* bridge or veth: kind, name, set (initial settings), veth */
        CH_LINK_SET,    /* name, set */
        CH_LINK_DEL,    /* name */
        CH_TAP_NEW,     /* name, tap, set (applied after creation) */
        CH_ADDR_NEW,    /* addr */
        CH_ADDR_DEL,    /* addr */
        CH_ROUTE_NEW,   /* route */
        CH_ROUTE_DEL,   /* route */
        CH_NETNS_NEW,   /* name */
        CH_NETNS_DEL,   /* name */
        CH_SYSCTL,      /* sysctl */
};

struct change {
        enum change_op op;
        char name[FWSH_NETNS_NAME_MAX + 1];
        int ifindex;                  /* links: > 0 to find it by index, not name */
        char kind[16];
        struct fwsh_link_set set;     /* set.alias and set.netns are unused: see alias, netns */
        char netns[FWSH_NETNS_NAME_MAX + 1]; /* CH_LINK_SET: move it there, "" */
        bool has_alias;
        char alias[128];
        uint32_t group;               /* links: put it in this group, 0 leave */
        char master_name[FWSH_NAME_MAX + 1]; /* CH_TAP_NEW in a batch: its bridge, which the
                                               batch makes; "" (set.master says) */
        struct {
                char peer[FWSH_NAME_MAX + 1];
                char peer_netns[FWSH_NETNS_NAME_MAX + 1]; /* put the peer there, "" */
        } veth;
        struct {
                int64_t owner, group;
                bool multi_queue, vnet_hdr;
        } tap;
        struct fwsh_addr addr;
        struct {
                struct fwsh_addr dst, via;
                bool has_via;
                int ifindex;
                uint32_t metric, table;
        } route;
        struct {
                char path[128];       /* under /proc/sys/ */
                char value[32];
        } sysctl;
};

void change_init(struct change *ch, enum change_op op, const char *name);

struct backend {
        const char *name;
        int (*apply)(struct fwsh_ctx *ctx, const struct change *ch);
};
extern const struct backend kernel_backend;

/* Applies ch through ctx's backend and, if it succeeds and a journal is set,
 * records inverse (may be NULL: nothing to undo) there. */
int change_apply(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse);
/* Applies ch through ctx's backend, explaining it if asked; no journal. */
int change_apply_now(struct fwsh_ctx *ctx, const struct change *ch);
/* The command lines that make the change ch, '\n' between them. */
int change_render(struct fwsh_ctx *ctx, const struct change *ch, char *buf, size_t size);

/* ---- the plan backend (plan.c): a model of one namespace --------------------- */
extern const struct backend plan_backend;
struct plan *plan_free(struct plan *p);
/* Copies of the model's links, addresses (every family), routes (every table
 * and type); free(*ret) after. */
int plan_links(struct fwsh_ctx *ctx, struct fwsh_link **ret, size_t *ret_n);
int plan_addrs(struct fwsh_ctx *ctx, struct fwsh_addr **ret, size_t *ret_n);
int plan_routes(struct fwsh_ctx *ctx, struct fwsh_route **ret, size_t *ret_n);
int plan_ipv6_disabled(struct fwsh_ctx *ctx, const char *name);
int plan_netns_exists(struct fwsh_ctx *ctx, const char *name);
int plan_netns_list(struct fwsh_ctx *ctx, char ***ret, size_t *ret_n);

/* The kernel side of each change, one per primitive file. */
int link_kernel_new(struct fwsh_ctx *ctx, const struct change *ch);
int link_kernel_set(struct fwsh_ctx *ctx, const struct change *ch);
int link_kernel_del(struct fwsh_ctx *ctx, const struct change *ch);
int tap_kernel_new(struct fwsh_ctx *ctx, const struct change *ch);
int addr_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int route_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int netns_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int sysctl_kernel(struct fwsh_ctx *ctx, const struct change *ch);

/* The RTM_NEWLINK of link_kernel_new/set for ch, which has no namespace to
 * open; nlmsg_free it unless sent. */
int link_msg(struct fwsh_ctx *ctx, const struct change *ch, bool create, struct nl_msg **ret_msg);
/* A new link's change in the kernel's steps: the create, then (if this says
 * true) *ret_rest, the tag and a late up, by name; link_new_sysctl between. */
bool link_new_split(const struct change *ch, struct change *ret_create, struct change *ret_rest);
int link_new_sysctl(struct fwsh_ctx *ctx, const struct change *ch);
/* Creates the tap of ch in the calling thread's namespace and makes it persist. */
int tap_tun_create(struct fwsh_ctx *ctx, const struct change *ch);

/* Puts the bridge options that o sets as IFLA_BR_* attributes. */
int bridge_put_opts(struct nl_msg *msg, const struct fwsh_bridge_opts *o);
bool bridge_opts_any(const struct fwsh_bridge_opts *o);

/* Every route, every table, type and family, with its ifindex; free(*ret) after. */
int route_dump_all(struct fwsh_ctx *ctx, struct fwsh_route **ret, size_t *ret_n);
/* Counts the routes through ifindex, in every table, of every type and family. */
int route_count_dev(struct fwsh_ctx *ctx, int ifindex);
/* Counts ifindex's addresses of family (AF_UNSPEC: every family). */
int addr_count_dev(struct fwsh_ctx *ctx, int ifindex, int family);
/* Reads net.ipv6.conf.NAME.disable_ipv6 in ctx's namespace: 1, 0, or -errno. */
int ipv6_disabled(struct fwsh_ctx *ctx, const char *name);
/* Records inverse in ctx's journal, if it has one: for a composite change,
 * whose steps are applied with no inverse each, once all of them succeeded. */
int journal_record(struct fwsh_ctx *ctx, const struct change *inverse);

/* Journal: inverse changes with the context each belongs to. */
int journal_push(struct fwsh_journal *j, struct fwsh_ctx *ctx, const struct change *inverse);
/* Room for more journal_record()s in ctx's journal (if it has one), so that
 * they cannot fail. */
int journal_reserve(struct fwsh_ctx *ctx, size_t more);

/* Queues ch (a bridge or tap creation) in ctx's open batch (batch.c). */
int batch_queue(struct fwsh_ctx *ctx, const struct change *ch, const struct change *inverse);

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
        const struct backend *backend;
        struct plan *plan;             /* the model the plan backend works on, NULL */
        struct batch *batch;           /* creations queued by fwsh_batch_begin, NULL */
        char ns_name[FWSH_NETNS_NAME_MAX + 1]; /* for explained lines: ip -n NAME */
        void (*explain)(void *arg, const char *lines);
        void *explain_arg;
};

/* Sets ctx's detail from fmt (if ctx is not NULL) and returns err. */
int ctx_fail(struct fwsh_ctx *ctx, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void ctx_clear(struct fwsh_ctx *ctx);
/* Puts the calling thread into ctx's namespace for work that the kernel does
 * in the caller's namespace (tun, /proc/sys, netns files); *saved is -1 when
 * it was there already. ctx_leave(saved) goes back. */
int ctx_enter(struct fwsh_ctx *ctx, int *saved);
void ctx_leave(int saved);
/* Says the calling thread changed namespaces (setns, unshare). */
void ctx_thread_moved(void);

/* ---- netlink ------------------------------------------------------------------------ */

/* A new rtnetlink request with a zeroed family header of hdrlen bytes
 * (filled from hdr if not NULL). NULL when out of memory. */
struct nl_msg *rtnl_request(int type, int flags, const void *hdr, size_t hdrlen);
/* Sends msg (and frees it), feeds each reply to fn (may be NULL), waits for the
 * ack or the end of the dump. 0 or -errno, the kernel's own, with its
 * extended-ack text as ctx's detail. fn returns 0 or -errno to stop. */
int nl_query(struct fwsh_ctx *ctx, struct nl_msg *msg,
             int (*fn)(struct nlmsghdr *h, void *arg), void *arg);
/* Sends the requests msgs[0..n) (and frees them), many to one sendmsg, then
 * reads every ack. 0, or the -errno of the first one the kernel refused, with
 * its index in *ret_failed and its extended-ack text as ctx's detail; the
 * kernel has run the others, refused or not: errs (NULL, or n of them) gets
 * each one's 0 or -errno. */
int nl_query_batch(struct fwsh_ctx *ctx, struct nl_msg **msgs, size_t n, size_t *ret_failed,
                   int *errs);
/* libnl's -NLE_* as -errno; the one place this mapping lives. */
int nle_to_errno(int nle);

/* ---- small shared helpers ------------------------------------------------------------ */

/* Reads or writes /proc/sys/PATH in the calling thread's namespace. */
int sysctl_read(const char *path, char *buf, size_t size);
int sysctl_write(const char *path, const char *value);
#define mac_to_text fwsh_mac_format
/* The lab tag (ifalias) for new objects: "fwsh:LAB". */
void lab_tag(const struct fwsh_ctx *ctx, char *buf, size_t size);
/* Tags a new link's change with ctx's lab: its ifalias and its link group. */
void lab_mark(const struct fwsh_ctx *ctx, struct change *ch);
/* Checks a lab name: 1 to FWSH_LAB_MAX bytes of FWSH_LAB_CHARS (ctx.c). */
int lab_name_check(struct fwsh_ctx *ctx, const char *lab);
/* FNV-1a of s (lab.c). */
uint32_t name_hash(const char *s);
/* -EEXIST for a link called name that exists, saying of what kind (link.c). */
int link_taken(struct fwsh_ctx *ctx, const char *name);
/* Removes lab's state directories (labdir.c), counting them in *ret_n. */
int lab_dirs_remove(struct fwsh_ctx *ctx, const char *lab, unsigned *ret_n);
/* Tags the namespace the calling thread is in with ctx's lab (lo's ifalias). */
int lab_tag_here(struct fwsh_ctx *ctx);
/* Inverse of a link change, from the link's state before it. */
void link_set_inverse(const struct fwsh_link *before, const struct change *ch, struct change *ret_inv);

#endif
