/* internal.h - what core/net/'s files share, and what core/lab/ (above it) may
 * use of them: each kind's kernel side, the two backends, queries the plan
 * model answers too. */
#ifndef FWSH_NET_INTERNAL_H
#define FWSH_NET_INTERNAL_H

#include "change/internal.h"
#include "net/fwsh_net.h"

/* ---- the two backends ----------------------------------------------------------- */

extern const struct backend kernel_backend;  /* kernel.c */
extern const struct backend plan_backend;    /* plan.c: a model of one namespace */
/* Both backends' identify (identify.c): the new link's ifindex, the new
 * namespace's cookie, into *inverse. */
int change_identify(struct fwsh_ctx *ctx, const struct change *ch, struct change *inverse);
/* Whether the link at ifindex is still name and carries ctx's lab's tag: 1,
 * 0 (another's), -ENODEV (gone), or another -errno. */
int link_ours(struct fwsh_ctx *ctx, int ifindex, const char *name);
/* The command lines that make the change ch, '\n' between them (explain.c). */
int change_render(struct fwsh_ctx *ctx, const struct change *ch, char *buf, size_t size);

/* The kernel side of each change, one per primitive file. */
int link_kernel_new(struct fwsh_ctx *ctx, const struct change *ch);
int link_kernel_set(struct fwsh_ctx *ctx, const struct change *ch);
int link_kernel_del(struct fwsh_ctx *ctx, const struct change *ch);
int tap_kernel_new(struct fwsh_ctx *ctx, const struct change *ch);
int addr_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int route_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int netns_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int sysctl_kernel(struct fwsh_ctx *ctx, const struct change *ch);
int impair_kernel(struct fwsh_ctx *ctx, const struct change *ch);

/* ---- links ------------------------------------------------------------------------ */

/* ---- link kinds: what is particular to each, in its own file --------------------- */

/* explain.c's output: command lines built word by word. */
struct out {
        char *buf;
        size_t size, len;
};
void out_put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A word for sh: as it is when it is plain, in single quotes otherwise. */
void out_word(struct out *o, const char *s);

/* One kind of link. Generic code finds a link's kind once (link_kind_find)
 * and calls through this; a NULL hook: the kind has nothing of its own there. */
struct link_kind {
        const char *name;        /* IFLA_INFO_KIND; "tap": a tun in tap mode */
        const char *type;        /* its handle type in Lua, NULL: a plain link's */
        bool ports;              /* other links can be its ports (a master) */
        bool pair;               /* made with a peer (ch->veth.peer), deleted with it */
        bool tun;                /* a tun device: it has the tun settings */
        const struct fwsh_opt_table *opts; /* its option rows, NULL: none */
        /* Its IFLA_INFO_DATA (may be NULL) into l; its data as a port's master. */
        void (*parse)(struct nlattr *data, struct fwsh_link *l);
        void (*parse_port)(struct nlattr *data, struct fwsh_link *l);
        /* Whether ch, a creation or a change, puts IFLA_INFO_DATA; putting it
         * (peer_fd: the namespace of a peer, -1). */
        bool (*has_data)(const struct change *ch, bool create);
        int (*put)(struct nl_msg *msg, const struct change *ch, bool create, int peer_fd);
        /* ip-link(8)'s words after "type NAME" for ch, a creation or a change. */
        void (*explain)(struct out *o, struct fwsh_ctx *ctx, const struct change *ch, bool create);
        /* The plan model: what a new link l of this kind has that the generic part does not set. */
        void (*plan_new)(struct fwsh_link *l, const struct change *ch);
        /* ensure: 0 if the existing l (of this kind, whose rows and generic
         * settings matched) is the link want would make, else -EEXIST naming
         * what differs (a bridge's grounding, a veth's peer, a VXLAN's ends). */
        int (*matches)(struct fwsh_ctx *ctx, const struct change *want, const struct fwsh_link *l);
        /* Into *inv, the kind's part of what makes a deleted l again (op, its
         * own settings); false: it cannot be made again alone. */
        bool (*recreate)(struct fwsh_ctx *ctx, const struct fwsh_link *l, struct change *inv);
};
/* The kind called name: the one lookup by name (kind.c). Never NULL: a kind
 * fwsh has nothing particular for is a plain link. */
