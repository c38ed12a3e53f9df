/* fwsh.h - the fwsh core: Linux bridges, taps, veth pairs, ports, addresses,
 * routes and network namespaces, over rtnetlink (libnl-3) and the tun ioctls.
 *
 * Conventions, for every function here:
 *  - returns 0 (or a non-negative count) on success, a negative errno on failure;
 *    never -1, never a libnl NLE_* code;
 *  - output parameters are named ret_*, come last, and are untouched on failure;
 *  - on failure, fwsh_ctx_detail() says why in words: the kernel's extended-ack
 *    text, or the reason core refused the request before asking the kernel;
 *  - nothing here prints, exits, or knows about Lua;
 *  - destructors accept NULL and return NULL.
 */
#ifndef FWSH_H
#define FWSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FWSH_NAME_MAX 15          /* IFNAMSIZ - 1: the kernel's limit on link names */
#define FWSH_NETNS_NAME_MAX 63    /* a file name under /run/netns, kept short */
#define FWSH_LAB_MAX 31
#define FWSH_LAB_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define FWSH_DETAIL_MAX 256

struct fwsh_ctx;
struct fwsh_journal;

/* ---- context: one per network namespace ------------------------------------ */

/* Opens a context for the network namespace the calling thread is in now: a
 * netlink socket bound to that namespace and a handle on the namespace itself.
 * Returns 0, or -errno (-EPROTONOSUPPORT, -ENOMEM, ...). */
int fwsh_ctx_open(struct fwsh_ctx **ret_ctx);
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
/* Records the inverse of every change made through ctx into j (NULL: stop). */
void fwsh_ctx_set_journal(struct fwsh_ctx *ctx, struct fwsh_journal *j);
/* From now on, changes through ctx are not made but checked against and made
 * on a model of its namespace, and queries read the model: a dry run. The model
 * starts as the kernel's state now, or (empty) as a new namespace with only lo.
 * world_of (may be NULL) shares its planned set of named namespaces. */
int fwsh_ctx_plan(struct fwsh_ctx *ctx, struct fwsh_ctx *world_of, bool empty);
/* Calls fn with the command lines (ip, sysctl; '\n' between them) that make
 * each change made through ctx, as it is made; NULL stops. */
void fwsh_ctx_set_explain(struct fwsh_ctx *ctx, void (*fn)(void *arg, const char *lines), void *arg);
/* Names ctx's namespace for explained lines ("ip -n NAME ..."); "" for none. */
void fwsh_ctx_set_netns_name(struct fwsh_ctx *ctx, const char *name);
/* Whether a and b work in the same namespace. */
bool fwsh_ctx_same_netns(const struct fwsh_ctx *a, const struct fwsh_ctx *b);
/* Whether the calling thread is in ctx's namespace right now. */
bool fwsh_ctx_is_current(const struct fwsh_ctx *ctx);

/* ---- names ----------------------------------------------------------------- */

/* 0 if name is a valid link name: 1..15 bytes, not "." or "..", no '/', ':' or
 * white space. -EINVAL otherwise, with the reason in ctx's detail (ctx may be NULL). */
int fwsh_name_check(struct fwsh_ctx *ctx, const char *name);

/* Parses "aa:bb:cc:dd:ee:ff" (or with '-'). -EINVAL if it is not a MAC. */
int fwsh_mac_parse(const char *text, uint8_t ret_mac[6]);
/* Formats mac as aa:bb:cc:dd:ee:ff into buf, which has room for 18 bytes; returns buf. */
const char *fwsh_mac_format(const uint8_t mac[6], char *buf);

/* ---- links: any kind ------------------------------------------------------- */

struct fwsh_bridge_opts {
        int stp;                  /* -1 leave/unknown, 0 off, 1 on */
        int vlan_filtering;       /* -1, 0, 1 */
        int64_t forward_delay_cs; /* centiseconds, -1 leave */
        int64_t ageing_time_cs;   /* centiseconds, -1 leave */
};
#define FWSH_BRIDGE_OPTS_INIT { -1, -1, -1, -1 }

struct fwsh_link {
        int ifindex;
        char name[FWSH_NAME_MAX + 1];
        char kind[16];             /* "bridge", "tap", "tun", "veth", "dummy", ... or "" */
        unsigned flags;            /* IFF_* */
        bool up;                   /* administratively up (IFF_UP) */
        bool carrier;
        uint8_t operstate;         /* IF_OPER_* */
        int master;                /* ifindex of the bridge it is a port of, or 0 */
        int link;                  /* veth: the peer's ifindex (in link_netnsid if >= 0) */
        int link_netnsid;          /* -1: same namespace */
        unsigned mtu;
        uint32_t group;            /* IFLA_GROUP: 0 default; a lab's links share one */
        uint8_t mac[6];
        bool has_mac;
        char alias[128];           /* IFLA_IFALIAS, "" if none */
        struct {
                struct fwsh_bridge_opts opts;
                char id[24];       /* "8000.aabbccddeeff", as brctl shows it */
        } bridge;
        struct {
                int64_t owner, group;  /* -1 when not set */
                bool multi_queue, vnet_hdr, persist;
                unsigned queues;       /* queues attached: > 0 while a process holds it open */
        } tun;
        int port_state;            /* as a bridge port: BR_STATE_*, -1 if not a port */
};

