/* main.c - fwsh-flows: many TCP connections (and UDP flows) between a client
 * and a server, each carrying a byte pattern checked at the far end, with
 * what each connection lived through written down, one line each.
 *
 *   fwsh-flows server --listen ADDR:PORT [--listen ...] [--udp] [options]
 *       accept any number of connections on each address; check the bytes
 *       each one brings and send back as many of its own; with --udp also
 *       echo UDP flows on the same addresses. Runs until SIGTERM/SIGINT or
 *       --duration.
 *   fwsh-flows client --connect ADDR:PORT [--connect ...] --src ADDR[+COUNT]
 *                     [--src ...] --flows N [--open-rate R] [--new-rate R]
 *                     [--new-max M] [--udp M] [--id-base B] [options]
 *       open N connections at R a second (default 20000) round-robin from
 *       the source addresses (which the caller has put on an interface) to
 *       the servers, then --new-rate more a second (up to --new-max, so that
 *       young connections exist at every instant); every --interval ms each
 *       sends --chunk bytes; at --duration each ends its stream and waits
 *       (--drain-ms; default 5 s, or 2 ms a connection if longer) for the
 *       server's last byte and its close. Ids
 *       start at --id-base (0): several clients, each within its own
 *       RLIMIT_NOFILE, make one set of ids that merge can join.
 *   fwsh-flows merge CLIENT.tsv SERVER.tsv [OUT.tsv]
 *       join the two sides' reports by (proto, id) and print the summary of
 *       the pair: a connection survived only if it survived at both ends.
 *   Options of both sides: --duration S (10; at most 3600), --interval MS
 *   (100), --chunk BYTES (64), --stall-ms MS (5000), --report FILE (one TSV
 *   line per connection, see README), --corrupt-at ID:OFFSET (a test hook:
 *   this side sends byte OFFSET of connection ID changed).
 *   On stdout, a summary (README lists its lines); on a terminal, one
 *   updating progress line on stderr. The first SIGTERM/SIGINT ends the run
 *   as --duration would (the client still drains), a second stops at once;
 *   either way the report is written. SIGUSR1 is the mark: each
 *   connection's longest gap starts over there (the opening of many
 *   connections is not what a run measures; a gap open at the mark counts
 *   from it). Exit status 0 if every connection
 *   survived, 1 if not, 2 for a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"
#include "flows.h"

volatile sig_atomic_t flows_stop;
volatile sig_atomic_t flows_mark_req;
double flows_mark_ms;
double flows_t0;
long flows_fd_limit;
double flows_lag_ms;

static void on_signal(int sig)
{
        if (sig == SIGUSR1)
                flows_mark_req = 1;
        else
                flows_stop = flows_stop ? 2 : 1;
}

double flows_now(void)
{
        return fwsh_now_msf() - flows_t0;
}

/* Raises this process's own open-file limit to want (if the hard limit is
 * lower and the process may raise it, that too: never past fs.nr_open);
 * returns how many descriptors it may now hold. */
int flows_raise_nofile(long want)
{
        struct rlimit r;

        if (getrlimit(RLIMIT_NOFILE, &r) < 0)
                return -errno;
        if ((long)r.rlim_max < want) {
                struct rlimit up = { (rlim_t)want, (rlim_t)want };
                if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                        r = up;
        }
        r.rlim_cur = r.rlim_max < (rlim_t)want ? r.rlim_max : (rlim_t)want;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
        flows_fd_limit = (long)r.rlim_cur;
        return 0;
}

/* One line on stderr, rewritten four times a second, when it is a terminal;
 * open < 0 clears it. */
void flows_progress(const char *side, long open, long done, long reset)
{
        static int tty = -1;
        static double last;
        double t = flows_now();

        if (tty < 0)
                tty = isatty(2);
        if (!tty || (t - last < 250 && open >= 0))
                return;
        last = t;
        if (open < 0) {
                fputs("\r\033[K", stderr);
                return;
        }
        fprintf(stderr, "\r\033[K%s %.1f s: open %ld done %ld reset %ld", side, t / 1000, open, done,
                reset);
}

