/* probe.c - fwsh-probe: a UDP echo probe that measures an outage as the
 * largest gap between consecutive replies.
 *
 *   fwsh-probe server PORT                  echo every datagram back, until SIGTERM
 *   fwsh-probe client ADDR PORT [INTERVAL_MS]
 *       send a numbered datagram every INTERVAL_MS (default 10); on SIGTERM or
 *       SIGINT print one line and exit 0:
 *       sent N received M lost K max_gap_ms G first_reply_ms F gap_at_ms A
 *       where G is the largest time between two replies in a row (or from the
 *       last reply to the end, if replies had stopped), and A when it began
 *       (the reply before it), from the probe's start; then a second line,
 *       replies_ms T1 T2 ...: when each reply came, ms from the start (the
 *       outage timeline a scenario plots).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
        (void)sig;
        done = 1;
}

static int usage(void)
{
        fputs("usage: fwsh-probe server PORT | client ADDR PORT [INTERVAL_MS]\n", stderr);
        return 2;
}

static int server(int port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        char buf[2048];

        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                perror("fwsh-probe: bind");
                return 1;
        }
        while (!done) {
                struct sockaddr_in from;
                socklen_t len = sizeof(from);
                ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
                if (n > 0)
                        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
        }
        return 0;
}

static int client(const char *addr, int port, int interval)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        uint64_t sent = 0, received = 0, seq;
        double start, next, last = -1, max_gap = 0, first = -1, gap_at = 0;
        float *times = NULL; /* each reply's, ms from start */
        size_t cap = 0;
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
                return usage();
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                perror("fwsh-probe: connect");
                return 1;
        }
        start = next = fwsh_now_msf();
        while (!done) {
                double t = fwsh_now_msf();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (t >= next) {
                        seq = sent++;
                        /* An unreachable reply (ICMP) only makes send fail: keep going. */
                        send(fd, &seq, sizeof(seq), 0);
                        next += interval;
                        continue;
                }
                if (poll(&p, 1, (int)(next - t) + 1) > 0) {
                        ssize_t n = recv(fd, &seq, sizeof(seq), 0);
                        t = fwsh_now_msf();
                        if (n != (ssize_t)sizeof(seq))
                                continue;
                        if (received == cap) {
                                size_t c = cap ? cap * 2 : 1024;
                                float *v = realloc(times, c * sizeof(*v));
                                if (v) {
                                        times = v;
                                        cap = c;
                                }
                        }
                        if (received < cap)
                                times[received] = (float)(t - start);
                        received++;
                        if (first < 0)
                                first = t - start;
                        else if (t - last > max_gap) {
                                max_gap = t - last;
                                gap_at = last - start;
                        }
                        last = t;
                }
        }
        double tail = fwsh_now_msf() - last;
        if (last >= 0 && tail > max_gap + interval) {
                max_gap = tail; /* replies had stopped before the end */
                gap_at = last - start;
        }
        printf("sent %llu received %llu lost %llu max_gap_ms %.1f first_reply_ms %.1f gap_at_ms %.1f\n",
               (unsigned long long)sent, (unsigned long long)received,
               (unsigned long long)(sent - received), max_gap, first, gap_at);
        fputs("replies_ms", stdout);
        for (uint64_t i = 0; i < received && i < cap; i++)
                printf(" %.1f", times[i]);
        putchar('\n');
        free(times);
        return 0;
}

int main(int argc, char **argv)
{
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: calls return */

        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 3 && strcmp(argv[1], "server") == 0)
                return server(atoi(argv[2]));
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "client") == 0)
                return client(argv[2], atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 10);
        return usage();
}
