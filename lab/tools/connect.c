/* connect.c - fwsh-connect: whether a TCP port answers, from where it runs
 * (a node's namespace, or the host): how a VM with no agent inside is seen
 * to be ready from outside. Speaks no protocol: a completed handshake is
 * the answer, and the connection is closed at once.
 *
 *   fwsh-connect ADDRESS PORT [SECONDS]
 *
 * Exit status 0 when the handshake completed within SECONDS (default 1),
 * 1 when it was refused, reset or timed out (the reason on standard
 * error), 2 for bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        char *end;
        long port;
        double seconds = 1;
        int fd, err = 0;
        socklen_t len = sizeof(err);
        struct pollfd p;

        if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
                fputs("usage: fwsh-connect IPV4-ADDRESS PORT [SECONDS]\n", stderr);
                return 2;
        }
        port = strtol(argv[2], &end, 10);
        if (*end || port < 1 || port > 65535) {
                fprintf(stderr, "fwsh-connect: not a port: %s\n", argv[2]);
                return 2;
        }
        if (argc == 4) {
                seconds = strtod(argv[3], &end);
                if (*end || !(seconds > 0 && seconds < 86400)) {
                        fprintf(stderr, "fwsh-connect: not a time in seconds: %s\n", argv[3]);
                        return 2;
                }
        }
        a.sin_port = htons((unsigned short)port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                fprintf(stderr, "fwsh-connect: socket: %s\n", strerror(errno));
                return 1;
        }
        /* non-blocking, so that an address nobody answers for (a hung VM:
         * no RST, no ICMP) costs SECONDS, not the kernel's minutes of SYNs */
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                if (errno != EINPROGRESS) {
                        err = errno;
                } else {
                        p = (struct pollfd){ .fd = fd, .events = POLLOUT };
                        int n = poll(&p, 1, (int)(seconds * 1000));
                        if (n == 0)
                                err = ETIMEDOUT;
                        else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                                err = errno;
                }
        }
        close(fd);
        if (err) {
                fprintf(stderr, "fwsh-connect: %s:%ld: %s\n", argv[1], port, strerror(err));
                return 1;
        }
        return 0;
}