/* The ifindex of the link called name (> 0), or -ENODEV: one ioctl, no dump. */
int fwsh_link_index(struct fwsh_ctx *ctx, const char *name);
/* The name of the link with ifindex into ret_name (FWSH_NAME_MAX + 1 bytes),
 * or -ENODEV. */
int fwsh_link_name(struct fwsh_ctx *ctx, int ifindex, char *ret_name);
/* The names of IF_OPER_* ("up", "down", ...) and BR_STATE_* ("forwarding", ...)
 * as ip-link(8) prints them; "(unknown)" past the end of the table. */
const char *fwsh_operstate_name(unsigned state);
const char *fwsh_port_state_name(int state);
/* The link called name. -ENODEV if there is none. */
int fwsh_link_get(struct fwsh_ctx *ctx, const char *name, struct fwsh_link *ret_link);
/* The link with this ifindex. -ENODEV if there is none. */
int fwsh_link_get_index(struct fwsh_ctx *ctx, int ifindex, struct fwsh_link *ret_link);
/* Every link in ctx's namespace, in ifindex order; free(*ret_links) after. */
int fwsh_link_list(struct fwsh_ctx *ctx, struct fwsh_link **ret_links, size_t *ret_n);

/* A change to an existing link; fields left at their INIT value are not touched. */
struct fwsh_link_set {
        int up;                        /* -1, 0, 1 */
        int64_t mtu;                   /* -1 */
        bool set_mac;
        uint8_t mac[6];
        char name[FWSH_NAME_MAX + 1];  /* new name, "" */
        int master;                    /* -1 leave, 0 detach, > 0 attach to that ifindex */
        const char *netns;             /* NULL, or move into this named namespace */
        const char *alias;             /* NULL leave, "" clear */
        struct fwsh_bridge_opts bridge;
};
#define FWSH_LINK_SET_INIT { -1, -1, false, {0}, "", -1, NULL, NULL, FWSH_BRIDGE_OPTS_INIT }

/* Changes the link called name. See ip-link(8) "ip link set". */
int fwsh_link_set(struct fwsh_ctx *ctx, const char *name, const struct fwsh_link_set *set);
/* Deletes the link called name (and a veth's peer with it). -ENODEV if none. */
int fwsh_link_delete(struct fwsh_ctx *ctx, const char *name);

/* ---- bridges ------------------------------------------------------------------ */

struct fwsh_bridge_spec {
        const char *name;
        bool up;
        bool grounding;               /* false: IPv6 off before up, no address, no route */
        struct fwsh_bridge_opts opts;
        bool set_mac;
        uint8_t mac[6];
        int64_t mtu;                  /* -1: kernel default */
};

/* Creates a bridge. A non-grounding one gets IPv6 disabled before it goes up,
 * so it never has a link-local address or a route. If any step fails, the
 * bridge is removed again. -EEXIST if any link has that name.
 * See ip-link(8) "type bridge". */
int fwsh_bridge_add(struct fwsh_ctx *ctx, const struct fwsh_bridge_spec *spec);
/* Creates the bridge as fwsh_bridge_add does and returns 1, or accepts one that
 * exists with the kind and every setting spec gives and returns 0 (bringing it
 * up if spec says up). -EEXIST, the first difference in ctx's detail, if one
 * exists otherwise. */
int fwsh_bridge_ensure(struct fwsh_ctx *ctx, const struct fwsh_bridge_spec *spec);

/* Why a bridge is grounding: what attaches it to the host's IP stack. */
struct fwsh_grounding {
        bool grounding;
        unsigned ipv4_addrs, ipv6_addrs;   /* addresses on the bridge */
        unsigned routes;                   /* routes via it, any table, either family */
        bool ipv6_enabled;                 /* net.ipv6.conf.NAME.disable_ipv6 == 0 */
        char why[FWSH_DETAIL_MAX];         /* the first reason, in words, or "" */
};
int fwsh_bridge_grounding(struct fwsh_ctx *ctx, const char *name, struct fwsh_grounding *ret);

