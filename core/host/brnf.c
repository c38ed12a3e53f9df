/* brnf.c - the br_netfilter switches: whether bridged IPv4, IPv6 and ARP
 * traffic goes through the iptables, ip6tables and arptables hooks (and so
 * iptables' physdev match). Each namespace has its own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const NAMES[FWSH_BRNF_COUNT] = { "iptables", "ip6tables", "arptables" };

const char *fwsh_brnf_name(enum fwsh_brnf which)
{
        return (unsigned)which < FWSH_BRNF_COUNT ? NAMES[which] : NULL;
}

static int path_of(struct fwsh_ctx *ctx, enum fwsh_brnf which, char *buf, size_t size)
{
        if (ctx)
                ctx_clear(ctx);
        if ((unsigned)which >= FWSH_BRNF_COUNT)
                return ctx_fail(ctx, -EINVAL, "no such bridge netfilter switch");
        snprintf(buf, size, "net/bridge/bridge-nf-call-%s", NAMES[which]);
        return 0;
}

static int absent(struct fwsh_ctx *ctx)
{
        return ctx_fail(ctx, -ENOENT, "br_netfilter is not loaded: no /proc/sys/net/bridge "
                                      "(fwsh.module.load \"br_netfilter\")");
}

/* Reads the switch in ctx's namespace: 1, 0, or -errno. */
static int read_switch(struct fwsh_ctx *ctx, const char *path)
{
        char buf[16];
        int saved, r = ctx_enter(ctx, &saved);

        if (r < 0)
                return ctx_fail(ctx, r, "cannot enter the namespace: %s", strerror(-r));
        r = sysctl_read(path, buf, sizeof(buf));
        ctx_leave(saved);
        if (r == -ENOENT)
                return absent(ctx);
        if (r < 0)
                return ctx_fail(ctx, r, "/proc/sys/%s: %s", path, strerror(-r));
        return strcmp(buf, "0") != 0;
}

int fwsh_brnf_get(struct fwsh_ctx *ctx, enum fwsh_brnf which, bool *ret_on)
{
        char path[64];
        int r = path_of(ctx, which, path, sizeof(path));

        if (r < 0)
                return r;
        r = read_switch(ctx, path);
        if (r < 0)
                return r;
        *ret_on = r;
        return 0;
}

int fwsh_brnf_set(struct fwsh_ctx *ctx, enum fwsh_brnf which, bool on)
{
        struct change ch, inv;
        char path[64];
        int r = path_of(ctx, which, path, sizeof(path));

        if (r < 0)
                return r;
        r = read_switch(ctx, path);
        if (r < 0)
                return r;
        if (r == on)
                return 0;
        change_init(&ch, CH_SYSCTL, NAMES[which]);
        snprintf(ch.sysctl.path, sizeof(ch.sysctl.path), "%s", path);
        snprintf(ch.sysctl.value, sizeof(ch.sysctl.value), "%d", on);
        inv = ch;
        snprintf(inv.sysctl.value, sizeof(inv.sysctl.value), "%d", !on);
        r = change_apply(ctx, &ch, &inv);
        if (r == -ENOENT)
                return absent(ctx);
        return r < 0 ? r : 1;
}
