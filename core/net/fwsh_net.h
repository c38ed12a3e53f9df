/* fwsh_net.h - the public face of core/net/: the kernel's network objects of one
 * namespace (links of every kind, addresses, routes, named namespaces, the
 * bridge FDB, link events), and batches of them. Every change goes through
 * core/change/; nothing here calls core/host/ or core/lab/. */
#ifndef FWSH_NET_H
#define FWSH_NET_H

#include "base/fwsh_base.h"
#include "change/fwsh_change.h"

/* ---- contexts on the kernel ------------------------------------------------------ */

/* Opens a context for the network namespace the calling thread is in now: a
 * netlink socket bound to that namespace and a handle on the namespace itself.
 * Returns 0, or -errno (-EPROTONOSUPPORT, -ENOMEM, ...). */
int fwsh_ctx_open(struct fwsh_ctx **ret_ctx);
/* From now on, changes through ctx are not made but checked against and made
 * on a model of its namespace, and queries read the model: a dry run. The model
 * starts as the kernel's state now, or (empty) as a new namespace with only lo.
 * world_of (may be NULL) shares its planned set of named namespaces. */
int fwsh_ctx_plan(struct fwsh_ctx *ctx, struct fwsh_ctx *world_of, bool empty);

/* ---- links: any kind ------------------------------------------------------- */

/* ---- a kind's options: one row each (opt_row.c) ---------------------------------- */

/* The unit an option has in the API; the kernel's is the row's nla width. */
enum fwsh_opt_unit {
        FWSH_OPT_BOOL,   /* true/false; 0/1 in the kernel */
        FWSH_OPT_INT,    /* a whole number, as the kernel has it */
        FWSH_OPT_CS,     /* seconds, in whole hundredths: the kernel counts centiseconds */
        FWSH_OPT_USER,   /* a user, by id or name: a uid */
        FWSH_OPT_GROUP,  /* a group, by id or name: a gid */
};
/* How a row differs from the plain case. */
enum {
        FWSH_ROW_BE16 = 1 << 0,  /* an NLA_U16 in network byte order (a port) */
        FWSH_ROW_EXACT = 1 << 1, /* ensure compares it also when not asked: absent is its default */
        FWSH_ROW_WORD = 1 << 2,  /* a bool ip(8) says as WORD or noWORD, and only off its default */
};
/* One option of a link kind: everything about it that is not generic. Parse,
 * put, undo, ensure's comparison, explain, the plan model, the bindings'
 * reader, the renderer and the help text all read these rows. */
struct fwsh_opt_row {
        const char *name;     /* the Lua key and the renderer's field */
        const char *ip_word;  /* ip(8)'s word for it */
        uint16_t attr;        /* IFLA_BR_*, IFLA_TUN_*, IFLA_VXLAN_* */
        uint8_t nla;          /* NLA_U8, NLA_U16 or NLA_U32 */
        uint8_t unit;         /* enum fwsh_opt_unit */
        uint8_t flags;        /* FWSH_ROW_* */
        uint32_t min, max;    /* in the kernel's unit */
        int64_t dflt;         /* a new link's value, as the kernel sets it; -1: none (the plan model) */
        const char *needs;    /* a kernel config it needs, NULL: it is always there */
        const char *help;
};
/* A kind's rows. key: the renderer's object for them ("bridge", "tap"). */
struct fwsh_opt_table {
        const char *key;
        const struct fwsh_opt_row *rows;
        size_t n;
};
#define FWSH_OPTS_MAX 16
/* A value per row, in the kernel's unit. Unset is all zero, so a batch keeps
 * none of it beyond what a creation sets. */
struct fwsh_opt_values {
        uint32_t set;                 /* bit i: v[i] is given (to set, or read back) */
        uint32_t v[FWSH_OPTS_MAX];    /* by row of the kind's table */
};
#define FWSH_OPTS_INIT { 0, { 0 } }
/* The option rows of the link kind called kind, NULL if it has none. */
const struct fwsh_opt_table *fwsh_kind_opts(const char *kind);
/* Row i's value in o, or -1 if o does not give it. */
int64_t fwsh_opt_get(const struct fwsh_opt_values *o, size_t i);
void fwsh_opt_put(struct fwsh_opt_values *o, size_t i, uint32_t v);

