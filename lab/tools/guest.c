/* guest.c - fwsh-guest: one request to a VM's fwsh-agent, over the
 * virtio-serial port qemu offers as a unix socket (lab/guest/wire.h). The
 * command's output and exit status become fwsh-guest's own; no shell and
 * no network between host and guest.
 *
 *   fwsh-guest SOCKET [-t SECONDS] ping            the guest's boot report; 0 once ready
 *   fwsh-guest SOCKET [-t SECONDS] run ARGV...      ARGV run in the guest to its end
 *   fwsh-guest SOCKET spawn OUTFILE ARGV...         started there; prints its pid
 *   fwsh-guest SOCKET status PID | kill PID SIGNUM | write PATH VALUE
 *
 * -t is the deadline for the whole request (default 30 s): a guest still
 * booting is waited for until then. Exit status: the command's, 128+N if a
 * signal ended it, 124 if it ran past the deadline, 125 if the agent
 * refused the request, 1 if no agent answered.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../guest/wire.h"
#include "base/clock.h"

/* Connected to path, retrying while qemu has not made the socket yet. */
static int dial(const char *path, int64_t deadline)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -1;
                if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
                        return fd;
                close(fd);
                if ((errno != ENOENT && errno != ECONNREFUSED) || fwsh_now_ms() >= deadline)
                        return -1;
                usleep(10000);
        }
}

/* Exactly len bytes before the deadline: 0, or -1 (EOF, error, time up). */
static int read_full(int fd, unsigned char *p, size_t len, int64_t deadline)
{
        while (len > 0) {
                struct pollfd w = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - fwsh_now_ms();
                ssize_t n;
                if (left <= 0 || poll(&w, 1, (int)left) <= 0)
                        return -1;
                n = read(fd, p, len);
                if (n == 0)
                        errno = 0;
                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int status_of(const char *end)
{
        if (!strncmp(end, "exit ", 5))
                return atoi(end + 5);
        if (!strncmp(end, "signal ", 7)) {
                fprintf(stderr, "fwsh-guest: the command was killed by signal %s\n", end + 7);
                return 128 + atoi(end + 7);
        }
        if (!strcmp(end, "timeout")) {
                fputs("fwsh-guest: the command ran past its deadline and was killed\n", stderr);
                return 124;
        }
        fprintf(stderr, "fwsh-guest: the agent says: %s\n", end);
        return 125;
}

int main(int argc, char **argv)
{
        static unsigned char req[WIRE_REQ_HEAD + WIRE_MAX_REQ], data[65536];
        double seconds = 30;
        int64_t deadline;
        size_t len = 0;
        uint32_t id;
        int fd, a = 2;
        char ms[32];

        if (argc >= 4 && !strcmp(argv[2], "-t")) {
                seconds = atof(argv[3]);
                a = 4;
        }
        if (argc <= a || seconds <= 0) {
                fputs("usage: fwsh-guest SOCKET [-t SECONDS] ping|run|spawn|status|kill|write ARGS...\n", stderr);
                return 2;
        }
        deadline = fwsh_now_ms() + (long)(seconds * 1000);
        /* run's own deadline is the request's, less a margin for the reply */
        snprintf(ms, sizeof(ms), "%ld", (long)(seconds * 1000) > 600 ? (long)(seconds * 1000) - 500 : 100);
        for (int i = a; i < argc; i++) {
                const char *s = argv[i];
                int passes = i == a && !strcmp(s, "run") ? 2 : 1;
                for (int pass = 0; pass < passes; pass++) {
                        size_t n = strlen(s) + 1;
                        if (len + n > WIRE_MAX_REQ) {
                                fputs("fwsh-guest: the request is too long\n", stderr);
                                return 2;
                        }
                        memcpy(req + WIRE_REQ_HEAD + len, s, n);
                        len += n;
                        s = ms; /* after "run", its deadline */
                }
        }
        srand((unsigned)(fwsh_now_ms() ^ getpid()));
        id = (uint32_t)rand();
        memcpy(req, WIRE_REQ_MAGIC, 4);
        wire_put32(req + 4, id);
        wire_put32(req + 8, (uint32_t)len);
        fd = dial(argv[1], deadline);
        if (fd < 0) {
                fprintf(stderr, "fwsh-guest: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        if (write(fd, req, WIRE_REQ_HEAD + len) != (ssize_t)(WIRE_REQ_HEAD + len)) {
                fprintf(stderr, "fwsh-guest: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        for (;;) {
                unsigned char head[WIRE_REP_HEAD];
                uint32_t n;
                if (read_full(fd, head, sizeof(head), deadline) < 0) {
                        if (fwsh_now_ms() < deadline) {
                                fprintf(stderr, "fwsh-guest: %s: qemu closed the connection before the agent "
                                        "answered %s (%s)\n", argv[1], argv[a], errno ? strerror(errno) : "end of file");
                                return 1;
                        }
                        break;
                }
                n = wire_get32(head + 9);
                if (memcmp(head, WIRE_REP_MAGIC, 4) || n > sizeof(data) - 1 ||
                    read_full(fd, data, n, deadline) < 0)
                        break;
                if (wire_get32(head + 4) != id)
                        continue; /* an earlier request's */
                if (head[8] == 'x') {
                        data[n] = 0;
                        return status_of((char *)data);
                }
                if (fwrite(data, 1, n, head[8] == 'e' ? stderr : stdout) != n)
                        return 1;
                fflush(head[8] == 'e' ? stderr : stdout);
        }
        fprintf(stderr, "fwsh-guest: %s: no answer from the guest's agent to %s within %g s%s\n",
                argv[1], argv[a], seconds, !strcmp(argv[a], "ping") ? " (the guest did not finish booting)" : "");
        return 1;
}
