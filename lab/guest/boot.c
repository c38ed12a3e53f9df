/* boot.c - what fwsh-agent does as the guest's PID 1 before it serves:
 * the kernel file systems, the kernel modules the image lists, the lab's
 * share (9p, mounted at the host's path), the host name, and then the
 * node's boot file, written by the host into the share:
 *
 *   SHARE/NODE.boot, one step a line, fields separated by tabs:
 *     name MAC NEWNAME          the interface with that MAC is renamed
 *     write PATH VALUE          VALUE written to PATH (a sysctl)
 *     run ARGV...               a command that must exit 0
 *     spawn OUTFILE ARGV...     a daemon, started and left running
 *
 * The kernel command line gives fwsh.share=PATH and fwsh.node=NAME. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "agent.h"
#include "wire.h"

struct report {
        char *buf;
        size_t len, used;
};

static void say(struct report *r, const char *fmt, ...)
{
        va_list ap;
        int n;
        if (r->used >= r->len)
                return;
        va_start(ap, fmt);
        n = vsnprintf(r->buf + r->used, r->len - r->used, fmt, ap);
        va_end(ap);
        if (n > 0)
                r->used += (size_t)n < r->len - r->used ? (size_t)n : r->len - r->used - 1;
}

/* A boot step's output is kept for the report, its tail if it is long. */
struct capture {
        char text[512];
        size_t used;
};

static void capture_emit(void *sink, char type, const char *data, size_t len)
{
        struct capture *c = sink;
        (void)type;
        if (len > sizeof(c->text) - 1 - c->used)
                len = sizeof(c->text) - 1 - c->used;
        memcpy(c->text + c->used, data, len);
        c->used += len;
        c->text[c->used] = 0;
}

int boot_write(const char *path, const char *value, char *err, size_t errlen)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;
        if (fd < 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        n = write(fd, value, strlen(value));
        if (n < 0)
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return n < 0 ? -1 : 0;
}

static void mkdirs(const char *path)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s", path);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        mkdir(p, 0755);
                        *s = '/';
                }
        mkdir(p, 0755);
}

static int mounts(struct report *r)
{
        static const struct { const char *src, *dir, *type, *opts; } m[] = {
                { "proc", "/proc", "proc", NULL },
                { "sysfs", "/sys", "sysfs", NULL },
                { "devtmpfs", "/dev", "devtmpfs", NULL },
                { "tmpfs", "/run", "tmpfs", "mode=0755" },
                { "tmpfs", "/tmp", "tmpfs", "mode=1777" },
        };
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
                mkdir(m[i].dir, 0755);
                if (mount(m[i].src, m[i].dir, m[i].type, 0, m[i].opts) < 0 && errno != EBUSY) {
                        say(r, "mount %s: %s\n", m[i].dir, strerror(errno));
                        return -1;
                }
        }
        return 0;
}

/* The image's modules, in the order the build resolved their dependencies. */
static int modules(struct report *r)
{
        FILE *f = fopen("/lib/modules/fwsh.order", "re");
        char line[512];
        int n = 0, bad = 0, e;
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                int fd;
                line[strcspn(line, "\n")] = 0;
                if (!line[0])
                        continue;
                fd = open(line, O_RDONLY | O_CLOEXEC);
                e = fd < 0 ? errno : syscall(SYS_finit_module, fd, "", 0) < 0 ? errno : 0;
                if (e == 0 || e == EEXIST) {
                        n++;
                } else if (e == ENODEV) { /* hardware it lacks: crc32c-intel under TCG */
                        say(r, "module %s: %s (skipped)\n", line, strerror(e));
                } else {
                        say(r, "module %s: %s\n", line, strerror(e));
                        bad = 1;
                }
                if (fd >= 0)
                        close(fd);
        }
        fclose(f);
        say(r, "%d modules\n", n);
        return bad ? -1 : 0;
}

/* fwsh.KEY=VALUE from the kernel command line, or NULL. */
static char *cmdline(const char *key, char *buf, size_t len)
{
        char all[4096], want[64];
        ssize_t n;
        int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        n = read(fd, all, sizeof(all) - 1);
        close(fd);
        if (n <= 0)
                return NULL;
        all[n] = 0;
        snprintf(want, sizeof(want), "fwsh.%s=", key);
        for (char *w = strtok(all, " \n"); w; w = strtok(NULL, " \n"))
                if (!strncmp(w, want, strlen(want))) {
                        snprintf(buf, len, "%s", w + strlen(want));
                        return buf;
                }
        return NULL;
}