/* Makes a bridge grounding (IPv6 back on: it may get addresses) or not (IPv6
 * off; -EBUSY while it has an address or a route). 0 if it was so already. */
int fwsh_bridge_set_grounding(struct fwsh_ctx *ctx, const char *name, bool grounding);

/* Ports of the bridge called name: ifindexes, ascending; free(*ret) after. */
int fwsh_bridge_ports(struct fwsh_ctx *ctx, const char *name, int **ret_ports, size_t *ret_n);

/* ---- ports ----------------------------------------------------------------------- */

/* Makes port a port of bridge (brctl addif). -EINVAL if bridge is not a bridge
 * or is port itself; -EBUSY if port already has another master. */
int fwsh_port_attach(struct fwsh_ctx *ctx, const char *bridge, const char *port);
/* Takes port off its bridge (brctl delif). -EINVAL if it is on none. */
int fwsh_port_detach(struct fwsh_ctx *ctx, const char *port);

/* ---- taps -------------------------------------------------------------------------- */

struct fwsh_tap_spec {
        const char *name;
        int64_t owner, group;     /* -1: none */
        bool multi_queue, vnet_hdr;
        bool up;
        const char *bridge;       /* attach to this bridge, or NULL */
        int bridge_ifindex;       /* or to this one (> 0), when bridge is NULL */
        int64_t mtu;              /* -1 */
};

/* Creates a persistent tap that qemu can open by name
 * (-netdev tap,ifname=NAME,script=no,downscript=no). If bringing it up or
 * attaching it fails, the tap is removed again. -EEXIST if the name is taken. */
int fwsh_tap_add(struct fwsh_ctx *ctx, const struct fwsh_tap_spec *spec);
/* Creates the tap and returns 1, or accepts an existing tap with the settings
 * spec gives and returns 0 (bringing it up and attaching it as spec says).
 * -EEXIST, the first difference in ctx's detail, if one exists otherwise. */
int fwsh_tap_ensure(struct fwsh_ctx *ctx, const struct fwsh_tap_spec *spec);

/* ---- veth pairs ------------------------------------------------------------------ */

struct fwsh_veth_spec {
        const char *name, *peer;
        const char *peer_netns;   /* put the peer in this named namespace, or NULL */
        bool up;                  /* bring up the end that stays here */
};
int fwsh_veth_add(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec);

/* ---- addresses ---------------------------------------------------------------------- */

struct fwsh_addr {
        int family;               /* AF_INET, AF_INET6 */
        int ifindex;
        uint8_t prefixlen;
        uint8_t scope;            /* RT_SCOPE_* */
        uint8_t bytes[16];
        char text[64];            /* "10.0.0.1/24" */
};

/* Parses "10.0.0.1/24" or "fd00::1/64" (no prefix: a host address). -EINVAL if not one. */
int fwsh_addr_parse(struct fwsh_ctx *ctx, const char *text, struct fwsh_addr *ret);
/* See ip-address(8). -EEXIST if the link has that address already. */
int fwsh_addr_add(struct fwsh_ctx *ctx, const char *link, const char *addr);
/* -EADDRNOTAVAIL if the link has no such address. */
int fwsh_addr_delete(struct fwsh_ctx *ctx, const char *link, const char *addr);
/* Addresses of link (all links if NULL); free(*ret) after. */
int fwsh_addr_list(struct fwsh_ctx *ctx, const char *link, struct fwsh_addr **ret, size_t *ret_n);

/* ---- routes -------------------------------------------------------------------------- */

struct fwsh_route {
        int family;
        char dst[64];             /* "10.1.0.0/24", "default" */
        char via[48];             /* gateway, "" if none */
        char dev[FWSH_NAME_MAX + 1];
        int ifindex;
        uint32_t table;           /* RT_TABLE_MAIN by default */
        uint32_t metric;
        uint8_t scope, protocol, type;
};

/* See ip-route(8). dst is "default" or a prefix; via and dev may be NULL, not both;
 * table 0 means main. -EEXIST if the route exists. */
int fwsh_route_add(struct fwsh_ctx *ctx, const char *dst, const char *via, const char *dev,
                   uint32_t metric, uint32_t table);
int fwsh_route_delete(struct fwsh_ctx *ctx, const char *dst, const char *via, const char *dev,
                      uint32_t metric, uint32_t table);
/* Unicast routes of table (0: every table), through dev if not NULL; free(*ret) after. */
int fwsh_route_list(struct fwsh_ctx *ctx, const char *dev, uint32_t table,
                    struct fwsh_route **ret, size_t *ret_n);

/* ---- network namespaces ---------------------------------------------------------------- */

