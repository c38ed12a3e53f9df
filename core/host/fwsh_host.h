/* fwsh_host.h - the public face of core/host/: the host's own setup: kernel
 * modules and their boot persistence, the bridge netfilter switches, firewalld.
 * It may use core/base/ and core/change/, never core/net/ or core/lab/. */
#ifndef FWSH_HOST_H
#define FWSH_HOST_H

#include "base/fwsh_base.h"

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

#endif
