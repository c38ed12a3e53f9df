/* agent.c - fwsh-agent: the guest's init (PID 1) and the host's agent in
 * it. It boots the node (boot.c), then serves the host's requests on the
 * virtio-serial port org.fwsh.agent, one at a time (wire.h): run a command
 * and return its output and status, start a daemon, report on it, signal
 * it, write a sysctl. As PID 1 it reaps every orphan and never exits. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "agent.h"
#include "wire.h"

static char boot_report[4096];
static int boot_ok;

/* The port's device, /dev/vportNpM, found by its name; waited for. */
static int port_open(void)
{
        for (int tries = 0; tries < 500; tries++) {
                DIR *d = opendir("/sys/class/virtio-ports");
                struct dirent *e;
                while (d && (e = readdir(d))) {
                        char path[300], name[64] = "";
                        FILE *f;
                        snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
                        if (e->d_name[0] == '.' || !(f = fopen(path, "re")))
                                continue;
                        if (fgets(name, sizeof(name), f) && !strncmp(name, WIRE_PORT_NAME, strlen(WIRE_PORT_NAME))) {
                                int fd;
                                fclose(f);
                                snprintf(path, sizeof(path), "/dev/%s", e->d_name);
                                fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
                                if (fd >= 0) {
                                        closedir(d);
                                        return fd;
                                }
                                continue;
                        }
                        fclose(f);
                }
                if (d)
                        closedir(d);
                usleep(10000);
        }
        return -1;
}

/* The reply under way: its port, its id, and whether the host left. */
struct reply {
        int fd;
        uint32_t id;
        int gone;
};

/* Writes all of it, or gives up once the host has had 3 s to take it. The
 * port says HUP while no host is connected, and the guest may learn that
 * the host connected after its request has arrived (the news comes on
 * another queue): a HUP is waited out, not taken as the host's leaving. */
static int write_all(struct reply *r, const unsigned char *p, size_t len)
{
        int waited_ms = 0;
        while (len > 0 && !r->gone) {
                ssize_t n = write(r->fd, p, len);
                if (n > 0) {
                        p += n;
                        len -= (size_t)n;
                } else if (n < 0 && errno == EAGAIN) {
                        struct pollfd w = { .fd = r->fd, .events = POLLOUT };
                        int ready = poll(&w, 1, 100);
                        if (ready <= 0 || (w.revents & POLLHUP)) {
                                if (w.revents & POLLHUP)
                                        usleep(5000);
                                waited_ms += ready <= 0 ? 100 : 5;
                        }
                        if (waited_ms >= 3000)
                                r->gone = 1; /* the host went away: the rest is dropped */
                } else if (n < 0 && errno != EINTR) {
                        r->gone = 1;
                }
        }
        return r->gone ? -1 : 0;
}

static void frame_emit(void *sink, char type, const char *data, size_t len)
{
        struct reply *r = sink;
        do {
                size_t n = len > 4096 ? 4096 : len;
                unsigned char head[WIRE_REP_HEAD];
                memcpy(head, WIRE_REP_MAGIC, 4);
                wire_put32(head + 4, r->id);
                head[8] = (unsigned char)type;
                wire_put32(head + 9, (uint32_t)n);
                if (write_all(r, head, sizeof(head)) < 0 || write_all(r, (const unsigned char *)data, n) < 0)
                        return;
                data += n;
                len -= n;
        } while (len > 0);
}

static void emit_str(struct reply *r, char type, const char *s)
{
        frame_emit(r, type, s, strlen(s));
}

static void serve(struct reply *r, char **argv, int argc)
{
        struct out o = { frame_emit, r };
        /* end holds "error " and all of buf: a message is never cut short */
        char buf[600], end[sizeof("error ") + sizeof(buf)] = "exit 0";
        const char *op = argv[0];

        if (!strcmp(op, "ping") && argc == 1) {
                emit_str(r, 'o', boot_report);
                snprintf(end, sizeof(end), "exit %d", boot_ok ? 0 : 1);
        } else if (!strcmp(op, "run") && argc >= 3 && atoi(argv[1]) > 0) {
                jobs_run(argv + 2, atoi(argv[1]), &o, end, sizeof(end));
        } else if (!strcmp(op, "spawn") && argc >= 3) {
                pid_t pid = jobs_spawn(argv[1], argv + 2, buf, sizeof(buf));
                if (pid < 0) {
                        snprintf(end, sizeof(end), "error %s", buf);
                } else {
                        snprintf(buf, sizeof(buf), "%d\n", (int)pid);
                        emit_str(r, 'o', buf);
                }
        } else if (!strcmp(op, "status") && argc == 2) {
                jobs_status(atoi(argv[1]), buf, sizeof(buf) - 1);
                strcat(buf, "\n");
                emit_str(r, 'o', buf);
        } else if (!strcmp(op, "kill") && argc == 3) {
                pid_t pid = atoi(argv[1]);
                int sig = atoi(argv[2]);
                if (pid <= 1 || (kill(-pid, sig) < 0 && kill(pid, sig) < 0))
                        snprintf(end, sizeof(end), "error kill %s: %s", argv[1],
                                 pid <= 1 ? "not a process of the agent" : strerror(errno));
        } else if (!strcmp(op, "write") && argc == 3) {
                if (boot_write(argv[1], argv[2], buf, sizeof(buf)) < 0)
                        snprintf(end, sizeof(end), "error %s", buf);
        } else {
                snprintf(end, sizeof(end), "error unknown request %.64s (%d arguments)", op, argc - 1);
        }
        emit_str(r, 'x', end);
}