/* 0 if name is a valid namespace name, -EINVAL (reason in detail) if not. */
int fwsh_netns_check(struct fwsh_ctx *ctx, const char *name);
/* Creates /run/netns/NAME as ip-netns(8) does. -EEXIST if it exists. */
int fwsh_netns_add(struct fwsh_ctx *ctx, const char *name);
/* Removes /run/netns/NAME. -ENOENT if it does not exist. */
int fwsh_netns_delete(struct fwsh_ctx *ctx, const char *name);
/* 1 if it exists (in ctx's plan, if it has one; ctx may be NULL), 0 if not. */
int fwsh_netns_exists(struct fwsh_ctx *ctx, const char *name);
/* Names under /run/netns (or in ctx's plan), sorted; free with fwsh_strv_free. */
int fwsh_netns_list(struct fwsh_ctx *ctx, char ***ret_names, size_t *ret_n);
/* Opens the named namespace: an fd for setns(2), O_CLOEXEC. */
int fwsh_netns_open(struct fwsh_ctx *ctx, const char *name, int *ret_fd);
/* Moves the calling thread into the namespace fd; *ret_saved (an fd) brings it back. */
int fwsh_netns_enter(int fd, int *ret_saved);
/* Returns the calling thread to saved and closes saved. */
int fwsh_netns_leave(int saved);

char **fwsh_strv_free(char **v, size_t n);

/* ---- labs: what fwsh made, found by its tag ------------------------------------------- */

/* A lab and what it has: links tagged "fwsh:NAME" (ifalias) in the namespace
 * searched, and named namespaces it made (their lo carries the tag). */
struct fwsh_lab {
        char name[FWSH_LAB_MAX + 1];
        unsigned links, netns;
        unsigned dirs;                 /* state directories (fwsh_lab_dir_make); down only */
};

/* The link group fwsh puts a lab's links in ("group N" in ip-link(8)), so that
 * `fwsh down` can delete them in one request. */
uint32_t fwsh_lab_group(const char *lab);

/* The labs with objects in ctx's namespace or in /run/netns, sorted by name;
 * free(*ret) after. */
int fwsh_lab_list(struct fwsh_ctx *ctx, struct fwsh_lab **ret, size_t *ret_n);
/* Makes a state directory for lab, /tmp/fwsh-LAB.XXXXXX (mode 0700), with a
 * file .fwsh-lab holding its tag: *ret_path (size bytes) gets its path. The
 * caller removes it when done; `fwsh down` removes what a killed one left. */
int fwsh_lab_dir_make(struct fwsh_ctx *ctx, const char *lab, char *ret_path, size_t size);
/* Removes every object of lab: its links in ctx's namespace (ports first, then
 * bridges), the named namespaces it made, and its state directories (only
 * the caller's own, with the lab's tag inside). Nothing without its tag is
 * touched, whatever its name. What was removed is counted in *ret (may be
 * NULL). Keeps going past a failure and returns the first. */
int fwsh_lab_down(struct fwsh_ctx *ctx, const char *lab, struct fwsh_lab *ret);

/* ---- transactions ------------------------------------------------------------------------ */

struct fwsh_journal *fwsh_journal_new(void);
struct fwsh_journal *fwsh_journal_free(struct fwsh_journal *j);
size_t fwsh_journal_size(const struct fwsh_journal *j);
/* Undoes every recorded change, newest first, and empties j. Keeps going past a
 * failure; returns 0 or the first error (its text in *ret_detail if not NULL,
 * a static buffer valid until the next call). */
int fwsh_journal_rollback(struct fwsh_journal *j, const char **ret_detail);
/* Moves every entry of j to the end of parent (a nested transaction succeeded). */
int fwsh_journal_splice(struct fwsh_journal *parent, struct fwsh_journal *j);

/* ---- batches: bridges and taps made all at once ------------------------------------------ */

/* Opens a batch in ctx: from here, fwsh_bridge_add and fwsh_tap_add check and
 * queue what they would make (a name taken, in the kernel or in the batch,
 * fails at once) and every other change fails with -EOPNOTSUPP; queries see
 * the kernel without what is queued. A tap's bridge may be one the batch
 * makes. -EBUSY if a batch is open; -EOPNOTSUPP for a plan or an explained
 * context (they go on one change at a time). */
int fwsh_batch_begin(struct fwsh_ctx *ctx);
bool fwsh_batch_is_open(const struct fwsh_ctx *ctx);
/* Whether ctx's open batch makes the bridge name. */
bool fwsh_batch_has_bridge(const struct fwsh_ctx *ctx, const char *name);
/* Drops what is queued and closes the batch; nothing was made. */
void fwsh_batch_abort(struct fwsh_ctx *ctx);