const struct link_kind *link_kind_find(const char *name);
/* Each kind's file registers its table as the program starts (a constructor,
 * as libnl's link kinds do): kind.c then names no kind, and the generic code,
 * which the kinds' files call, reaches them only through link_kind_find. */
void link_kind_register(const struct link_kind *k);
#define LINK_KIND_REGISTER(k)                                                             \
        __attribute__((constructor)) static void register_##k(void) { link_kind_register(&k); }


/* The RTM_NEWLINK of link_kernel_new/set for ch, which has no namespace to
 * open; nlmsg_free it unless sent. */
int link_msg(struct fwsh_ctx *ctx, const struct change *ch, bool create, struct nl_msg **ret_msg);
/* A new link's change in the kernel's steps: the create, then (if this says
 * true) *ret_rest, the tag and a late up, by name; link_new_sysctl between. */
bool link_new_split(const struct change *ch, struct change *ret_create, struct change *ret_rest);
int link_new_sysctl(struct fwsh_ctx *ctx, const struct change *ch);
/* Creates the tap of ch in the calling thread's namespace, not persistent: it
 * lives while *ret_fd is open. tap_tun_persist makes it persist and closes fd
 * (also on failure, when the tap goes with it). */
int tap_tun_open(struct fwsh_ctx *ctx, const struct change *ch, int *ret_fd);
int tap_tun_persist(struct fwsh_ctx *ctx, int fd);
/* A new tap's settings in the kernel's steps: *ret_tag (alias and group) while
 * fwsh holds it, *ret_rest (up, MTU, bridge) once it persists. */
void tap_new_split(const struct change *ch, struct change *ret_tag, struct change *ret_rest);
/* -EEXIST for a link called name that exists, saying of what kind (link.c). */
int link_taken(struct fwsh_ctx *ctx, const char *name);
/* Inverse of a link change, from the link's state before it. */
void link_set_inverse(const struct fwsh_link *before, const struct change *ch, struct change *ret_inv);

/* The bridge kind's rows (bridge_opts.c). */
extern const struct fwsh_opt_table bridge_opts;
/* A kind's options, driven by its rows (opt_row.c); t is the kind's table. */
bool opts_any(const struct fwsh_opt_values *o);
/* The options of an IFLA_INFO_DATA parsed without a policy: each row checks
 * its attribute's width. */
void opts_parse(const struct fwsh_opt_table *t, struct nlattr *const tb[], struct fwsh_opt_values *ret);
/* Puts the options that o sets as attributes. */
int opts_put(const struct fwsh_opt_table *t, struct nl_msg *msg, const struct fwsh_opt_values *o);
/* -ERANGE for a value outside its row's range. */
int opts_check(struct fwsh_ctx *ctx, const struct fwsh_opt_table *t, const struct fwsh_opt_values *o);
/* Into *ret_inv, the values before had of those that set sets. */
void opts_undo(const struct fwsh_opt_table *t, const struct fwsh_opt_values *set,
               const struct fwsh_opt_values *before, struct fwsh_opt_values *ret_inv);
/* What a deleted link with these options is made again with. */
void opts_recreate(const struct fwsh_opt_table *t, const struct fwsh_opt_values *have, struct fwsh_opt_values *ret);
/* A new link's options: every row at its default, then what set sets (the plan model). */
void opts_new(const struct fwsh_opt_table *t, const struct fwsh_opt_values *set, struct fwsh_opt_values *ret);
/* The values set sets, written over have's (the plan model). */
void opts_apply(const struct fwsh_opt_table *t, const struct fwsh_opt_values *set, struct fwsh_opt_values *have);
/* 0 if have has every value want gives (and, for an exact row, its default
 * where want gives none), else -EEXIST naming the first that differs. */