/* A VXLAN's ends, as a link has them and as a change asks for them: one
 * type, so that the plan model and a rollback copy them whole. */
struct fwsh_vxlan_ends {
        int family;                    /* of local and remote: AF_INET, AF_INET6, 0 (neither) */
        bool has_local, has_remote;
        uint8_t local[16], remote[16]; /* remote: unicast peer or multicast group */
        int dev;                       /* the underlay's ifindex, 0 */
};

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
        struct fwsh_opt_values opts;     /* its kind's options (fwsh_kind_opts), as the kernel reports them */
        struct {
                char id[24];       /* "8000.aabbccddeeff", as brctl shows it */
        } bridge;
        struct fwsh_vxlan_ends vxlan; /* its ends, which are not option rows */
        struct {
                bool persist;
                unsigned queues;       /* queues attached: > 0 while a process holds it open */
        } tun;
        int port_state;            /* as a bridge port: BR_STATE_*, -1 if not a port */
};

/* What the renderers need to know of a link's kind, without naming it. */
enum {
        FWSH_KIND_PORTS = 1 << 0,  /* a bridge: other links are its ports; it has bridge options */
        FWSH_KIND_PAIR = 1 << 1,   /* a veth: made and deleted with its peer */
        FWSH_KIND_TUN = 1 << 2,    /* a tap or tun: it has the tun settings */
};
unsigned fwsh_link_kind_flags(const char *kind);
/* The Lua handle type of a link of this kind ("fwsh.bridge", ...), "fwsh.link"
 * for a kind with no handle type of its own: the bindings' type registry. */
const char *fwsh_link_kind_type(const char *kind);
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

/* ---- link impairment (netem; tbf under it for a rate) ------------------------ */

/* What a link does to the packets it sends, as tc-netem(8) does it: each
 * field 0 is off. A link's impairment is fwsh's own root qdisc (netem,
 * handle f5f5:, with a tbf f5f6: under it for a rate), so that a root qdisc
 * someone else put there is never replaced. */
struct fwsh_impair {
        double delay_ms, jitter_ms;  /* 0..60000 */
        double loss, duplicate, corrupt, reorder; /* percent, 0..100 */
        uint64_t rate_bit;           /* bit/s, 0 unlimited; 8..2^35 - 8 */
};
/* Sets the impairment of the link called name (im NULL or nothing in it:
 * removes it): journaled, its inverse the impairment before. -EINVAL for a
 * value out of range, -EBUSY if the link's root qdisc is not the kernel's
 * default nor fwsh's. */
int fwsh_link_impair(struct fwsh_ctx *ctx, const char *name, const struct fwsh_impair *im);
/* The impairment of the link called name, read from the kernel: 1 and *ret
 * if it has one, 0 if not; ret_other (may be NULL; 16 bytes) gets the kind
 * of a root qdisc that is not fwsh's nor a default one, "" if none. */
int fwsh_link_impairment(struct fwsh_ctx *ctx, const char *name, struct fwsh_impair *ret,
                         char *ret_other);
/* Every impaired link of ctx's namespace, from one dump; free(*ret) after. */
struct fwsh_impaired {
        int ifindex;
        struct fwsh_impair im;
};
int fwsh_impair_list(struct fwsh_ctx *ctx, struct fwsh_impaired **ret, size_t *ret_n);

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
        struct fwsh_opt_values opts;         /* the kind's options (only a bridge's can change) */
};
#define FWSH_LINK_SET_INIT { -1, -1, false, {0}, "", -1, NULL, NULL, FWSH_OPTS_INIT }

/* Changes the link called name. See ip-link(8) "ip link set". */
int fwsh_link_set(struct fwsh_ctx *ctx, const char *name, const struct fwsh_link_set *set);
/* Deletes the link called name (and a veth's peer with it). -ENODEV if none. */
int fwsh_link_delete(struct fwsh_ctx *ctx, const char *name);
/* Deletes the link this run made as ifindex, called name, if it still is:
 * that name at that ifindex, carrying ctx's lab's tag. 1 if deleted, 0 if
 * it is gone or another's (left alone), or -errno. */