struct fwsh_batch_failure {
        char kind[16];                 /* "bridge" or "tap", "" if none in particular */
        char name[FWSH_NAME_MAX + 1];
};
/* Makes what is queued and closes the batch: the bridges, 32 at a time (their
 * creates in one sendmsg; IPv6 off where asked; their tags in another), then
 * the taps, 32 at a time (the ioctls, one tap at a time; their settings in one
 * sendmsg). At most 32 links are ever made but not yet tagged. The journal
 * gets each link's removal. If the kernel refuses one, every link the
 * batch made is removed again, *ret_failed names the one refused, and the
 * error is returned with its reason. */
int fwsh_batch_commit(struct fwsh_ctx *ctx, struct fwsh_batch_failure *ret_failed);

/* ---- kernel modules, through libkmod ------------------------------------------------- */

/* Where a module is, for the running kernel or a mounted image. */
enum fwsh_module_state {
        FWSH_MODULE_MISSING,      /* not built in, not loaded, no module file */
        FWSH_MODULE_AVAILABLE,    /* a module file, not loaded */
        FWSH_MODULE_LOADED,       /* loaded (/sys/module/NAME/initstate) */
        FWSH_MODULE_BUILTIN,      /* part of the kernel image */
};
/* "missing", "available", "loaded", "builtin"; "(unknown)" past the end. */
const char *fwsh_module_state_name(enum fwsh_module_state state);

/* The modules of one kernel release under one root: ROOT/lib/modules/RELEASE
 * and ROOT's modprobe.d. Live state (/sys/module, /proc/sys, /proc/modules) is
 * used only when RELEASE is the running kernel's. */
struct fwsh_modules;

/* Opens the modules of release (NULL: uname -r) under root (NULL or "/": this
 * system). A missing ROOT/lib/modules/RELEASE is no error: this kernel may have
 * no module support, and built-in features are still found. Returns 0, or
 * -ENOMEM, -EINVAL (a relative root or a release with '/'), -ENOENT (no root). */
int fwsh_modules_open(struct fwsh_ctx *ctx, const char *root, const char *release,
                      struct fwsh_modules **ret_modules);
/* Closes m. Returns NULL. */
struct fwsh_modules *fwsh_modules_free(struct fwsh_modules *m);
/* The module directory m reads, ROOT/lib/modules/RELEASE. */
const char *fwsh_modules_dir(const struct fwsh_modules *m);

/* The state of the module called name (or an alias of one; '-' and '_' are the
 * same), and in *ret_source (if not NULL, FWSH_DETAIL_MAX bytes) what says so:
 * "/sys/module/bridge", "/proc/sys/net/bridge", "modules.builtin", a module
 * file's path, "CONFIG_NF_CONNTRACK_BRIDGE is not set in /proc/config.gz".
 * Returns 0, or -EINVAL for a name that cannot be a module's.
 * @see modprobe(8), modules.builtin(5) */
int fwsh_module_status(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name,
                       enum fwsh_module_state *ret_state, char *ret_source);

#define FWSH_MODULE_DRY_RUN 0x1   /* resolve and report, insert nothing (modprobe -n) */

/* Loads name with what it depends on, soft dependencies and modprobe.d options
 * included, as modprobe(8) does; params ("a=1 b=x") go to name itself. Returns
 * 1 if it (or, dry run, would) insert modules, 0 if name is loaded or built in
 * already. *ret_steps (if not NULL) lists each module inserted, in order, as
 * "name" or "name params"; free with fwsh_strv_free. Fails with -ENOENT (no such
 * module), -EPERM (no CAP_SYS_MODULE, or blacklisted), -ENOSYS (a kernel with
 * no module support), -EOPNOTSUPP (modprobe.d wants an install command run:
 * fwsh runs no shell), -EXDEV (a release that is not the running kernel's),
 * or the kernel's init_module(2) error, the reason in ctx's detail.
 * @see modprobe(8), init_module(2) */
int fwsh_module_load(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name,
                     const char *params, unsigned flags, char ***ret_steps, size_t *ret_n);

/* Unloads name (modprobe -r, without its dependencies). Returns 1 if it was
 * unloaded, 0 if it was not loaded. -EPERM for a built-in module ("built in,
 * cannot be unloaded") or without CAP_SYS_MODULE, -ENOENT for an unknown name,
 * -EBUSY (its users in ctx's detail) if it is in use. @see delete_module(2) */
int fwsh_module_unload(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name);

struct fwsh_module_param {
        char *name;
        char *type;          /* "int", "charp", ... or NULL */
        char *description;   /* or NULL */
        char *value;         /* now, from /sys/module/NAME/parameters, or NULL */
};

