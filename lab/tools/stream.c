/* stream.c - fwsh-stream: a TCP stream of counted bytes that tells whether it
 * came through with no reset and no lost or changed byte, checked at both
 * ends. Byte i of the stream is pattern(i); the receiver checks every byte and,
 * at the end, sends back how many it received; the sender compares.
 *
 *   fwsh-stream server PORT
 *       accept one connection, check it; at the sender's end of stream send
 *       back the count and print "received N ok"; on a reset print
 *       "received N reset"; on a wrong byte "received N mismatch at I"; then
 *       "peer ADDR:PORT", the other end as this end saw it (NAT shows there)
 *   fwsh-stream client ADDR PORT [BYTES_PER_SECOND]
 *       send at that rate (default 100000) in 10 ms steps until SIGTERM or
 *       SIGINT; then end the stream, wait for the count (10 s at most) and
 *       print "sent N acked M ok", "sent N acked M short", or "sent N reset"
 *   Exit status 0 only for "ok".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

static uint8_t pattern(uint64_t i)
{
        return (uint8_t)(i * 131u + (i >> 8) + (i >> 16));
}

static int usage(void)
{
        fputs("usage: fwsh-stream server PORT | client ADDR PORT [BYTES_PER_SECOND]\n", stderr);
        return 2;
}

static char peer[64]; /* the client as the server saw it */

static int server(int port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) }, from;
        socklen_t from_len = sizeof(from);
        int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
        uint64_t got = 0, be;
        uint8_t buf[65536];

        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0) {
                perror("fwsh-stream: listen");
                return 1;
        }
        fd = accept(lfd, (struct sockaddr *)&from, &from_len);
        if (fd >= 0) {
                char ip[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
                snprintf(peer, sizeof(peer), "%s:%u", ip, ntohs(from.sin_port));
        }
        if (fd < 0) {
                printf("received 0 %s\n", done ? "never-connected" : strerror(errno));
                return 1;
        }
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR && !done)
                        continue;
                if (n < 0) {
                        printf("received %llu %s\n", (unsigned long long)got,
                               errno == ECONNRESET ? "reset" : errno == EINTR ? "open" : strerror(errno));
                        return 1;
                }
                if (n == 0)
                        break;
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] != pattern(got + (uint64_t)i)) {
                                printf("received %llu mismatch at %llu\n",
                                       (unsigned long long)(got + (uint64_t)n),
                                       (unsigned long long)(got + (uint64_t)i));
                                return 1;
                        }
                }
                got += (uint64_t)n;
        }
        be = ((uint64_t)htonl((uint32_t)got) << 32) | htonl((uint32_t)(got >> 32));
        if (write(fd, &be, sizeof(be)) != (ssize_t)sizeof(be)) {
                printf("received %llu reset\n", (unsigned long long)got);
                return 1;
        }
        printf("received %llu ok\n", (unsigned long long)got);
        close(fd);
        return 0;
}

static int client(const char *addr, int port, long rate)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        uint64_t sent = 0, acked = 0, be = 0;
        size_t step = (size_t)(rate / 100 > 0 ? rate / 100 : 1);
        uint8_t *buf = malloc(step);
        double next;
        size_t have = 0;

        if (!buf || inet_pton(AF_INET, addr, &a.sin_addr) != 1)
                return usage();
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                printf("sent 0 %s\n", strerror(errno));
                return 1;
        }
        next = fwsh_now_msf();
        while (!done) {
                double t = fwsh_now_msf();
                if (t < next) {
                        struct timespec ts = { 0, (long)((next - t) * 1e6) };
                        nanosleep(&ts, NULL);
                        continue;
                }
                for (size_t i = 0; i < step; i++)
                        buf[i] = pattern(sent + i);
                have = 0;
                while (have < step && !done) {
                        ssize_t n = write(fd, buf + have, step - have);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0) {
                                printf("sent %llu reset\n", (unsigned long long)(sent + have));
                                return 1;
                        }
                        have += (size_t)n;
                }
                sent += have;
                next += 10;
        }
        shutdown(fd, SHUT_WR);
        for (size_t got = 0; got < sizeof(be);) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;
                if (poll(&p, 1, 10000) <= 0) {
                        printf("sent %llu acked 0 timeout\n", (unsigned long long)sent);
                        return 1;
                }
                n = read(fd, (char *)&be + got, sizeof(be) - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        printf("sent %llu reset\n", (unsigned long long)sent);
                        return 1;
                }
                got += (size_t)n;
        }
        acked = ((uint64_t)ntohl((uint32_t)be) << 32) | ntohl((uint32_t)(be >> 32));
        printf("sent %llu acked %llu %s\n", (unsigned long long)sent, (unsigned long long)acked,
               acked == sent ? "ok" : "short");
        free(buf);
        close(fd);
        return acked == sent ? 0 : 1;
}

int main(int argc, char **argv)
{
        struct sigaction sa = { .sa_handler = on_signal };

        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 3 && strcmp(argv[1], "server") == 0) {
                int r = server(atoi(argv[2]));
                if (peer[0])
                        printf("peer %s\n", peer);
                return r;
        }
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "client") == 0)
                return client(argv[2], atoi(argv[3]), argc == 5 ? atol(argv[4]) : 100000);
        return usage();
}