/* The name of the interface whose address is mac, into name. */
static int by_mac(const char *mac, char *name, size_t len)
{
        DIR *d = opendir("/sys/class/net");
        struct dirent *e;
        int found = -1;
        while (d && (e = readdir(d))) {
                char path[300], addr[64] = "";
                FILE *f;
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
                if (!(f = fopen(path, "re")))
                        continue;
                if (fgets(addr, sizeof(addr), f) && !strncasecmp(addr, mac, strlen(mac))) {
                        snprintf(name, len, "%s", e->d_name);
                        found = 0;
                }
                fclose(f);
        }
        if (d)
                closedir(d);
        return found;
}

/* One step of the boot file, split at tabs into f[0..n-1]. */
static int step(char **f, int n, struct report *r)
{
        char err[512] = "", end[64];
        struct capture c = { .used = 0 };
        struct out o = { capture_emit, &c };

        c.text[0] = 0;
        if (!strcmp(f[0], "name") && n == 3) {
                char old[256];
                char *argv[] = { "ip", "link", "set", "dev", old, "name", f[2], NULL };
                if (by_mac(f[1], old, sizeof(old)) < 0) {
                        say(r, "no interface has MAC %s\n", f[1]);
                        return -1;
                }
                if (!strcmp(old, f[2]))
                        return 0;
                if (jobs_run(argv, 10000, &o, end, sizeof(end)) < 0 || strcmp(end, "exit 0"))
                        goto failed;
                return 0;
        }
        if (!strcmp(f[0], "write") && n == 3) {
                if (boot_write(f[1], f[2], err, sizeof(err)) < 0) {
                        say(r, "%s\n", err);
                        return -1;
                }
                return 0;
        }
        if (!strcmp(f[0], "run") && n >= 2) {
                f[n] = NULL;
                if (jobs_run(f + 1, 30000, &o, end, sizeof(end)) < 0 || strcmp(end, "exit 0"))
                        goto failed;
                return 0;
        }
        if (!strcmp(f[0], "spawn") && n >= 3) {
                f[n] = NULL;
                if (jobs_spawn(f[1], f + 2, err, sizeof(err)) < 0) {
                        say(r, "%s\n", err);
                        return -1;
                }
                return 0;
        }
        say(r, "unknown step\n");
        return -1;
failed:
        say(r, "%s: %s\n", end, c.text);
        return -1;
}

static int boot_file(const char *path, struct report *r)
{
        FILE *f = fopen(path, "re");
        char line[8192];
        int n = 0;
        if (!f) {
                say(r, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof(line), f)) {
                char *fields[WIRE_MAX_ARGS + 1], *save = NULL;
                int k = 0;
                line[strcspn(line, "\n")] = 0;
                if (!line[0])
                        continue;
                n++;
                for (char *t = strtok_r(line, "\t", &save); t && k < WIRE_MAX_ARGS;
                     t = strtok_r(NULL, "\t", &save))
                        fields[k++] = t;
                if (k == 0)
                        continue;
                if (step(fields, k, r) < 0) {
                        say(r, "in %s, step %d (%s)\n", path, n, fields[0]);
                        fclose(f);
                        return -1;
                }
        }
        fclose(f);
        say(r, "%d steps\n", n);
        return 0;
}

int boot(char *buf, size_t len)
{
        struct report r = { buf, len, 0 };
        int64_t t0 = fwsh_now_ms();
        char share[1024], node[64], file[1200];
        int ok = 1;

        buf[0] = 0;
        setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
        if (getpid() == 1 && (mounts(&r) < 0 || modules(&r) < 0))
                ok = 0;
        if (ok && cmdline("node", node, sizeof(node)) && sethostname(node, strlen(node)) < 0)
                say(&r, "hostname %s: %s\n", node, strerror(errno));
        if (ok && cmdline("share", share, sizeof(share))) {
                mkdirs(share);
                if (mount("fwsh", share, "9p", 0, "trans=virtio,version=9p2000.L,msize=262144") < 0) {
                        say(&r, "mount the share at %s: %s\n", share, strerror(errno));
                        ok = 0;
                } else if (cmdline("node", node, sizeof(node))) {
                        snprintf(file, sizeof(file), "%s/%s.boot", share, node);
                        if (boot_file(file, &r) < 0)
                                ok = 0;
                }
        }
        say(&r, "%s after %lld ms of init\n", ok ? "ready" : "boot failed",
            (long long)(fwsh_now_ms() - t0));
        return ok;
}