struct fwsh_module_info {
        char *name;                   /* the module's own name ("br_netfilter") */
        enum fwsh_module_state state;
        char *source;                 /* what says so, as fwsh_module_status gives it */
        char *path;                   /* the module file, or NULL */
        char *description, *license;  /* from its .modinfo, or NULL */
        char **depends;               /* modules.dep, in the order they load */
        size_t n_depends;
        char **softdeps_pre, **softdeps_post;
        size_t n_softdeps_pre, n_softdeps_post;
        struct fwsh_module_param *params;
        size_t n_params;
        int refcnt;                   /* users while loaded, or -1 */
        char **holders;               /* modules that use it while loaded */
        size_t n_holders;
};

/* What is known about name: its file, dependencies and parameters (from the
 * module file, or from /sys/module/NAME/parameters for a built-in one). A
 * missing module is no error: its info says so. Free with fwsh_module_info_free.
 * @see modinfo(8) */
int fwsh_module_info(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name,
                     struct fwsh_module_info **ret_info);
struct fwsh_module_info *fwsh_module_info_free(struct fwsh_module_info *info);

/* ---- boot persistence: modules-load.d and the kernel command line ------------------ */

#define FWSH_BOOT_MODULES_LOAD 0x1  /* ROOT/etc/modules-load.d/fwsh.conf, one module a line */
#define FWSH_BOOT_GRUB         0x2  /* rd.driver.pre= in GRUB_CMDLINE_LINUX, ROOT/etc/default/grub */

/* What one call did to one file. */
struct fwsh_boot_file {
        char *path;               /* the file, under root */
        bool changed;             /* written (or removed) by this call */
        char **changed_modules;   /* added by persist, taken out by remove */
        size_t n_changed;
        char **kept;              /* persist: there already; remove: not fwsh's, left */
        size_t n_kept;
};

struct fwsh_boot_result {
        struct fwsh_boot_file modules_load, grub;   /* path NULL: not asked for */
};
/* Frees what r holds and zeroes it. */
void fwsh_boot_result_clear(struct fwsh_boot_result *r);

/* Makes modules load at boot, in the files `what` names, under root (NULL or
 * "/": this system; else a mounted image). Adds only what is missing; a re-run
 * changes nothing. GRUB_CMDLINE_LINUX is edited in place: the modules go on
 * an existing rd.driver.pre= list, or on one added at the end of the value;
 * every other byte of the file stays as it was. Each file is replaced
 * atomically (a temporary file renamed over it); the grub file's previous
 * bytes are kept as grub.bak. What fwsh added to the grub file is recorded in
 * ROOT/var/lib/fwsh/grub-cmdline, so that fwsh_boot_remove takes out only that.
 * Returns 0, or -EINVAL (a bad module name; a GRUB_CMDLINE_LINUX that is not
 * one plain or quoted word), -ENOENT (no ROOT/etc/default/grub), -errno of a
 * file operation, the file in ctx's detail. modules-load.d is done first: a
 * failure on grub leaves it done (a re-run completes the rest).
 * @see modules-load.d(5), dracut.cmdline(7) "rd.driver.pre", grub-mkconfig(8) */
int fwsh_boot_persist(struct fwsh_ctx *ctx, const char *root, const char *const *modules,
                      size_t n, unsigned what, struct fwsh_boot_result *ret);
/* Undoes fwsh_boot_persist for modules (NULL: all it added): takes them out of
 * fwsh.conf (removed once it lists none), and out of GRUB_CMDLINE_LINUX only
 * where fwsh put them there, with the rd.driver.pre= option, the quotes or the
 * line it added, so that the file is again byte for byte what it was. */
int fwsh_boot_remove(struct fwsh_ctx *ctx, const char *root, const char *const *modules,
                     size_t n, unsigned what, struct fwsh_boot_result *ret);

struct fwsh_boot_status {
        char *modules_load_path;      /* ROOT/etc/modules-load.d/fwsh.conf */
        bool modules_load_exists;
        char **modules_load;          /* the modules it lists */
        size_t n_modules_load;
        char *grub_path;              /* ROOT/etc/default/grub */
        bool grub_exists;
        char **grub;                  /* in rd.driver.pre= of GRUB_CMDLINE_LINUX */
        size_t n_grub;
        char **grub_fwsh;             /* of those, what fwsh added */
        size_t n_grub_fwsh;
};
int fwsh_boot_status(struct fwsh_ctx *ctx, const char *root, struct fwsh_boot_status *ret);
void fwsh_boot_status_clear(struct fwsh_boot_status *st);

