/* firewalld.c - interfaces in firewalld's zones, asked of firewalld itself
 * over D-Bus (libdbus), runtime and permanent. See firewalld.dbus(5).
 *
 * Each change is checked first (which zone has the interface now), so that a
 * re-run changes nothing and says so, rather than leaning on firewalld's
 * ALREADY_ENABLED and ZONE_ALREADY_SET warnings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dbus/dbus.h>

#include "base/dlib.h"
#include "internal.h"

#define DBUS_SYMBOLS(X) \
        X(dbus_bus_get_private) \
        X(dbus_bus_name_has_owner) \
        X(dbus_bus_register) \
        X(dbus_connection_close) \
        X(dbus_connection_open_private) \
        X(dbus_connection_send_with_reply_and_block) \
        X(dbus_connection_set_exit_on_disconnect) \
        X(dbus_connection_unref) \
        X(dbus_error_free) \
        X(dbus_error_has_name) \
        X(dbus_error_init) \
        X(dbus_error_is_set) \
        X(dbus_free_string_array) \
        X(dbus_message_get_args) \
        X(dbus_message_iter_append_basic) \
        X(dbus_message_iter_init_append) \
        X(dbus_message_new_method_call) \
        X(dbus_message_unref)

DBUS_SYMBOLS(DLIB_SYM)
static const struct dlib_sym DBUS_SYMS[] = { DBUS_SYMBOLS(DLIB_ARG) { NULL, NULL } };
static struct dlib dbus = { "libdbus-1.so.3", DBUS_SYMS, NULL };

#define FW_NAME "org.fedoraproject.FirewallD1"
#define FW_PATH "/org/fedoraproject/FirewallD1"
#define FW_ZONE FW_NAME ".zone"
#define FW_CONFIG_PATH FW_PATH "/config"
#define FW_CONFIG FW_NAME ".config"
#define FW_CONFIG_ZONE FW_NAME ".config.zone"
#define FW_EXCEPTION FW_NAME ".Exception"
#define CALL_TIMEOUT_MS 30000

struct fwsh_firewalld {
        DBusConnection *bus;
        char address[160];   /* for messages */
};

/* ---- connecting ---------------------------------------------------------------------- */

