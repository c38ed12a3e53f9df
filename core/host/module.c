/* module.c - kernel modules through libkmod: status, load with dependencies,
 * unload, info. Never runs modprobe or a shell.
 *
 * A kernel built without module support (no /proc/modules, no /lib/modules)
 * still has its built-in features, and says so in three places that this file
 * reads in turn: /sys/module/NAME (a built-in module with parameters or a
 * version), the /proc entries a known feature makes (br_netfilter makes
 * /proc/sys/net/bridge), and the kernel's own configuration (/boot/config-REL
 * or /proc/config.gz). libkmod alone would call a /sys/module/NAME without an
 * initstate file "coming", which on such a kernel is never true. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libkmod.h>
#include <zlib.h>

#include "base/dlib.h"
#include "internal.h"

#define KMOD_SYMBOLS(X) \
        X(kmod_list_next) \
        X(kmod_module_apply_filter) \
        X(kmod_module_get_dependencies) \
        X(kmod_module_get_holders) \
        X(kmod_module_get_info) \
        X(kmod_module_get_module) \
        X(kmod_module_get_name) \
        X(kmod_module_get_path) \
        X(kmod_module_get_refcnt) \
        X(kmod_module_get_softdeps) \
        X(kmod_module_info_free_list) \
        X(kmod_module_info_get_key) \
        X(kmod_module_info_get_value) \
        X(kmod_module_new_from_lookup) \
        X(kmod_module_new_from_name) \
        X(kmod_module_probe_insert_module) \
        X(kmod_module_remove_module) \
        X(kmod_module_unref) \
        X(kmod_module_unref_list) \
        X(kmod_new) \
        X(kmod_set_log_fn) \
        X(kmod_unref)

KMOD_SYMBOLS(DLIB_SYM)
static const struct dlib_sym KMOD_SYMS[] = { KMOD_SYMBOLS(DLIB_ARG) { NULL, NULL } };
static struct dlib libkmod = { "libkmod.so.2", KMOD_SYMS, NULL };

/* zlib, for the kernel's configuration (plain or gzip): only asked for a
 * module that is not loaded. */
#define ZLIB_SYMBOLS(X) X(gzopen) X(gzgets) X(gzclose)
ZLIB_SYMBOLS(DLIB_SYM)
static const struct dlib_sym ZLIB_SYMS[] = { ZLIB_SYMBOLS(DLIB_ARG) { NULL, NULL } };
static struct dlib libz = { "libz.so.1", ZLIB_SYMS, NULL };

/* kmod_list_foreach, through the loaded kmod_list_next. */
#define each_kmod(e, first) for ((e) = (first); (e); (e) = sym_kmod_list_next((first), (e)))

#define MODULE_NAME_MAX 64   /* the kernel's MODULE_NAME_LEN, with room to spare */
#define ALIAS_MAX 255

struct fwsh_modules {
        struct kmod_ctx *kmod;
        char root[PATH_MAX];          /* "" for / */
        char release[65];
        char dir[PATH_MAX];           /* ROOT/lib/modules/RELEASE */
        bool live;                    /* release is the running kernel's */
        char log[FWSH_DETAIL_MAX];    /* libkmod's last error message */
};

/* Known features: the /proc entry each makes when it is in the kernel, and its
 * configuration symbol. Only for names that are worth asking about and that
 * may be built in without a /sys/module entry. */
static const struct feature {
        const char *module, *proc, *config;
} FEATURES[] = {
        { "br_netfilter", "/proc/sys/net/bridge", "BRIDGE_NETFILTER" },
        { "nf_conntrack_bridge", NULL, "NF_CONNTRACK_BRIDGE" },
        { "bridge", NULL, "BRIDGE" },
        { "nf_conntrack", "/proc/sys/net/netfilter/nf_conntrack_max", "NF_CONNTRACK" },
        { "nf_tables", NULL, "NF_TABLES" },
        { "nft_chain_nat", NULL, "NFT_NAT" },
        { "ipv6", "/proc/sys/net/ipv6", "IPV6" },
        { "tun", NULL, "TUN" },
        { "veth", NULL, "VETH" },
        { "dummy", NULL, "DUMMY" },
        { "vxlan", NULL, "VXLAN" },
        { "8021q", "/proc/net/vlan", "VLAN_8021Q" },
        { "bonding", "/sys/class/net/bonding_masters", "BONDING" },
};