struct fwsh_boot_run {
        char *command;            /* what ran, as one line */
        char *output;             /* its standard output and error, interleaved */
        int status;               /* exit status, or -1 if killed */
        int signal;               /* the signal that killed it, or 0 */
};
/* Regenerates grub.cfg: runs argv (NULL: update-grub, or grub-mkconfig -o
 * /boot/grub/grub.cfg, whichever root has), chrooted into root if it is not
 * "/", with fork and exec, no shell. Returns 0 when it ran, whatever its exit
 * status; -ENOENT if neither tool is there; -errno if it could not be started.
 * Free *ret with fwsh_boot_run_clear. @see update-grub(8), grub-mkconfig(8) */
int fwsh_boot_regenerate(struct fwsh_ctx *ctx, const char *root, const char *const *argv,
                         struct fwsh_boot_run *ret);
void fwsh_boot_run_clear(struct fwsh_boot_run *run);

/* ---- the bridge netfilter switches (br_netfilter), per namespace ------------------ */

enum fwsh_brnf {
        FWSH_BRNF_IPTABLES,       /* net.bridge.bridge-nf-call-iptables */
        FWSH_BRNF_IP6TABLES,      /* net.bridge.bridge-nf-call-ip6tables */
        FWSH_BRNF_ARPTABLES,      /* net.bridge.bridge-nf-call-arptables */
        FWSH_BRNF_COUNT
};
/* "iptables", "ip6tables", "arptables"; NULL past the end. */
const char *fwsh_brnf_name(enum fwsh_brnf which);
/* Whether bridged traffic in ctx's namespace goes through which's hooks.
 * -ENOENT, "br_netfilter is not loaded" in ctx's detail, when there is no
 * /proc/sys/net/bridge. @see bridge(8), ip-sysctl.rst "bridge-nf-call-iptables" */
int fwsh_brnf_get(struct fwsh_ctx *ctx, enum fwsh_brnf which, bool *ret_on);
/* Turns the switch on or off in ctx's namespace (recorded for rollback).
 * Returns 1 if it changed, 0 if it was so already; -ENOENT as for get,
 * -EPERM without CAP_NET_ADMIN over the namespace. */
int fwsh_brnf_set(struct fwsh_ctx *ctx, enum fwsh_brnf which, bool on);

/* ---- firewalld zones, over D-Bus ---------------------------------------------------- */

#define FWSH_FIREWALLD_RUNTIME   0x1   /* the running configuration */
#define FWSH_FIREWALLD_PERMANENT 0x2   /* the saved one (/etc/firewalld/zones) */

/* A connection to firewalld. */
struct fwsh_firewalld;

/* Connects to firewalld on the bus at address (NULL: the system bus, or
 * $DBUS_SYSTEM_BUS_ADDRESS) and checks that it is there. -ECONNREFUSED if
 * there is no such bus, -ESRCH if firewalld is not running on it, with the
 * reason in ctx's detail. @see firewalld.dbus(5) */
int fwsh_firewalld_open(struct fwsh_ctx *ctx, const char *address, struct fwsh_firewalld **ret_fw);
/* Closes fw. Returns NULL. */
struct fwsh_firewalld *fwsh_firewalld_close(struct fwsh_firewalld *fw);

/* The zone iface is in (scope: one of RUNTIME, PERMANENT), or NULL in
 * *ret_zone if none; free(*ret_zone) after. */
int fwsh_firewalld_zone_of(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *iface,
                           unsigned scope, char **ret_zone);
/* Puts iface in zone, in each scope of scopes. Returns the scopes where it
 * changed something (0: it was there already). An interface in another zone
 * is moved there if move, else -EEXIST naming that zone. -ENOENT for an
 * unknown zone, -EINVAL for a bad name, -EACCES if firewalld says no; a
 * failure in the permanent scope leaves the runtime change made.
 * @see firewall-cmd(1) "--add-interface", "--change-interface" */
int fwsh_firewalld_add(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                       const char *iface, unsigned scopes, bool move);
/* Takes iface out of zone in each scope of scopes. Returns the scopes where
 * it changed something (0: it was not in zone). @see firewall-cmd(1) */
int fwsh_firewalld_remove(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                          const char *iface, unsigned scopes);
/* The interfaces in zone (scope: one of RUNTIME, PERMANENT), sorted; free with
 * fwsh_strv_free. */
int fwsh_firewalld_interfaces(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                              unsigned scope, char ***ret_ifaces, size_t *ret_n);


/* ---- processes: argv lists, in a namespace, owned by their lab ------------------------------ */

struct fwsh_proc;

struct fwsh_proc_spec {
        const char *const *argv;  /* NULL-ended; argv[0] is looked up in PATH; never a shell */
        int netns_fd;             /* run in this network namespace, or -1: the caller's */
        const char *lab;          /* recorded with it; NULL: ctx's lab */
        const char *stdin_path;   /* NULL: /dev/null */
        const char *stdout_path;  /* spawn only, appended to; NULL: /dev/null */
        const char *stderr_path;  /* spawn only; NULL: where stdout goes */
};
#define FWSH_PROC_SPEC_INIT { NULL, -1, NULL, NULL, NULL, NULL }

