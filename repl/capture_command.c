/* capture_command.c - `fwsh capture LINK [-f FILTER] [-c COUNT] [-w FILE]
 * [-s SNAPLEN] [-p] [--netns NS]`: a link's packets as pcap, into FILE or,
 * without -w, onto standard output, flushed after every packet, for a reader
 * at the other end of a pipe: `fwsh capture br2 | tcpdump -r -`, `| wireshark
 * -k -i -`. Never onto a terminal. It ends at COUNT, on SIGINT, SIGTERM or
 * SIGHUP, or when the reader goes away (SIGPIPE is ignored: the write fails
 * with EPIPE), and says on standard error how many packets it wrote. The
 * capture itself is core's (core/lab/capture.c), as fwsh.capture's is. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwsh.h"
#include "repl.h"

static const char USAGE[] =
        "usage: fwsh capture LINK [-f FILTER] [-c COUNT] [-w FILE] [-s SNAPLEN] [-p] [--netns NS]\n"
        "  -f FILTER    a pcap-filter(7) expression, e.g. 'udp port 3780' or 'ip proto 112'\n"
        "  -c COUNT     end after COUNT packets\n"
        "  -w FILE      write the pcap file FILE; without it (or with -w -) the stream\n"
        "               goes to standard output, for a pipe: | tcpdump -r -, | wireshark -k -i -\n"
        "  -s SNAPLEN   keep SNAPLEN bytes of each packet (default and most 262144)\n"
        "  -p           leave the link out of promiscuous mode\n"
        "  --netns NS   the link is in the named network namespace NS\n";

static int usage(const char *why, const char *what)
{
        if (why)
                fprintf(stderr, "fwsh capture: %s%s\n", why, what ? what : "");
        fputs(USAGE, stderr);
        return 2;
}

static void on_signal(int sig)
{
        (void)sig;
        fwsh_cancel();
}

/* A decimal number from min to max, and nothing after it. */
static int number(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        if (s[0] < '0' || s[0] > '9')
                return -1;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *ret = v;
        return 0;
}

int capture_command(struct fwsh_ctx *ctx, int argc, char **argv)
{
        struct fwsh_capture_spec spec = FWSH_CAPTURE_SPEC_INIT;
        struct fwsh_capture_stats st;
        struct fwsh_capture *c = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        const char *ns = NULL, *out = NULL;
        uint64_t v;
        int r, end;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *value = i + 1 < argc ? argv[i + 1] : NULL;

                if (strncmp(a, "--netns=", 8) == 0) {
                        ns = a + 8;
                        continue;
                }
                if (a[0] != '-' || !a[1]) {
                        if (spec.link)
                                return usage("one link at a time: ", a);
                        spec.link = a;
                        continue;
                }
                if (strcmp(a, "-p") == 0) {
                        spec.promisc = false;
                        continue;
                }
                if (strcmp(a, "-f") && strcmp(a, "-c") && strcmp(a, "-w") && strcmp(a, "-s") &&
                    strcmp(a, "--netns"))
                        return usage("unknown option ", a);
                if (!value)
                        return usage(a, " needs a value");
                i++;
                if (a[1] == 'f') {
                        spec.filter = value;
                } else if (a[1] == 'w') {
                        out = value;
                } else if (a[1] == '-') {
                        ns = value;
                } else if (a[1] == 'c') {
                        if (number(value, 1, INT64_MAX, &v) < 0)
                                return usage("-c: a count of packets from 1, not ", value);
                        spec.count = v;
                } else {
                        if (number(value, 1, FWSH_CAPTURE_SNAPLEN, &v) < 0)
                                return usage("-s: a number of bytes from 1 to 262144, not ", value);
                        spec.snaplen = (int)v;
                }
        }
        if (!spec.link)
                return usage("which link?", NULL);
        if (out && strcmp(out, "-") != 0) {
                spec.path = out;
        } else if (isatty(STDOUT_FILENO)) {
                fputs("fwsh capture: standard output is a terminal: pcap is binary; write a file "
                      "(-w FILE) or pipe it to a reader (| tcpdump -r -, | wireshark -k -i -)\n", stderr);
                return 1;
        } else {
                spec.fd = STDOUT_FILENO;
        }
        if (ns) {
                r = fwsh_netns_open(ctx, ns, &spec.netns_fd);
                if (r < 0) {
                        fprintf(stderr, "fwsh capture: --netns %s: %s\n", ns, fwsh_ctx_detail(ctx));
                        return 1;
                }
        }
        r = fwsh_capture_open(ctx, &spec, &c);
        if (spec.netns_fd >= 0)
                close(spec.netns_fd);
        if (r < 0) {
                const char *d = fwsh_ctx_detail(ctx);
                fprintf(stderr, "fwsh capture: %s%s%s: %s%s%s\n", spec.link, ns ? " in netns " : "",
                        ns ? ns : "", strerror(-r), d[0] ? ": " : "", d);
                return 1;
        }
        /* From here on a signal ends the capture cleanly: the file is flushed. */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        fprintf(stderr, "fwsh capture: capturing on %s%s%s%s%s%s, writing %s\n", spec.link,
                ns ? " in netns " : "", ns ? ns : "", spec.filter ? ", filter '" : "",
                spec.filter ? spec.filter : "", spec.filter ? "'" : "",
                spec.path ? spec.path : "to standard output");
        end = fwsh_capture_run(ctx, c);
        r = fwsh_capture_stop(c, 0, &st);
        if (end == 0)
                end = r;
        fprintf(stderr, "fwsh capture: %" PRIu64 " packet%s captured, %" PRIu64 " dropped by the kernel%s\n",
                st.packets, st.packets == 1 ? "" : "s", st.dropped,
                end == -EPIPE ? " (the reader closed the pipe)" : "");
        if (end < 0 && end != -EPIPE) {
                const char *d = end == r ? fwsh_capture_detail(c) : fwsh_ctx_detail(ctx);
                fprintf(stderr, "fwsh capture: %s: %s%s%s\n", spec.link, strerror(-end), d[0] ? ": " : "", d);
        }
        fwsh_capture_free(c);
        return end < 0 && end != -EPIPE ? 1 : 0;
}
