/* ctstat.c - fwsh-ctstat: how many entries a conntrackd's external cache
 * (the peer's connections) has taken, read every few milliseconds.
 *
 *   fwsh-ctstat SOCKET [INTERVAL_MS [DURATION_S]]
 *
 * Asks conntrackd for its statistics on its UNIX socket (what `conntrackd
 * -s` does, without a process a request: spawning one took 60-110 ms on a
 * loaded machine, longer than the lag it should time) every INTERVAL_MS
 * (default 5) for DURATION_S seconds (default 10, at most 3600), and prints
 * one line a request:
 *
 *   T0_MS T1_MS CREATED ACTIVE
 *
 * T0/T1 when the request was sent and its answer complete (CLOCK_MONOTONIC,
 * ms), CREATED the external cache's "connections created" (a running
 * count: entries that went again still count), ACTIVE its current entries.
 * Ends early on SIGTERM/SIGINT. Exit status 1 if no request succeeded. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

/* conntrackd's request for its statistics (STATS in its conntrackd.h): the
 * client sends it as an int and reads text until the daemon closes. */
#define CONNTRACKD_STATS 21

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

/* One statistics request; 0 and the external cache's counts, or -errno. */
static int request(const char *path, long long *created, long long *active)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[8192];
        size_t len = 0;
        int request = CONNTRACKD_STATS;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            send(fd, &request, sizeof request, MSG_NOSIGNAL) != (ssize_t)sizeof request) {
                int e = -errno;
                close(fd);
                return e;
        }
        for (;;) {
                ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || (len += (size_t)n) >= sizeof buf - 1)
                        break;
        }
        close(fd);
        buf[len] = '\0';
        const char *ext = strstr(buf, "cache external:");
        const char *a = ext ? strstr(ext, "current active connections:") : NULL;
        const char *c = ext ? strstr(ext, "connections created:") : NULL;
        if (!a || !c)
                return -EPROTO;
        *active = strtoll(a + strlen("current active connections:"), NULL, 10);
        *created = strtoll(c + strlen("connections created:"), NULL, 10);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2 || argc > 4 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                fprintf(stderr, "usage: fwsh-ctstat SOCKET [INTERVAL_MS [DURATION_S]]\n");
                return 2;
        }
        long interval = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
        long duration = argc > 3 ? strtol(argv[3], NULL, 10) : 10;
        if (interval < 1 || interval > 10000 || duration < 1 || duration > 3600) {
                fprintf(stderr, "fwsh-ctstat: INTERVAL_MS 1..10000, DURATION_S 1..3600\n");
                return 2;
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        setvbuf(stdout, NULL, _IOLBF, 0);

        double end = fwsh_now_msf() + (double)duration * 1000;
        int ok = 0;
        while (!stop && fwsh_now_msf() < end) {
                long long created, active;
                double t0 = fwsh_now_msf();
                int r = request(argv[1], &created, &active);
                double t1 = fwsh_now_msf();
                if (r == 0) {
                        printf("%.3f %.3f %lld %lld\n", t0, t1, created, active);
                        ok = 1;
                } else {
                        fprintf(stderr, "fwsh-ctstat: %s: %s\n", argv[1], strerror(-r));
                }
                struct timespec ts = { interval / 1000, (interval % 1000) * 1000000L };
                nanosleep(&ts, NULL);
        }
        return ok ? 0 : 1;
}