struct fwsh_proc_result {
        int status;               /* as waitpid(2) gives it */
        char *out, *err;          /* what it wrote, NUL-ended (NULL if nothing) */
        size_t out_len, err_len;
};

/* Starts argv in its own process group, with SIGKILL as its parent-death
 * signal, and records it in the registry with its lab. -ENOENT etc. (the exec's
 * own errno, with the reason in ctx's detail) if it cannot be started. */
int fwsh_proc_spawn(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, struct fwsh_proc **ret_proc);
/* Runs argv to its end, capturing stdout and stderr. -ETIMEDOUT (and the
 * process group killed and reaped) if it runs longer than timeout_ms (< 0: no
 * limit). Free *ret with fwsh_proc_result_clear. */
int fwsh_proc_run(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, int timeout_ms,
                  struct fwsh_proc_result *ret);
void fwsh_proc_result_clear(struct fwsh_proc_result *res);
/* Waits up to timeout_ms (< 0: for ever) for p to end and reaps it. -ETIMEDOUT. */
int fwsh_proc_wait(struct fwsh_proc *p, int timeout_ms, int *ret_status);
/* Sends sig to p's process group. -ESRCH if it has ended. */
int fwsh_proc_signal(struct fwsh_proc *p, int sig);
/* SIGTERM to the group, SIGKILL after grace_ms, and reaped. 0 (also if it had ended). */
int fwsh_proc_stop(struct fwsh_proc *p, int grace_ms);
pid_t fwsh_proc_pid(const struct fwsh_proc *p);    /* 0 once reaped */
bool fwsh_proc_running(struct fwsh_proc *p);       /* reaps it if it has ended */
const char *fwsh_proc_lab(const struct fwsh_proc *p);
/* Lets go of p; one still running stays in the registry until it is stopped. Returns NULL. */
struct fwsh_proc *fwsh_proc_free(struct fwsh_proc *p);
/* Stops every recorded process of lab (NULL: of every lab) as fwsh_proc_stop
 * does, all at once; returns how many were running. */
int fwsh_proc_stop_lab(const char *lab, int grace_ms);

/* ---- nftables ----------------------------------------------------------------------------- */

/* Runs nft(8) commands (a ruleset file's text: "flush ruleset\ntable inet f { ... }")
 * through libnftables in the namespace netns_fd (-1: the caller's), as one
 * transaction: all or nothing. On success *ret_output (may be NULL) is what nft
 * printed (JSON if json), to free(). -EINVAL with nft's own message in ctx's
 * detail if it refuses. See nft(8), libnftables(3). */
int fwsh_nft_run(struct fwsh_ctx *ctx, int netns_fd, const char *cmds, bool json, char **ret_output);

/* ---- the forwarding database of a bridge -------------------------------------------------- */

struct fwsh_fdb {
        uint8_t mac[6];
        int ifindex;              /* the port it was seen on */
        uint16_t state;           /* NUD_* */
        uint8_t flags;            /* NTF_* */
        bool local;               /* permanent: the port's or bridge's own address */
};

/* Entries of bridge's FDB (ports' entries: NDA_MASTER is the bridge); free(*ret) after. */
int fwsh_fdb_list(struct fwsh_ctx *ctx, const char *bridge, struct fwsh_fdb **ret, size_t *ret_n);
/* The ifindex of the port where bridge learned mac, 0 if it has not (or no
 * longer has) an entry for it. */
int fwsh_fdb_port(struct fwsh_ctx *ctx, const char *bridge, const uint8_t mac[6]);

/* ---- events: link and neighbour changes of one namespace ---------------------------------- */

struct fwsh_monitor;
struct fwsh_monitor_stats {
        unsigned long link_events, neigh_events;
        unsigned long overruns;   /* ENOBUFS: events were lost, state must be dumped again */
};

/* A socket subscribed to RTNLGRP_LINK and RTNLGRP_NEIGH in ctx's namespace. */
int fwsh_monitor_open(struct fwsh_ctx *ctx, struct fwsh_monitor **ret_mon);
struct fwsh_monitor *fwsh_monitor_free(struct fwsh_monitor *m);
/* Waits up to timeout_ms (< 0: for ever) for events and consumes all that
 * are pending. 1 if any came (or some were lost: an overrun), 0 on timeout. */
int fwsh_monitor_wait(struct fwsh_monitor *m, int timeout_ms);
int fwsh_monitor_fd(const struct fwsh_monitor *m);
void fwsh_monitor_get_stats(const struct fwsh_monitor *m, struct fwsh_monitor_stats *ret);
#endif