static int bus_error(struct fwsh_ctx *ctx, DBusError *e, int err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int bus_error(struct fwsh_ctx *ctx, DBusError *e, int err, const char *fmt, ...)
{
        char what[FWSH_DETAIL_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        ctx_fail(ctx, err, "%s: %s", what, sym_dbus_error_is_set(e) ? e->message : strerror(-err));
        sym_dbus_error_free(e);
        return err;
}

int fwsh_firewalld_open(struct fwsh_ctx *ctx, const char *address, struct fwsh_firewalld **ret_fw)
{
        struct fwsh_firewalld *fw;
        DBusError e;
        int r;

        if (ctx)
                ctx_clear(ctx);
        if ((r = dlib_open(ctx, &dbus)) < 0)
                return r;
        fw = calloc(1, sizeof(*fw));
        if (!fw)
                return -ENOMEM;
        sym_dbus_error_init(&e);
        if (address) {
                snprintf(fw->address, sizeof(fw->address), "%s", address);
                fw->bus = sym_dbus_connection_open_private(address, &e);
                if (fw->bus && !sym_dbus_bus_register(fw->bus, &e)) {
                        sym_dbus_connection_close(fw->bus);
                        sym_dbus_connection_unref(fw->bus);
                        fw->bus = NULL;
                }
        } else {
                const char *env = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                snprintf(fw->address, sizeof(fw->address), "%s",
                         env ? env : "the system bus");
                fw->bus = sym_dbus_bus_get_private(DBUS_BUS_SYSTEM, &e);
        }
        if (!fw->bus) {
                free(fw);
                return address ? bus_error(ctx, &e, -ECONNREFUSED, "no D-Bus bus at %s, so no firewalld", address)
                               : bus_error(ctx, &e, -ECONNREFUSED, "no D-Bus system bus, so no firewalld");
        }
        /* libdbus would exit the process when the bus goes away. */
        sym_dbus_connection_set_exit_on_disconnect(fw->bus, FALSE);
        r = sym_dbus_bus_name_has_owner(fw->bus, FW_NAME, &e);
        if (sym_dbus_error_is_set(&e)) {
                fwsh_firewalld_close(fw);
                return bus_error(ctx, &e, -EIO, "asking the bus for firewalld");
        }
        if (!r) {
                r = ctx_fail(ctx, -ESRCH, "firewalld is not running: no " FW_NAME " on %s", fw->address);
                fwsh_firewalld_close(fw);
                return r;
        }
        *ret_fw = fw;
        return 0;
}

struct fwsh_firewalld *fwsh_firewalld_close(struct fwsh_firewalld *fw)
{
        if (!fw)
                return NULL;
        if (fw->bus) {
                sym_dbus_connection_close(fw->bus);
                sym_dbus_connection_unref(fw->bus);
        }
        free(fw);
        return NULL;
}

/* ---- calling ----------------------------------------------------------------------------- */

/* firewalld's errors: "CODE: text" in an org.fedoraproject.FirewallD1.Exception. */
static int fw_error(struct fwsh_ctx *ctx, DBusError *e)
{
        static const struct {
                const char *code;
                int err;
        } CODES[] = {
                { "INVALID_ZONE", -ENOENT },      { "INVALID_INTERFACE", -EINVAL },
                { "ZONE_CONFLICT", -EEXIST },     { "ALREADY_ENABLED", -EEXIST },
                { "ZONE_ALREADY_SET", -EEXIST },  { "NOT_ENABLED", -ENOENT },
                { "UNKNOWN_INTERFACE", -ENODEV }, { "NOT_AUTHORIZED", -EACCES },
                { "RUNNING_BUT_FAILED", -EIO },   { "NOT_RUNNING", -ESRCH },
        };
        int err = -EIO;

        if (sym_dbus_error_has_name(e, FW_EXCEPTION)) {
                for (size_t i = 0; i < FWSH_N(CODES); i++) {
                        size_t n = strlen(CODES[i].code);
                        if (strncmp(e->message, CODES[i].code, n) == 0 && e->message[n] == ':') {
                                err = CODES[i].err;
                                break;
                        }
                }
                return bus_error(ctx, e, err, "firewalld");
        }
        if (sym_dbus_error_has_name(e, DBUS_ERROR_SERVICE_UNKNOWN) ||
            sym_dbus_error_has_name(e, DBUS_ERROR_NAME_HAS_NO_OWNER))
                return bus_error(ctx, e, -ESRCH, "firewalld is not running");
        if (sym_dbus_error_has_name(e, DBUS_ERROR_ACCESS_DENIED) ||
            sym_dbus_error_has_name(e, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
                return bus_error(ctx, e, -EACCES, "firewalld refused");
        if (sym_dbus_error_has_name(e, DBUS_ERROR_NO_REPLY) || sym_dbus_error_has_name(e, DBUS_ERROR_TIMEOUT))
                return bus_error(ctx, e, -ETIMEDOUT, "firewalld did not answer");
        if (sym_dbus_error_has_name(e, DBUS_ERROR_DISCONNECTED))
                return bus_error(ctx, e, -ECONNRESET, "the bus went away");
        return bus_error(ctx, e, -EIO, "%s", e->name);
}

/* Calls method on firewalld with string arguments (NULL-ended) and returns
 * its reply in *ret_reply (dbus_message_unref it), or drops it if ret_reply
 * is NULL. */
static int call(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *path, const char *iface,
                const char *method, DBusMessage **ret_reply, ...)
{
        DBusMessage *m = sym_dbus_message_new_method_call(FW_NAME, path, iface, method), *reply;
        DBusMessageIter it;
        const char *arg;
        DBusError e;
        va_list ap;

        if (!m)
                return -ENOMEM;
        sym_dbus_message_iter_init_append(m, &it);
        va_start(ap, ret_reply);
        while ((arg = va_arg(ap, const char *)))
                if (!sym_dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &arg)) {
                        va_end(ap);
                        sym_dbus_message_unref(m);
                        return -ENOMEM;
                }
        va_end(ap);
        sym_dbus_error_init(&e);
        reply = sym_dbus_connection_send_with_reply_and_block(fw->bus, m, CALL_TIMEOUT_MS, &e);
        sym_dbus_message_unref(m);
        if (!reply)
                return fw_error(ctx, &e);
        if (ret_reply)
                *ret_reply = reply;
        else
                sym_dbus_message_unref(reply);
        return 0;
}

/* The reply's one string, copied. */
static int reply_string(struct fwsh_ctx *ctx, DBusMessage *reply, int type, char **ret)
{
        const char *s = NULL;
        DBusError e;

        sym_dbus_error_init(&e);
        if (!sym_dbus_message_get_args(reply, &e, type, &s, DBUS_TYPE_INVALID)) {
                sym_dbus_message_unref(reply);
                return bus_error(ctx, &e, -EPROTO, "firewalld's reply");
        }
        *ret = strdup(s);
        sym_dbus_message_unref(reply);
        return *ret ? 0 : -ENOMEM;
}

static int reply_strings(struct fwsh_ctx *ctx, DBusMessage *reply, char ***ret, size_t *ret_n)
{
        char **v = NULL, **copy;
        int n = 0;
        DBusError e;

        sym_dbus_error_init(&e);
        if (!sym_dbus_message_get_args(reply, &e, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &v, &n, DBUS_TYPE_INVALID)) {
                sym_dbus_message_unref(reply);
                return bus_error(ctx, &e, -EPROTO, "firewalld's reply");
        }
        sym_dbus_message_unref(reply);
        copy = calloc((size_t)n + 1, sizeof(*copy));
        for (int i = 0; copy && i < n; i++)
                if (!(copy[i] = strdup(v[i]))) {
                        fwsh_strv_free(copy, (size_t)i);
                        copy = NULL;
                }
        sym_dbus_free_string_array(v);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        *ret_n = (size_t)n;
        return 0;
}

/* ---- names ------------------------------------------------------------------------------- */

static int check_zone(struct fwsh_ctx *ctx, const char *zone)
{
        size_t n = strlen(zone);

        if (n == 0 || n > 64 ||
            strspn(zone, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
                return ctx_fail(ctx, -EINVAL, "'%s' is not a zone name: letters, digits, '_' and '-'", zone);
        return 0;
}

/* A link name, or firewalld's wildcard ("veth+"); ASCII, as D-Bus wants UTF-8. */
static int check_iface(struct fwsh_ctx *ctx, const char *iface)
{
        int r = fwsh_name_check(ctx, iface);

        if (r < 0)
                return r;
        for (const char *p = iface; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        return ctx_fail(ctx, -EINVAL, "an interface name is ASCII");
        return 0;
}

static int check_scope(struct fwsh_ctx *ctx, unsigned scope, bool one)
{
        unsigned all = FWSH_FIREWALLD_RUNTIME | FWSH_FIREWALLD_PERMANENT;

        if (ctx)
                ctx_clear(ctx);
        if (!scope || (scope & ~all) || (one && scope == all))
                return ctx_fail(ctx, -EINVAL, one ? "ask for runtime or permanent" :
                                                    "name runtime, permanent or both");
        return 0;
}

/* The object of zone in the permanent configuration, in *ret_path. */
static int config_zone(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone, char **ret_path)
{
        DBusMessage *reply;
        int r = call(ctx, fw, FW_CONFIG_PATH, FW_CONFIG, "getZoneByName", &reply, zone, NULL);

        if (r < 0)
                return r == -ENOENT ? ctx_fail(ctx, r, "firewalld has no zone %s", zone) : r;
        return reply_string(ctx, reply, DBUS_TYPE_OBJECT_PATH, ret_path);
}

/* ---- queries ------------------------------------------------------------------------------ */

int fwsh_firewalld_zone_of(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *iface,
                           unsigned scope, char **ret_zone)
{
        DBusMessage *reply;
        char *zone;
        int r = check_scope(ctx, scope, true);

        if (r == 0)
                r = check_iface(ctx, iface);
        if (r < 0)
                return r;
        if (scope == FWSH_FIREWALLD_RUNTIME)
                r = call(ctx, fw, FW_PATH, FW_ZONE, "getZoneOfInterface", &reply, iface, NULL);
        else
                r = call(ctx, fw, FW_CONFIG_PATH, FW_CONFIG, "getZoneOfInterface", &reply, iface, NULL);
        if (r == 0)
                r = reply_string(ctx, reply, DBUS_TYPE_STRING, &zone);
        if (r < 0)
                return r;
        if (!zone[0]) {   /* "": in no zone */
                free(zone);
                zone = NULL;
        }
        *ret_zone = zone;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int fwsh_firewalld_interfaces(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                              unsigned scope, char ***ret_ifaces, size_t *ret_n)
{
        DBusMessage *reply;
        char *path = NULL, **v = NULL;
        size_t n = 0;
        int r = check_scope(ctx, scope, true);

        if (r == 0)
                r = check_zone(ctx, zone);
        if (r < 0)
                return r;
        if (scope == FWSH_FIREWALLD_RUNTIME) {
                r = call(ctx, fw, FW_PATH, FW_ZONE, "getInterfaces", &reply, zone, NULL);
                if (r == -ENOENT)
                        r = ctx_fail(ctx, r, "firewalld has no zone %s", zone);
        } else {
                r = config_zone(ctx, fw, zone, &path);
                if (r == 0)
                        r = call(ctx, fw, path, FW_CONFIG_ZONE, "getInterfaces", &reply, NULL);
                free(path);
        }
        if (r == 0)
                r = reply_strings(ctx, reply, &v, &n);
        if (r < 0)
                return r;
        qsort(v, n, sizeof(*v), cmp_str);
        *ret_ifaces = v;
        *ret_n = n;
        return 0;
}

/* ---- changes -------------------------------------------------------------------------------- */

static int check_args(struct fwsh_ctx *ctx, const char *zone, const char *iface, unsigned scopes)
{
        int r = check_scope(ctx, scopes, false);

        if (r == 0)
                r = check_zone(ctx, zone);
        if (r == 0)
                r = check_iface(ctx, iface);
        return r;
}

/* Whether iface is in zone at runtime; queryInterface also says whether the
 * zone exists. */
static int in_zone_runtime(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                           const char *iface, bool *ret_in)
{
        DBusMessage *reply;
        dbus_bool_t in = FALSE;
        DBusError e;
        int r = call(ctx, fw, FW_PATH, FW_ZONE, "queryInterface", &reply, zone, iface, NULL);

        if (r == -ENOENT)
                return ctx_fail(ctx, r, "firewalld has no zone %s", zone);
        if (r < 0)
                return r;
        sym_dbus_error_init(&e);
        if (!sym_dbus_message_get_args(reply, &e, DBUS_TYPE_BOOLEAN, &in, DBUS_TYPE_INVALID)) {
                sym_dbus_message_unref(reply);
                return bus_error(ctx, &e, -EPROTO, "firewalld's reply");
        }
        sym_dbus_message_unref(reply);
        *ret_in = in;
        return 0;
}

/* fwsh_effect for a change of firewalld's: the firewall-cmd line that makes
 * it (option: "add-interface", "change-interface", "remove-interface"). 1 in
 * a plan: the caller calls nothing. */
static int shown(struct fwsh_ctx *ctx, const char *zone, const char *option, const char *iface,
                 bool permanent)
{
        char z[128], o[128];

        snprintf(z, sizeof(z), "--zone=%s", zone);
        snprintf(o, sizeof(o), "--%s=%s", option, iface);
        return fwsh_effect_argv(ctx, NULL, (const char *const[]){ "firewall-cmd", z, o,
                                permanent ? "--permanent" : NULL, NULL }, NULL);
}

static int add_runtime(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                       const char *iface, bool move)
{
        char *now = NULL;
        bool in = false;
        int r = in_zone_runtime(ctx, fw, zone, iface, &in);

        if (r < 0 || in)
                return r;
        r = fwsh_firewalld_zone_of(ctx, fw, iface, FWSH_FIREWALLD_RUNTIME, &now);
        if (r < 0)
                return r;
        if (now && !move)
                r = ctx_fail(ctx, -EEXIST, "%s is in zone %s (runtime); move it with move = true",
                             iface, now);
        else if (shown(ctx, zone, now ? "change-interface" : "add-interface", iface, false) == 0)
                r = call(ctx, fw, FW_PATH, FW_ZONE, now ? "changeZoneOfInterface" : "addInterface",
                         NULL, zone, iface, NULL);
        free(now);
        return r < 0 ? r : 1;
}

static int add_permanent(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                         const char *iface, bool move)
{
        char *now = NULL, *path = NULL, *old = NULL;
        int r = fwsh_firewalld_zone_of(ctx, fw, iface, FWSH_FIREWALLD_PERMANENT, &now);

        if (r == 0)
                r = config_zone(ctx, fw, zone, &path);
        if (r < 0)
                goto out;
        if (now && strcmp(now, zone) == 0) {
                r = 0;
                goto out;
        }
        if (now && !move) {
                r = ctx_fail(ctx, -EEXIST, "%s is in zone %s (permanent); move it with move = true",
                             iface, now);
                goto out;
        }
        if (now) {
                r = config_zone(ctx, fw, now, &old);
                if (r == 0 && shown(ctx, now, "remove-interface", iface, true) == 0)
                        r = call(ctx, fw, old, FW_CONFIG_ZONE, "removeInterface", NULL, iface, NULL);
                if (r < 0)
                        goto out;
        }
        if (shown(ctx, zone, "add-interface", iface, true) == 0)
                r = call(ctx, fw, path, FW_CONFIG_ZONE, "addInterface", NULL, iface, NULL);
        if (r == 0)
                r = 1;
out:
        free(now);
        free(path);
        free(old);
        return r;
}

int fwsh_firewalld_add(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                       const char *iface, unsigned scopes, bool move)
{
        unsigned changed = 0;
        int r = check_args(ctx, zone, iface, scopes);

        if (r < 0)
                return r;
        if (scopes & FWSH_FIREWALLD_RUNTIME) {
                r = add_runtime(ctx, fw, zone, iface, move);
                if (r < 0)
                        return r;
                if (r > 0)
                        changed |= FWSH_FIREWALLD_RUNTIME;
        }
        if (scopes & FWSH_FIREWALLD_PERMANENT) {
                r = add_permanent(ctx, fw, zone, iface, move);
                if (r < 0)
                        return r;
                if (r > 0)
                        changed |= FWSH_FIREWALLD_PERMANENT;
        }
        return (int)changed;
}

int fwsh_firewalld_remove(struct fwsh_ctx *ctx, struct fwsh_firewalld *fw, const char *zone,
                          const char *iface, unsigned scopes)
{
        unsigned changed = 0;
        char *now = NULL, *path = NULL;
        int r = check_args(ctx, zone, iface, scopes);

        if (r < 0)
                return r;
        if (scopes & FWSH_FIREWALLD_RUNTIME) {
                bool in = false;

                r = in_zone_runtime(ctx, fw, zone, iface, &in);
                if (r < 0)
                        return r;
                if (in && shown(ctx, zone, "remove-interface", iface, false) > 0)
                        changed |= FWSH_FIREWALLD_RUNTIME;
                else if (in) {
                        r = call(ctx, fw, FW_PATH, FW_ZONE, "removeInterface", NULL, zone, iface, NULL);
                        if (r < 0)
                                return r;
                        changed |= FWSH_FIREWALLD_RUNTIME;
                }
        }
        if (scopes & FWSH_FIREWALLD_PERMANENT) {
                r = config_zone(ctx, fw, zone, &path);
                if (r == 0)
                        r = fwsh_firewalld_zone_of(ctx, fw, iface, FWSH_FIREWALLD_PERMANENT, &now);
                if (r == 0 && now && strcmp(now, zone) == 0) {
                        if (shown(ctx, zone, "remove-interface", iface, true) == 0)
                                r = call(ctx, fw, path, FW_CONFIG_ZONE, "removeInterface", NULL, iface, NULL);
                        changed |= r == 0 ? FWSH_FIREWALLD_PERMANENT : 0;
                }
                free(now);
                free(path);
                if (r < 0)
                        return r;
        }
        return (int)changed;
}