/* One request in buf[0..len): its arguments, each ended by a zero byte. */
static void request(int fd, uint32_t id, char *buf, uint32_t len)
{
        struct reply r = { .fd = fd, .id = id };
        char *argv[WIRE_MAX_ARGS + 1];
        int argc = 0;
        for (uint32_t i = 0; i < len && argc < WIRE_MAX_ARGS; i += (uint32_t)strlen(buf + i) + 1)
                argv[argc++] = buf + i;
        argv[argc] = NULL;
        if (len == 0 || buf[len - 1] != 0 || argc == 0)
                emit_str(&r, 'x', "error malformed request");
        else
                serve(&r, argv, argc);
}

static unsigned char in[WIRE_REQ_HEAD + WIRE_MAX_REQ];
static size_t have;

/* Handles every whole request in the buffer; skips bytes that do not
 * start one (what a host that went away mid-request left). */
static void requests(int fd)
{
        for (;;) {
                unsigned char *m = memmem(in, have, WIRE_REQ_MAGIC, 4);
                uint32_t len;
                size_t skip = m ? (size_t)(m - in) : (have > 3 ? have - 3 : 0);
                memmove(in, in + skip, have - skip);
                have -= skip;
                if (have < WIRE_REQ_HEAD)
                        return;
                len = wire_get32(in + 8);
                if (len > WIRE_MAX_REQ) {
                        memmove(in, in + 1, --have);
                        continue;
                }
                if (have < WIRE_REQ_HEAD + len)
                        return;
                request(fd, wire_get32(in + 4), (char *)in + WIRE_REQ_HEAD, len);
                memmove(in, in + WIRE_REQ_HEAD + len, have - WIRE_REQ_HEAD - len);
                have -= WIRE_REQ_HEAD + len;
        }
}

/* A shell on the serial console (ttyS0, its controlling terminal), for
 * `fwsh console`, and on the display's first virtual terminal (tty1) when
 * the VM has one (fwsh.display on the kernel's command line): started after
 * the boot, again whenever it ends. */
static struct {
        const char *tty;
        pid_t pid;
} consoles[] = { { "/dev/ttyS0", 0 }, { "/dev/tty1", 0 } };
static size_t n_consoles = 1;

static void console_shell(const char *tty, pid_t *pid)
{
        if (*pid > 0 && kill(*pid, 0) == 0)
                return;
        *pid = fork();
        if (*pid == 0) {
                int fd;
                setsid();
                fd = open(tty, O_RDWR); /* a session leader's first terminal: its own */
                if (fd < 0)
                        _exit(127);
                dup2(fd, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                if (fd > 2)
                        close(fd);
                setenv("TERM", strcmp(tty, "/dev/ttyS0") == 0 ? "vt100" : "linux", 1);
                setenv("HOME", "/root", 1);
                execl("/bin/sh", "-sh", (char *)NULL);
                _exit(127);
        }
}

/* Whether the kernel's command line has word (a whole word). */
static bool cmdline_has(const char *word)
{
        char line[4096], *w, *save = NULL;
        FILE *f = fopen("/proc/cmdline", "r");
        bool found = false;

        if (!f)
                return false;
        if (fgets(line, sizeof(line), f))
                for (w = strtok_r(line, " \n", &save); w && !found; w = strtok_r(NULL, " \n", &save))
                        found = strcmp(w, word) == 0;
        fclose(f);
        return found;
}

int main(void)
{
        int64_t last_data = 0;
        int fd;

        signal(SIGPIPE, SIG_IGN);
        boot_ok = boot(boot_report, sizeof(boot_report));
        if (cmdline_has("fwsh.display"))
                n_consoles = 2;
        fprintf(stderr, "fwsh-agent: %s", boot_report);
        fd = port_open();
        if (fd < 0) {
                fprintf(stderr, "fwsh-agent: no virtio-serial port named %s\n", WIRE_PORT_NAME);
                for (;;) { /* PID 1 must not end; it still reaps */
                        jobs_reap();
                        sleep(1);
                }
        }
        for (;;) {
                ssize_t n;
                jobs_reap();
                for (size_t i = 0; i < n_consoles; i++)
                        console_shell(consoles[i].tty, &consoles[i].pid);
                n = read(fd, in + have, sizeof(in) - have);
                if (n > 0) {
                        have += (size_t)n;
                        last_data = fwsh_now_ms();
                        requests(fd);
                } else if (n == 0) {
                        /* No host on the port (or the news of the next one is
                         * still on its way): looked at again in 10 ms, since
                         * poll says HUP at once. Part of a request that a host
                         * left 2 s ago is dropped. */
                        if (have > 0 && fwsh_now_ms() - last_data > 2000)
                                have = 0;
                        usleep(10000);
                } else if (errno == EAGAIN) {
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        poll(&p, 1, 1000);
                } else if (errno != EINTR) {
                        usleep(10000);
                }
        }
}