int opts_match(struct fwsh_ctx *ctx, const struct fwsh_opt_table *t, const struct fwsh_opt_values *want,
               const struct fwsh_opt_values *have);
/* The kernel config an option o turns on needs, NULL if none. */
const char *opts_need(const struct fwsh_opt_table *t, const struct fwsh_opt_values *o);
/* " word value" for each option o sets, as ip(8) takes them, into buf; the
 * length it needed, as snprintf. */
size_t opts_explain(const struct fwsh_opt_table *t, const struct fwsh_opt_values *o, char *buf,
                    size_t size);

/* Ensure, for every kind: 1 if no link is called want->name (the caller
 * makes it), 0 if the link there is what want would make, brought up and
 * attached as want says; -EEXIST, the first difference in ctx's detail, if
 * it is not (ensure.c). */
int link_ensure(struct fwsh_ctx *ctx, const struct change *want);
/* Makes ch, a CH_LINK_NEW, journaled with its name's delete as the inverse:
 * the whole add of a kind that needs nothing else. */
int link_new_apply(struct fwsh_ctx *ctx, const struct change *ch);
/* link_ensure, then link_new_apply(want) when there is no such link: 1 if it
 * made it, 0 if it accepted the one there, or -errno. */
int link_ensure_new(struct fwsh_ctx *ctx, const struct change *want);

/* ---- addresses, routes, switches ------------------------------------------------------- */

/* Every route, every table, type and family, with its ifindex; free(*ret) after. */
int route_dump_all(struct fwsh_ctx *ctx, struct fwsh_route **ret, size_t *ret_n);
/* Counts the routes through ifindex, in every table, of every type and family. */
int route_count_dev(struct fwsh_ctx *ctx, int ifindex);
/* Counts ifindex's addresses of family (AF_UNSPEC: every family). */
int addr_count_dev(struct fwsh_ctx *ctx, int ifindex, int family);
/* Reads net.ipv6.conf.NAME.disable_ipv6 in ctx's namespace: 1, 0, or -errno. */
int ipv6_disabled(struct fwsh_ctx *ctx, const char *name);

/* The tc(8) lines of an impairment change (explain.c). */
#define IMPAIR_HANDLE 0xf5f5u  /* fwsh's root netem: f5f5: */
#define IMPAIR_RATE_HANDLE 0xf5f6u /* its tbf, under f5f5:1 */
#define IMPAIR_MARK 0x66777368u   /* "fwsh": its root's size table's mpu (impair.c) */
int impair_render(const struct change *ch, const char *dev, char *buf, size_t size);

/* ---- crash-safe creation (intent.c) ------------------------------------------------- */

#define INTENT_DIR "/run/fwsh/intent"
#define INTENT_PATH_MAX 128

/* Writes the intent record for the links names[0..n), about to be made in
 * ctx's namespace for ctx's lab, into ret_path (size bytes; "" when none was
 * written); intent_end removes it once they carry their tag, or are gone. */
int intent_begin(struct fwsh_ctx *ctx, const char *const *names, size_t n, char *ret_path,
                 size_t size);
struct stat;
/* The record for the named namespace name about to be mounted on the empty
 * file whose identity file gives, or about to be unmounted from it (netns.c). */
int intent_begin_netns(struct fwsh_ctx *ctx, const char *name, const struct stat *file,
                       char *ret_path, size_t size);
void intent_end(const char *path);

/* ---- namespaces ------------------------------------------------------------------------ */

/* Tags the namespace the calling thread is in with ctx's lab (lo's ifalias). */
int netns_tag_here(struct fwsh_ctx *ctx);
/* The cookie of the calling thread's network namespace, or of the named one
 * (identify.c): what tells a namespace from one made later under its name. */
int netns_cookie_here(uint64_t *ret);
int netns_cookie(struct fwsh_ctx *ctx, const char *name, uint64_t *ret);

#endif