int fwsh_link_delete_made(struct fwsh_ctx *ctx, const char *name, int ifindex);

/* ---- bridges ------------------------------------------------------------------ */

struct fwsh_bridge_spec {
        const char *name;
        bool up;
        bool grounding;               /* false: IPv6 off before up, no address, no route */
        struct fwsh_opt_values opts;        /* by row of fwsh_kind_opts("bridge") */
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
        struct fwsh_opt_values opts;    /* by row of fwsh_kind_opts("tap"): owner, group, ... */
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
        int64_t mtu;              /* both ends', -1: the kernel's (1500) */
        bool up;                  /* bring up the end that stays here */
};
int fwsh_veth_add(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec);
/* Adds the pair and returns 1, or accepts an existing veth called spec->name
 * whose peer is spec->peer (in spec->peer_netns, if given) and whose MTU is
 * spec->mtu (if given), and returns 0, bringing it up if spec says up.
 * -EEXIST, the first difference in ctx's detail, if one exists otherwise. */
int fwsh_veth_ensure(struct fwsh_ctx *ctx, const struct fwsh_veth_spec *spec);

/* ---- VXLAN links -------------------------------------------------------------------- */

struct fwsh_vxlan_spec {
        const char *name;
        struct fwsh_opt_values opts;    /* by row of fwsh_kind_opts("vxlan"): id (the VNI, needed),
                                   * dstport (absent: 4789), learning... */
        const char *local;        /* the source address of the outer packets, or NULL */
        const char *remote;       /* the peer (unicast) or a multicast group, or NULL */
        const char *dev;          /* the underlay's link, or NULL (then the route decides) */
        int64_t mtu;              /* -1: the kernel's: dev's MTU less the outer headers
                                   * (50 bytes over IPv4, 70 over IPv6), 1450 without dev */
        bool up;
};
/* Adds a VXLAN link (ip-link(8) "type vxlan"); everything is checked before
 * anything is asked of the kernel. */
int fwsh_vxlan_add(struct fwsh_ctx *ctx, const struct fwsh_vxlan_spec *spec);
/* Adds the VXLAN and returns 1, or accepts an existing one with every setting
 * spec gives (its rows, dstport 4789 if not given, local, remote, dev, mtu)
 * and returns 0, bringing it up if spec says up. -EEXIST, the first
 * difference in ctx's detail, if one exists otherwise. */
int fwsh_vxlan_ensure(struct fwsh_ctx *ctx, const struct fwsh_vxlan_spec *spec);

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

/* Creates /run/netns/NAME as ip-netns(8) does. -EEXIST if it exists. */
int fwsh_netns_add(struct fwsh_ctx *ctx, const char *name);
/* Removes /run/netns/NAME. -ENOENT if it does not exist. */
int fwsh_netns_delete(struct fwsh_ctx *ctx, const char *name);
/* The identity of the namespace called name, its cookie (SO_NETNS_COOKIE:
 * never given to another while the system runs), into *ret; 0 in a plan, or
 * where the kernel has no cookie. */
int fwsh_netns_id(struct fwsh_ctx *ctx, const char *name, uint64_t *ret);
/* Removes /run/netns/NAME if it is still the namespace id (fwsh_netns_id):
 * 1 if removed, 0 if it is gone or another's (left alone), or -errno. */
int fwsh_netns_delete_made(struct fwsh_ctx *ctx, const char *name, uint64_t id);
/* 1 if it exists (in ctx's plan, if it has one; ctx may be NULL), 0 if not. */
int fwsh_netns_exists(struct fwsh_ctx *ctx, const char *name);
/* Names under /run/netns (or in ctx's plan), sorted; free with fwsh_strv_free. */
int fwsh_netns_list(struct fwsh_ctx *ctx, char ***ret_names, size_t *ret_n);

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
void fwsh_monitor_get_stats(const struct fwsh_monitor *m, struct fwsh_monitor_stats *ret);

#endif