int wheel_init(struct wheel *w, int slots, long items)
{
        w->slots = slots;
        w->head = malloc((size_t)slots * sizeof(*w->head));
        w->next = malloc((size_t)(items ? items : 1) * sizeof(*w->next));
        w->done_ms = -1;
        if (!w->head || !w->next)
                return -ENOMEM;
        memset(w->head, 0xff, (size_t)slots * sizeof(*w->head));
        return 0;
}

void wheel_add(struct wheel *w, uint32_t item, int64_t now_ms)
{
        int s = (int)(now_ms % w->slots);

        w->next[item] = w->head[s];
        w->head[s] = item;
}

void wheel_free(struct wheel *w)
{
        free(w->head);
        free(w->next);
}

static int usage(void)
{
        fputs("usage: fwsh-flows server --listen ADDR:PORT... [--udp] [options]\n"
              "       fwsh-flows client --connect ADDR:PORT... --src ADDR[+COUNT]... --flows N\n"
              "                  [--open-rate R] [--new-rate R] [--new-max M] [--udp M] [--id-base B]\n"
              "                  [options]\n"
              "       fwsh-flows merge CLIENT.tsv SERVER.tsv [OUT.tsv]\n"
              "options: --duration S --interval MS --chunk BYTES --stall-ms MS --drain-ms MS\n"
              "         --report FILE --corrupt-at ID:OFFSET (test hook)\n",
              stderr);
        return 2;
}

/* A whole number in [min, max], nothing after it; -1 if not. */
static long number(const char *s, long min, long max)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        return errno || end == s || *end || v < min || v > max ? -1 : v;
}

static int endpoint(const char *s, struct sockaddr_in *a)
{
        char host[INET_ADDRSTRLEN];
        const char *colon = strrchr(s, ':');
        long port;

        if (!colon || colon - s >= (long)sizeof(host) || (port = number(colon + 1, 1, 65535)) < 0)
                return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        *a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* ADDR or ADDR+COUNT (COUNT consecutive addresses from ADDR), or a comma list of these. */
static int sources(char *s, struct flows_opts *o)
{
        for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *plus = strchr(tok, '+');
                long count = plus ? number(plus + 1, 1, 65536) : 1;
                struct in_addr a;
                if (plus)
                        *plus = 0;
                if (count < 0 || inet_pton(AF_INET, tok, &a) != 1 || o->n_srcs + count > 65536)
                        return -1;
                struct in_addr *v = realloc(o->srcs, (size_t)(o->n_srcs + count) * sizeof(*v));
                if (!v)
                        return -1;
                o->srcs = v;
                for (long i = 0; i < count; i++)
                        o->srcs[o->n_srcs++].s_addr = htonl(ntohl(a.s_addr) + (uint32_t)i);
        }
        return 0;
}

static double seconds(const char *s, double max)
{
        char *end;
        double v = strtod(s, &end);

        return end == s || *end || !isfinite(v) || v < 0 || v > max ? -1 : v;
}

