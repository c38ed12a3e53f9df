/* qmp.c - fwsh-qmp: one QMP command to a qemu monitor socket, its answer on
 * standard output. Speaks only the QMP protocol (JSON lines); no shell.
 *
 *   fwsh-qmp SOCKET '{"execute": "set_link", "arguments": {"name": "n0", "up": false}}'
 *
 * Prints the first reply line that is not an event ({"return": ...} or
 * {"error": ...}); exit status 0 for a return, 1 for an error or no answer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char buf[1 << 16];
static size_t have;

/* The next line from fd into line (NUL-ended), 5 s at most. 0, or -1. */
static int read_line(int fd, char *line, size_t size)
{
        for (;;) {
                char *nl = memchr(buf, '\n', have);
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;
                if (nl) {
                        size_t len = (size_t)(nl - buf);
                        snprintf(line, size, "%.*s", (int)len, buf);
                        memmove(buf, nl + 1, have - len - 1);
                        have -= len + 1;
                        return 0;
                }
                if (have == sizeof(buf) || poll(&p, 1, 5000) <= 0)
                        return -1;
                n = read(fd, buf + have, sizeof(buf) - have);
                if (n <= 0)
                        return -1;
                have += (size_t)n;
        }
}

/* The reply to the last command: skips greeting and events. */
static int reply(int fd, char *line, size_t size)
{
        while (read_line(fd, line, size) == 0)
                if (strstr(line, "\"return\"") || strstr(line, "\"error\""))
                        return strstr(line, "\"error\"") ? 1 : 0;
        return -1;
}

int main(int argc, char **argv)
{
        static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        static char line[1 << 16];
        int fd, r;

        if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path)) {
                fputs("usage: fwsh-qmp SOCKET JSON-COMMAND\n", stderr);
                return 2;
        }
        strcpy(a.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fprintf(stderr, "fwsh-qmp: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        if (read_line(fd, line, sizeof(line)) < 0 || !strstr(line, "\"QMP\"") ||
            write(fd, caps, sizeof(caps) - 1) < 0 || reply(fd, line, sizeof(line)) != 0) {
                fputs("fwsh-qmp: no QMP greeting\n", stderr);
                return 1;
        }
        if (write(fd, argv[2], strlen(argv[2])) < 0 || write(fd, "\n", 1) < 0)
                return 1;
        r = reply(fd, line, sizeof(line));
        if (r < 0) {
                fputs("fwsh-qmp: no answer\n", stderr);
                return 1;
        }
        puts(line);
        return r;
}