static const struct feature *feature_of(const char *name)
{
        for (size_t i = 0; i < FWSH_N(FEATURES); i++)
                if (strcmp(FEATURES[i].module, name) == 0)
                        return &FEATURES[i];
        return NULL;
}

const char *fwsh_module_state_name(enum fwsh_module_state state)
{
        static const char *const names[] = { "missing", "available", "loaded", "builtin" };
        return (unsigned)state < FWSH_N(names) ? names[state] : "(unknown)";
}

/* ---- small helpers ------------------------------------------------------------ */

static bool is_dir(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* libkmod logs to stderr unless told otherwise: keep its last words instead. */
static void kmod_log(void *data, int priority, const char *file, int line, const char *fn,
                     const char *format, va_list args)
{
        struct fwsh_modules *m = data;
        size_t n;

        (void)priority, (void)file, (void)line, (void)fn;
        vsnprintf(m->log, sizeof(m->log), format, args);
        n = strlen(m->log);
        while (n > 0 && m->log[n - 1] == '\n')
                m->log[--n] = '\0';
}

/* Says in source (FWSH_DETAIL_MAX bytes) what told the state; long paths are cut. */
static void say(char *source, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *source, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(source, FWSH_DETAIL_MAX, fmt, ap);
        va_end(ap);
}

/* ---- opening ---------------------------------------------------------------------- */

int fwsh_modules_open(struct fwsh_ctx *ctx, const char *root, const char *release,
                      struct fwsh_modules **ret_modules)
{
        struct fwsh_modules *m;
        struct utsname u;
        char conf[4][PATH_MAX];
        const char *confv[5];
        int r;
        static const char *const CONF_DIRS[] = { "/etc/modprobe.d", "/run/modprobe.d",
                                                 "/usr/local/lib/modprobe.d", "/lib/modprobe.d" };

        if (ctx)
                ctx_clear(ctx);
        if (root && root[0] != '/')
                return ctx_fail(ctx, -EINVAL, "root %s is not an absolute path", root);
        if (root && !is_dir(root))
                return ctx_fail(ctx, -ENOENT, "root %s is not a directory", root);
        if (release && (!release[0] || strchr(release, '/') || strlen(release) >= sizeof(u.release)))
                return ctx_fail(ctx, -EINVAL, "'%s' is not a kernel release", release);
        if (uname(&u) < 0)
                return ctx_fail(ctx, -errno, "uname: %s", strerror(errno));
        if ((r = dlib_open(ctx, &libkmod)) < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        if (root && strcmp(root, "/") != 0) {
                size_t n = strlen(root);
                while (n > 1 && root[n - 1] == '/')
                        n--;
                if (n >= sizeof(m->root) - 64) {
                        free(m);
                        return ctx_fail(ctx, -ENAMETOOLONG, "root path too long");
                }
                memcpy(m->root, root, n);
        }
        snprintf(m->release, sizeof(m->release), "%s", release ? release : u.release);
        m->live = strcmp(m->release, u.release) == 0;
        if (snprintf(m->dir, sizeof(m->dir), "%s/lib/modules/%s", m->root, m->release) >=
            (int)sizeof(m->dir)) {
                free(m);
                return ctx_fail(ctx, -ENAMETOOLONG, "root path too long");
        }
        for (int i = 0; i < 4; i++) {
                snprintf(conf[i], sizeof(conf[i]), "%s%s", m->root, CONF_DIRS[i]);
                confv[i] = conf[i];
        }
        confv[4] = NULL;
        m->kmod = sym_kmod_new(m->dir, confv);
        if (!m->kmod) {
                free(m);
                return ctx_fail(ctx, -ENOMEM, "libkmod: kmod_new failed");
        }
        sym_kmod_set_log_fn(m->kmod, kmod_log, m);
        *ret_modules = m;
        return 0;
}

struct fwsh_modules *fwsh_modules_free(struct fwsh_modules *m)
{
        if (!m)
                return NULL;
        sym_kmod_unref(m->kmod);
        free(m);
        return NULL;
}

/* ---- finding a module ------------------------------------------------------------- */

static int check_name(struct fwsh_ctx *ctx, const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > ALIAS_MAX)
                return ctx_fail(ctx, -EINVAL, "a module name or alias has 1 to %d bytes", ALIAS_MAX);
        for (const char *p = name; *p; p++)
                if (*p <= ' ' || *p == 0x7f || *p == '/')
                        return ctx_fail(ctx, -EINVAL, "a module name has no '/', white space "
                                                      "or control characters");
        return 0;
}

/* What name stands for: the modules an alias resolves to (possibly none) and
 * the one name to ask the kernel about. */
struct found {
        struct kmod_list *list;       /* kmod modules, NULL if none are known */
        struct kmod_module *mod;      /* the first of list, or one made from the name */
        char name[MODULE_NAME_MAX];
};

static void found_free(struct found *f)
{
        sym_kmod_module_unref_list(f->list);
        sym_kmod_module_unref(f->mod);
}

/* Every entry point starts here: a clean detail for this call. */
static int find(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name, struct found *f)
{
        int r;

        if (ctx)
                ctx_clear(ctx);
        r = check_name(ctx, name);
        memset(f, 0, sizeof(*f));
        if (r < 0)
                return r;
        r = sym_kmod_module_new_from_lookup(m->kmod, name, &f->list);
        if (r < 0)
                return ctx_fail(ctx, r, "libkmod cannot look %s up: %s", name,
                                m->log[0] ? m->log : strerror(-r));
        if (f->list) {
                f->mod = sym_kmod_module_get_module(f->list);
        } else {
                /* Unknown to libkmod: its name made canonical ('-' is '_'). */
                r = sym_kmod_module_new_from_name(m->kmod, name, &f->mod);
                if (r < 0)
                        return ctx_fail(ctx, r, "libkmod: %s", strerror(-r));
        }
        snprintf(f->name, sizeof(f->name), "%s", sym_kmod_module_get_name(f->mod));
        return 0;
}

/* 'y', 'm', 'n' (not set, or not there), or 0 when there is no kernel
 * configuration to ask; the file read in *ret_file. */
static int config_value(struct fwsh_modules *m, const char *symbol, char ret_file[PATH_MAX])
{
        char want[96], unset[96], line[512];
        int v = 'n';
        gzFile gz;

        if (dlib_open(NULL, &libz) < 0)
                return 0;
        gz = NULL;
        if (snprintf(ret_file, PATH_MAX, "%s/boot/config-%s", m->root, m->release) < PATH_MAX)
                gz = sym_gzopen(ret_file, "rb");   /* reads plain text as it is */
        if (!gz && m->live) {
                snprintf(ret_file, PATH_MAX, "/proc/config.gz");
                gz = sym_gzopen(ret_file, "rb");
        }
        if (!gz)
                return 0;
        snprintf(want, sizeof(want), "CONFIG_%s=", symbol);
        snprintf(unset, sizeof(unset), "# CONFIG_%s is not set", symbol);
        while (sym_gzgets(gz, line, sizeof(line))) {
                if (strncmp(line, want, strlen(want)) == 0) {
                        v = line[strlen(want)] == 'y' ? 'y' : line[strlen(want)] == 'm' ? 'm' : 'n';
                        break;
                }
                if (strncmp(line, unset, strlen(unset)) == 0)
                        break;
        }
        sym_gzclose(gz);
        return v;
}

static bool any_builtin(struct fwsh_modules *m, struct kmod_list *list)
{
        struct kmod_list *rest = NULL;
        bool builtin;
        int n = 0, k = 0;
        struct kmod_list *e;

        if (!list)
                return false;
        each_kmod(e, list)
                n++;
        if (sym_kmod_module_apply_filter(m->kmod, KMOD_FILTER_BUILTIN, list, &rest) < 0)
                return false;
        each_kmod(e, rest)
                k++;
        builtin = k < n;
        sym_kmod_module_unref_list(rest);
        return builtin;
}

static const char *file_of(const struct found *f)
{
        const char *path = sym_kmod_module_get_path(f->mod);
        return path && is_file(path) ? path : NULL;
}

static int state_of(struct fwsh_modules *m, const struct found *f, char *source)
{
        const struct feature *feat = feature_of(f->name);
        char path[PATH_MAX + 64], init[32];
        const char *file;

        if (m->live) {
                snprintf(path, sizeof(path), "/sys/module/%s/initstate", f->name);
                FILE *fp = fopen(path, "re");
                if (fp) {
                        if (!fgets(init, sizeof(init), fp))
                                init[0] = '\0';
                        fclose(fp);
                        init[strcspn(init, "\n")] = '\0';
                        say(source, "%s: %s", path, init);
                        return FWSH_MODULE_LOADED;
                }
                /* A module with sysfs state but no initstate is part of the kernel. */
                snprintf(path, sizeof(path), "/sys/module/%s", f->name);
                if (is_dir(path)) {
                        say(source, "%s", path);
                        return FWSH_MODULE_BUILTIN;
                }
        }
        if (any_builtin(m, f->list)) {
                say(source, "%s/modules.builtin", m->dir);
                return FWSH_MODULE_BUILTIN;
        }
        if ((file = file_of(f))) {
                say(source, "%s", file);
                return FWSH_MODULE_AVAILABLE;
        }
        if (m->live && feat && feat->proc && access(feat->proc, F_OK) == 0) {
                say(source, "%s", feat->proc);
                return FWSH_MODULE_BUILTIN;
        }
        if (feat) {
                char cfg[PATH_MAX];
                int v = config_value(m, feat->config, cfg);
                if (v == 'y') {
                        say(source, "CONFIG_%s=y in %s", feat->config, cfg);
                        return FWSH_MODULE_BUILTIN;
                }
                if (v == 'm') {
                        say(source, "CONFIG_%s=m in %s, but no module file in %s",
                                 feat->config, cfg, m->dir);
                        return FWSH_MODULE_MISSING;
                }
                if (v == 'n') {
                        say(source, "CONFIG_%s is not set in %s", feat->config, cfg);
                        return FWSH_MODULE_MISSING;
                }
        }
        if (!is_dir(m->dir))
                say(source, "not in the kernel, and no %s%s", m->dir,
                         m->live && access("/proc/modules", F_OK) < 0 ?
                                 " (a kernel without module support)" : "");
        else
                say(source, "not in the kernel, not in %s", m->dir);
        return FWSH_MODULE_MISSING;
}

int fwsh_module_status(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name,
                       enum fwsh_module_state *ret_state, char *ret_source)
{
        char source[FWSH_DETAIL_MAX];
        struct found f;
        int r = find(ctx, m, name, &f);

        if (r < 0)
                return r;
        *ret_state = state_of(m, &f, source);
        if (ret_source)
                memcpy(ret_source, source, sizeof(source));
        found_free(&f);
        return 0;
}

/* ---- loading ------------------------------------------------------------------------ */

/* libkmod's print_action has no data pointer: what it reports goes here, for
 * the one load running on this thread. */
static _Thread_local struct steps {
        char **v;
        size_t n;
        int err;
} *steps_now;

static void record_step(struct kmod_module *mod, bool install, const char *options)
{
        char buf[PATH_MAX];

        if (!steps_now || steps_now->err < 0)
                return;
        snprintf(buf, sizeof(buf), "%s%s%s%s", install ? "install command for " : "",
                 sym_kmod_module_get_name(mod), options && options[0] ? " " : "", options ? options : "");
        steps_now->err = strv_push(&steps_now->v, &steps_now->n, buf, strlen(buf));
}

/* modprobe.d's "install" lines ask for a shell command: fwsh refuses them. */
struct refused {
        char module[MODULE_NAME_MAX];
        char cmd[160];
};

static int refuse_install(struct kmod_module *mod, const char *cmdline, void *data)
{
        struct refused *rf = data;

        snprintf(rf->module, sizeof(rf->module), "%s", sym_kmod_module_get_name(mod));
        snprintf(rf->cmd, sizeof(rf->cmd), "%s", cmdline);
        return -EOPNOTSUPP;
}

static int load_error(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name, int r,
                      const struct refused *rf)
{
        if (rf->cmd[0])
                return ctx_fail(ctx, -EOPNOTSUPP, "modprobe.d has \"install %s %s\": fwsh runs no "
                                                  "shell commands", rf->module, rf->cmd);
        switch (r) {
        case -EPERM:
        case -EACCES:
                return ctx_fail(ctx, r, "loading modules needs CAP_SYS_MODULE%s%s",
                                m->log[0] ? ": " : "", m->log);
        case -ENOSYS:
                return ctx_fail(ctx, r, "this kernel has no module support");
        case -ENOEXEC:
                return ctx_fail(ctx, r, "%s is not a module this kernel can load (%s)", name,
                                m->log[0] ? m->log : "invalid module format");
        default:
                return ctx_fail(ctx, r, "%s", m->log[0] ? m->log : strerror(-r));
        }
}

/* The modprobe line a load is shown as: in a plan instead of it, under
 * --explain once it is done. */
static void show_modprobe(struct fwsh_ctx *ctx, const char *name, const char *params)
{
        struct fwsh_line l = { .len = 0 };
        char word[256];

        fwsh_line_add(&l, "modprobe");
        fwsh_line_word(&l, name);
        for (const char *p = params; p && *p;) {
                size_t n = strcspn(p, " \t\n");
                if (n) {
                        snprintf(word, sizeof(word), "%.*s", (int)n, p);
                        fwsh_line_word(&l, word);
                }
                p += n + strspn(p + n, " \t\n");
        }
        fwsh_effect_line(ctx, &l);
}

int fwsh_module_load(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name,
                     const char *params, unsigned flags, char ***ret_steps, size_t *ret_n)
{
        char source[FWSH_DETAIL_MAX];
        struct steps st = { NULL, 0, 0 };
        struct refused rf = { "", "" };
        /* A plan loads nothing either: it resolves, and shows the modprobe. */
        bool dry = (flags & FWSH_MODULE_DRY_RUN) || fwsh_ctx_planned(ctx);
        struct kmod_list *e;
        struct found f;
        int state, r = find(ctx, m, name, &f);

        if (r < 0)
                return r;
        state = state_of(m, &f, source);
        if (state == FWSH_MODULE_MISSING) {
                r = ctx_fail(ctx, -ENOENT, "no module %s: %s", f.name, source);
                goto out;
        }
        if (state == FWSH_MODULE_LOADED || state == FWSH_MODULE_BUILTIN) {
                r = 0;
                goto done;
        }
        if (!m->live && !dry) {
                r = ctx_fail(ctx, -EXDEV, "%s is for kernel %s, not the running one", f.name,
                             m->release);
                goto out;
        }
        if (!dry && access("/proc/modules", F_OK) < 0) {
                r = ctx_fail(ctx, -ENOSYS, "this kernel has no module support (no /proc/modules)");
                goto out;
        }
        m->log[0] = '\0';
        steps_now = &st;
        r = 0;
        each_kmod(e, f.list) {
                struct kmod_module *mod = sym_kmod_module_get_module(e);
                unsigned kf = KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY | (dry ? KMOD_PROBE_DRY_RUN : 0);
                r = sym_kmod_module_probe_insert_module(mod, kf, params, refuse_install, &rf, record_step);
                sym_kmod_module_unref(mod);
                if (r == -EEXIST)   /* loaded by someone else meanwhile */
                        r = 0;
                if (r != 0)
                        break;
        }
        steps_now = NULL;
        if (r > 0) {
                r = ctx_fail(ctx, -EPERM, "%s is blacklisted in modprobe.d", f.name);
                goto out;
        }
        if (r < 0) {
                r = load_error(ctx, m, f.name, r, &rf);
                goto out;
        }
        if (st.err < 0) {
                r = st.err;
                goto out;
        }
        r = st.n > 0;
        if (r > 0 && !(flags & FWSH_MODULE_DRY_RUN))
                show_modprobe(ctx, f.name, params);
done:
        if (ret_steps) {
                if (!st.v)
                        st.v = calloc(1, sizeof(*st.v));
                if (!st.v) {
                        r = -ENOMEM;
                        goto out;
                }
                *ret_steps = st.v;
                *ret_n = st.n;
                st.v = NULL;
        }
out:
        fwsh_strv_free(st.v, st.n);
        found_free(&f);
        return r;
}

/* ---- unloading --------------------------------------------------------------------------- */

static void holders_text(struct kmod_module *mod, char *buf, size_t size)
{
        struct kmod_list *holders = sym_kmod_module_get_holders(mod), *e;
        size_t len = 0;

        buf[0] = '\0';
        each_kmod(e, holders) {
                struct kmod_module *h = sym_kmod_module_get_module(e);
                int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", sym_kmod_module_get_name(h));
                sym_kmod_module_unref(h);
                if (n < 0 || (size_t)n >= size - len)
                        break;
                len += (size_t)n;
        }
        sym_kmod_module_unref_list(holders);
}

int fwsh_module_unload(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name)
{
        char source[FWSH_DETAIL_MAX], holders[160];
        struct found f;
        int state, r = find(ctx, m, name, &f);

        if (r < 0)
                return r;
        state = state_of(m, &f, source);
        switch (state) {
        case FWSH_MODULE_BUILTIN:
                r = ctx_fail(ctx, -EPERM, "built in, cannot be unloaded (%s)", source);
                break;
        case FWSH_MODULE_MISSING:
                r = ctx_fail(ctx, -ENOENT, "no module %s: %s", f.name, source);
                break;
        case FWSH_MODULE_AVAILABLE:
                r = 0;
                break;
        default:
                m->log[0] = '\0';
                if (fwsh_ctx_planned(ctx) && sym_kmod_module_get_refcnt(f.mod) > 0)
                        r = -EBUSY;   /* the kernel's refusal a plan can foresee */
                else if (fwsh_effect_argv(ctx, NULL, (const char *const[]){ "modprobe", "-r", f.name, NULL },
                                          NULL) > 0)
                        r = 0;        /* a plan: shown, not done */
                else
                        r = sym_kmod_module_remove_module(f.mod, 0);
                if (r == 0) {
                        r = 1;
                } else if (r == -ENOENT) {
                        r = 0;   /* gone meanwhile */
                } else if (r == -EBUSY || r == -EWOULDBLOCK) {
                        holders_text(f.mod, holders, sizeof(holders));
                        r = ctx_fail(ctx, -EBUSY, "in use (%d users%s%s)", sym_kmod_module_get_refcnt(f.mod),
                                     holders[0] ? ": " : "", holders);
                } else if (r == -EPERM || r == -EACCES) {
                        r = ctx_fail(ctx, r, "unloading modules needs CAP_SYS_MODULE");
                } else {
                        r = ctx_fail(ctx, r, "%s", m->log[0] ? m->log : strerror(-r));
                }
        }
        found_free(&f);
        return r;
}

/* ---- info ----------------------------------------------------------------------------- */

struct fwsh_module_info *fwsh_module_info_free(struct fwsh_module_info *info)
{
        if (!info)
                return NULL;
        free(info->name);
        free(info->source);
        free(info->path);
        free(info->description);
        free(info->license);
        fwsh_strv_free(info->depends, info->n_depends);
        fwsh_strv_free(info->softdeps_pre, info->n_softdeps_pre);
        fwsh_strv_free(info->softdeps_post, info->n_softdeps_post);
        fwsh_strv_free(info->holders, info->n_holders);
        for (size_t i = 0; i < info->n_params; i++) {
                free(info->params[i].name);
                free(info->params[i].type);
                free(info->params[i].description);
                free(info->params[i].value);
        }
        free(info->params);
        free(info);
        return NULL;
}

static struct fwsh_module_param *param_get(struct fwsh_module_info *info, const char *name, size_t len)
{
        struct fwsh_module_param *p;

        for (size_t i = 0; i < info->n_params; i++)
                if (strlen(info->params[i].name) == len && strncmp(info->params[i].name, name, len) == 0)
                        return &info->params[i];
        p = realloc(info->params, (info->n_params + 1) * sizeof(*p));
        if (!p)
                return NULL;
        info->params = p;
        p = &p[info->n_params];
        memset(p, 0, sizeof(*p));
        p->name = strndup(name, len);
        if (!p->name)
                return NULL;
        info->n_params++;
        return p;
}

/* "name:text" from a parm or parmtype entry into the parameter's field. */
static int param_entry(struct fwsh_module_info *info, const char *value, bool type)
{
        const char *colon = strchr(value, ':');
        struct fwsh_module_param *p;
        char **field;

        if (!colon)
                return 0;
        p = param_get(info, value, (size_t)(colon - value));
        if (!p)
                return -ENOMEM;
        field = type ? &p->type : &p->description;
        free(*field);
        *field = strdup(colon + 1);
        return *field ? 0 : -ENOMEM;
}

static int modinfo(struct fwsh_module_info *info, struct kmod_module *mod)
{
        struct kmod_list *list = NULL, *e;
        int r = sym_kmod_module_get_info(mod, &list);

        if (r < 0)
                return 0;   /* no file and no modules.builtin.modinfo: nothing to add */
        r = 0;
        each_kmod(e, list) {
                const char *k = sym_kmod_module_info_get_key(e), *v = sym_kmod_module_info_get_value(e);
                if (!v)
                        continue;
                if (strcmp(k, "parm") == 0 || strcmp(k, "parmtype") == 0) {
                        r = param_entry(info, v, k[4] == 't');
                } else if (strcmp(k, "description") == 0 && !info->description) {
                        r = (info->description = strdup(v)) ? 0 : -ENOMEM;
                } else if (strcmp(k, "license") == 0 && !info->license) {
                        r = (info->license = strdup(v)) ? 0 : -ENOMEM;
                }
                if (r < 0)
                        break;
        }
        sym_kmod_module_info_free_list(list);
        return r;
}

/* Parameters the running kernel shows for it, with their values when readable. */
static int sysfs_params(struct fwsh_module_info *info)
{
        char dir[PATH_MAX], path[PATH_MAX + 256], buf[256];
        struct dirent *de;
        DIR *d;
        int r = 0;

        snprintf(dir, sizeof(dir), "/sys/module/%s/parameters", info->name);
        d = opendir(dir);
        if (!d)
                return 0;
        while ((de = readdir(d)) && r == 0) {
                struct fwsh_module_param *p;
                FILE *fp;

                if (de->d_name[0] == '.')
                        continue;
                p = param_get(info, de->d_name, strlen(de->d_name));
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                fp = fopen(path, "re");
                if (fp) {
                        if (fgets(buf, sizeof(buf), fp)) {
                                buf[strcspn(buf, "\n")] = '\0';
                                free(p->value);
                                p->value = strdup(buf);
                                if (!p->value)
                                        r = -ENOMEM;
                        }
                        fclose(fp);
                }
        }
        closedir(d);
        return r;
}

static int names_of(struct kmod_list *list, char ***v, size_t *n)
{
        struct kmod_list *e;
        int r = 0;

        each_kmod(e, list) {
                struct kmod_module *mod = sym_kmod_module_get_module(e);
                const char *name = sym_kmod_module_get_name(mod);
                if (r == 0)
                        r = strv_push(v, n, name, strlen(name));
                sym_kmod_module_unref(mod);
        }
        return r;
}

static int param_cmp(const void *a, const void *b)
{
        return strcmp(((const struct fwsh_module_param *)a)->name,
                      ((const struct fwsh_module_param *)b)->name);
}

int fwsh_module_info(struct fwsh_ctx *ctx, struct fwsh_modules *m, const char *name,
                     struct fwsh_module_info **ret_info)
{
        char source[FWSH_DETAIL_MAX];
        struct fwsh_module_info *info;
        struct kmod_list *deps, *pre = NULL, *post = NULL;
        const char *file;
        struct found f;
        int r = find(ctx, m, name, &f);

        if (r < 0)
                return r;
        info = calloc(1, sizeof(*info));
        if (!info) {
                found_free(&f);
                return -ENOMEM;
        }
        info->refcnt = -1;
        info->state = state_of(m, &f, source);
        info->name = strdup(f.name);
        info->source = strdup(source);
        r = info->name && info->source ? 0 : -ENOMEM;
        if (r == 0 && (file = file_of(&f)))
                r = (info->path = strdup(file)) ? 0 : -ENOMEM;
        if (r == 0 && (info->path || info->state == FWSH_MODULE_BUILTIN))
                r = modinfo(info, f.mod);
        /* libkmod gives modules.dep's list in the order the modules load. */
        deps = sym_kmod_module_get_dependencies(f.mod);
        if (r == 0)
                r = names_of(deps, &info->depends, &info->n_depends);
        sym_kmod_module_unref_list(deps);
        if (r == 0 && sym_kmod_module_get_softdeps(f.mod, &pre, &post) == 0) {
                r = names_of(pre, &info->softdeps_pre, &info->n_softdeps_pre);
                if (r == 0)
                        r = names_of(post, &info->softdeps_post, &info->n_softdeps_post);
        }
        sym_kmod_module_unref_list(pre);
        sym_kmod_module_unref_list(post);
        if (r == 0 && m->live && (info->state == FWSH_MODULE_LOADED || info->state == FWSH_MODULE_BUILTIN))
                r = sysfs_params(info);
        if (r == 0 && info->state == FWSH_MODULE_LOADED) {
                struct kmod_list *holders = sym_kmod_module_get_holders(f.mod);
                info->refcnt = sym_kmod_module_get_refcnt(f.mod);
                r = names_of(holders, &info->holders, &info->n_holders);
                sym_kmod_module_unref_list(holders);
        }
        found_free(&f);
        if (r < 0) {
                fwsh_module_info_free(info);
                return r;
        }
        if (info->n_params > 1)
                qsort(info->params, info->n_params, sizeof(*info->params), param_cmp);
        *ret_info = info;
        return 0;
}