int main(int argc, char **argv)
{
        static const struct option longs[] = {
                { "listen", 1, 0, 'l' }, { "connect", 1, 0, 'c' }, { "src", 1, 0, 's' },
                { "flows", 1, 0, 'n' }, { "open-rate", 1, 0, 'o' }, { "new-rate", 1, 0, 'r' },
                { "new-max", 1, 0, 'm' }, { "udp", 2, 0, 'u' }, { "duration", 1, 0, 'd' },
                { "interval", 1, 0, 'i' }, { "chunk", 1, 0, 'b' }, { "stall-ms", 1, 0, 'S' },
                { "drain-ms", 1, 0, 'D' }, { "report", 1, 0, 'R' }, { "corrupt-at", 1, 0, 'C' },
                { "id-base", 1, 0, 'I' },
                { 0, 0, 0, 0 },
        };
        struct flows_opts o = {
                .open_rate = 20000, .new_max = -1, .duration_ms = 10000, .drain_ms = -1,
                .stall_ms = 5000, .interval_ms = 100, .chunk = 64, .corrupt_id = -1,
        };
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waits return */
        int c, bad = 0;

        flows_t0 = fwsh_now_msf();
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGUSR1, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2)
                return usage();
        o.server = strcmp(argv[1], "server") == 0;
        if (strcmp(argv[1], "merge") == 0) {
                if (argc != 4 && argc != 5)
                        return usage();
                return flows_merge(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
        }
        if (!o.server && strcmp(argv[1], "client") != 0)
                return usage();
        optind = 2;
        while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
                double d;
                char *colon;
                switch (c) {
                case 'l':
                case 'c':
                        if ((c == 'l') != o.server || o.n_ends == ENDPOINTS_MAX ||
                            endpoint(optarg, &o.ends[o.n_ends++]) < 0)
                                bad = 1;
                        break;
                case 's': bad |= o.server || sources(optarg, &o) < 0; break;
                case 'n': bad |= (o.flows = number(optarg, 0, FLOWS_MAX)) < 0; break;
                case 'o': bad |= (o.open_rate = number(optarg, 1, 1000000)) < 0; break;
                case 'r': bad |= (o.new_rate = number(optarg, 0, 1000000)) < 0; break;
                case 'm': bad |= (o.new_max = number(optarg, 0, FLOWS_MAX)) < 0; break;
                case 'u':
                        /* The server's --udp takes no value, the client's a count. */
                        if (!optarg && !o.server && optind < argc)
                                optarg = argv[optind++];
                        if (o.server) {
                                bad |= optarg != NULL;
                                o.udp_server = 1;
                        } else
                                bad |= !optarg || (o.udp = number(optarg, 0, UDP_MAX)) < 0;
                        break;
                case 'd':
                        bad |= (d = seconds(optarg, DURATION_MAX_S)) < 0;
                        o.duration_ms = d * 1000;
                        break;
                case 'i': bad |= (o.interval_ms = (int)number(optarg, 1, 60000)) < 0; break;
                case 'b': bad |= (o.chunk = (int)number(optarg, 1, CHUNK_MAX)) < 0; break;
                case 'S': bad |= (o.stall_ms = seconds(optarg, 3600000)) < 0; break;
                case 'D': bad |= (o.drain_ms = seconds(optarg, 600000)) < 0; break;
                case 'R': o.report = optarg; break;
                case 'I': bad |= o.server || (o.id_base = number(optarg, 0, INT32_MAX)) < 0; break;
                case 'C':
                        colon = strchr(optarg, ':');
                        if (!colon || (*colon = 0, o.corrupt_id = number(optarg, 0, FLOWS_MAX)) < 0)
                                bad = 1;
                        else {
                                char *end;
                                errno = 0;
                                o.corrupt_off = strtoull(colon + 1, &end, 10);
                                bad |= errno || end == colon + 1 || *end;
                        }
                        break;
                default: bad = 1;
                }
        }
        /* A gap of one interval is every connection's rhythm: a stall bound
         * no longer than it would call every connection stalled. */
        if (!bad && o.stall_ms <= o.interval_ms) {
                fprintf(stderr, "fwsh-flows: --stall-ms %.0f must be longer than --interval %d\n", o.stall_ms,
                        o.interval_ms);
                bad = 1;
        }
        if (bad || optind != argc || o.n_ends == 0 ||
            (!o.server && (o.n_srcs == 0 || o.flows + o.udp == 0))) {
                free(o.srcs);
                return usage();
        }
        c = o.server ? flows_server(&o) : flows_client(&o);
        free(o.srcs);
        return c;
}
