/* client.c - fwsh-flows client: opens the connections and UDP flows, paces
 * their sending on a wheel, checks what comes back, and drains at the end.
 * One epoll loop; every socket is non-blocking. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flows.h"

#define UDP_TAG (1ull << 32) /* in epoll data: a UDP flow's index, not a connection's */
#define OPEN_BATCH 64        /* connections opened per turn of the loop, at most */

struct client {
        const struct flows_opts *o;
        struct flow *tcp, *udp;
        long n_tcp, max_tcp, n_udp;
        long open, done, reset, resolved; /* resolved: of the first --flows, connected or ended */
        double draining;                  /* when the drain began, or -1 */
        int ep;
        struct wheel wt, wu;
        uint8_t buf[65536];
};

static void finish(struct client *c, struct flow *f, int end, int err, double now)
{
        if (f->corrupt_at >= 0 && end == END_CLOSED)
                end = END_CORRUPT;
        if (!f->connected && !f->udp && f - c->tcp < c->o->flows)
                c->resolved++;
        flows_end(f, end, err, now);
        if (f->fd >= 0)
                close(f->fd); /* also leaves the epoll set */
        f->fd = -1;
        if (!f->udp) {
                c->open--;
                c->done++;
                c->reset += end == END_RESET;
        }
}

static int errno_end(int e)
{
        return e == ECONNRESET || e == EPIPE || e == ECONNREFUSED ? END_RESET : END_ERROR;
}

static void open_tcp(struct client *c, double now)
{
        const struct flows_opts *o = c->o;
        long i = c->n_tcp++;
        struct flow *f = &c->tcp[i];
        int one = 1;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u64 = (uint64_t)i };

        *f = (struct flow){ .id = (uint32_t)(o->id_base + i), .corrupt_at = -1, .opened_ms = (float)now };
        f->src = (struct sockaddr_in){ .sin_family = AF_INET };
        f->src.sin_addr = o->srcs[(i / o->n_ends) % o->n_srcs];
        f->dst = o->ends[i % o->n_ends];
        c->open++;
        f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (f->fd < 0) {
                finish(c, f, END_ERROR, errno, now);
                return;
        }
        /* The port is chosen at connect, for the whole 4-tuple: one source
         * address then serves far more than the ephemeral range's 28,000. */
        setsockopt(f->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(f->fd, (struct sockaddr *)&f->src, sizeof(f->src)) < 0 ||
            (connect(f->fd, (struct sockaddr *)&f->dst, sizeof(f->dst)) < 0 && errno != EINPROGRESS) ||
            epoll_ctl(c->ep, EPOLL_CTL_ADD, f->fd, &ev) < 0)
                finish(c, f, errno_end(errno), errno, now);
}

static void open_udp(struct client *c, double now)
{
        const struct flows_opts *o = c->o;
        long i = c->n_udp++;
        struct flow *f = &c->udp[i];
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UDP_TAG | (uint64_t)i };

        *f = (struct flow){ .id = (uint32_t)i, .udp = 1, .corrupt_at = -1, .connected = 1 };
        f->opened_ms = f->established_ms = f->last_ms = (float)now;
        f->src = (struct sockaddr_in){ .sin_family = AF_INET };
        f->src.sin_addr = o->srcs[(i / o->n_ends) % o->n_srcs];
        f->dst = o->ends[i % o->n_ends];
        f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&f->src, sizeof(f->src)) < 0 ||
            connect(f->fd, (struct sockaddr *)&f->dst, sizeof(f->dst)) < 0 ||
            epoll_ctl(c->ep, EPOLL_CTL_ADD, f->fd, &ev) < 0) {
                finish(c, f, END_ERROR, errno, now);
                return;
        }
        socklen_t len = sizeof(f->src);
        getsockname(f->fd, (struct sockaddr *)&f->src, &len);
        wheel_add(&c->wu, (uint32_t)i, (int64_t)now);
}

/* Writes up to len more bytes of f's stream (the header first). */
static void send_tcp(struct client *c, struct flow *f, size_t len, double now)
{
        uint8_t *b = c->buf;
        ssize_t n;

        for (size_t k = 0; k < len; k++) {
                uint64_t off = f->sent + k;
                uint8_t v = off < 4 ? (uint8_t)"FLW1"[off]
                          : off < HDR_LEN ? (uint8_t)(f->id >> (8 * (HDR_LEN - 1 - off)))
                                          : flow_pattern(f->id, 0, off);
                b[k] = flow_damage(c->o, f->id, off, v);
        }
        n = send(f->fd, b, len, MSG_DONTWAIT);
        if (n > 0)
                f->sent += (uint64_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
                finish(c, f, errno_end(errno), errno, now);
}

static void send_udp(struct client *c, struct flow *f)
{
        uint8_t *b = c->buf;
        uint32_t id = htonl(f->id);
        uint64_t seq = f->sent;
        size_t len = UDP_HDR_LEN + (size_t)c->o->chunk;

        memcpy(b, "FLU1", 4);
        memcpy(b + 4, &id, 4);
        for (int k = 0; k < 8; k++)
                b[8 + k] = (uint8_t)(seq >> (56 - 8 * k));
        for (size_t k = UDP_HDR_LEN; k < len; k++)
                b[k] = flow_udp_byte(f->id, seq, c->o->chunk, k - UDP_HDR_LEN);
        /* A datagram refused (ICMP) or dropped is simply not echoed: it counts as lost. */
        send(f->fd, b, len, MSG_DONTWAIT);
        f->sent++;
}

static void connected(struct client *c, struct flow *f, double now)
{
        int err = 0;
        socklen_t len = sizeof(err);
        long i = f - c->tcp;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i };

        getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
                finish(c, f, errno_end(err), err, now);
                return;
        }
        if (i < c->o->flows)
                c->resolved++;
        f->connected = 1;
        f->established_ms = f->last_ms = (float)now;
        len = sizeof(f->src);
        getsockname(f->fd, (struct sockaddr *)&f->src, &len);
        epoll_ctl(c->ep, EPOLL_CTL_MOD, f->fd, &ev);
        send_tcp(c, f, HDR_LEN, now);
        if (!f->done && c->draining >= 0 && shutdown(f->fd, SHUT_WR) == 0)
                f->wr_shut = 1;
        else if (!f->done)
                wheel_add(&c->wt, (uint32_t)i, (int64_t)now);
}

static void read_tcp(struct client *c, struct flow *f, double now)
{
        for (;;) {
                ssize_t n = recv(f->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        finish(c, f, errno_end(errno), errno, now);
                        return;
                }
                if (n == 0) {
                        finish(c, f, f->wr_shut && f->received == f->sent ? END_CLOSED : END_SHORT, 0, now);
                        return;
                }
                for (ssize_t k = 0; k < n && f->corrupt_at < 0; k++) {
                        if (c->buf[k] != flow_pattern(f->id, 1, f->received + (uint64_t)k))
                                f->corrupt_at = (int64_t)(f->received + (uint64_t)k);
                        else
                                f->verified++;
                }
                f->received += (uint64_t)n;
                flows_gap(f, now);
        }
}

static void read_udp(struct client *c, struct flow *f, double now)
{
        size_t len = UDP_HDR_LEN + (size_t)c->o->chunk;
        ssize_t n;

        while ((n = recv(f->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT)) >= 0) {
                uint64_t seq;
                uint32_t id;
                int ok = (size_t)n == len && flow_udp_header(c->buf, (size_t)n, &id, &seq) == 0 &&
                         id == f->id && seq < f->sent;
                for (size_t k = UDP_HDR_LEN; ok && k < len; k++)
                        ok = c->buf[k] == flow_udp_byte(f->id, seq, c->o->chunk, k - UDP_HDR_LEN);
                if (!ok)
                        continue;
                f->received++;
                f->verified++;
                if (seq < f->seq_next)
                        f->reordered++;
                else
                        f->seq_next = seq + 1;
                flows_gap(f, now);
        }
}

/* Sends a chunk for every flow whose slot came up since the last call. */
static void tick(struct client *c, struct wheel *w, struct flow *set, double now)
{
        int64_t ms = (int64_t)now;

        if (w->done_ms < 0)
                w->done_ms = ms - 1;
        /* A slot walked late means this process did not keep up (the machine's
         * CPU, too many flows for the interval): its gaps are partly its own. */
        if (ms - w->done_ms - 1 > flows_lag_ms)
                flows_lag_ms = (double)(ms - w->done_ms - 1);
        if (w->done_ms < ms - w->slots)
                w->done_ms = ms - w->slots;
        for (; w->done_ms < ms; w->done_ms++) {
                uint32_t *link = &w->head[(w->done_ms + 1) % w->slots];
                while (*link != UINT32_MAX) {
                        struct flow *f = &set[*link];
                        if (f->done || f->wr_shut) {
                                *link = w->next[*link]; /* out of the wheel for good */
                                continue;
                        }
                        if (f->udp)
                                send_udp(c, f);
                        else
                                send_tcp(c, f, (size_t)c->o->chunk, now);
                        link = &w->next[*link];
                }
        }
}

/* The run's end: every stream ends (a gap still open counts to here) and
 * what remains is the drain. */
static void drain(struct client *c, double now)
{
        c->draining = now;
        for (long i = 0; i < c->n_tcp + c->n_udp; i++) {
                struct flow *f = i < c->n_tcp ? &c->tcp[i] : &c->udp[i - c->n_tcp];
                if (f->done || !f->connected)
                        continue;
                flows_gap_to(f, now);
                if (!f->udp && shutdown(f->fd, SHUT_WR) == 0)
                        f->wr_shut = 1;
        }
}

static int udp_waiting(const struct client *c)
{
        for (long i = 0; i < c->n_udp; i++)
                if (!c->udp[i].done && c->udp[i].received < c->udp[i].sent)
                        return 1;
        return 0;
}

static void handle(struct client *c, const struct epoll_event *ev, int n)
{
        for (int i = 0; i < n; i++) {
                uint64_t d = ev[i].data.u64;
                struct flow *f = d & UDP_TAG ? &c->udp[d & 0xffffffffu] : &c->tcp[d];
                double now = flows_now();
                if (f->done)
                        continue;
                if (f->udp)
                        read_udp(c, f, now);
                else if (!f->connected)
                        connected(c, f, now);
                else
                        read_tcp(c, f, now);
        }
}

/* Handles what is ready, all of it (up to 64 rounds), before the next
 * sends: a loop that sent first and read a little would starve its own
 * reading and count the wait as the network's gap. */
static void events(struct client *c, int timeout)
{
        struct epoll_event ev[1024];
        int n, rounds = 0;

        do {
                n = epoll_wait(c->ep, ev, 1024, rounds ? 0 : timeout);
                handle(c, ev, n);
        } while (n == 1024 && ++rounds < 64);
}

static void run(struct client *c)
{
        const struct flows_opts *o = c->o;
        double now = 0, initial_done = -1, end_ms = o->duration_ms;
        /* Closing costs about what opening does (here 100,000 took 25 s
         * either way): the default drain grows with the connections. */
        double drain_ms = o->drain_ms >= 0 ? o->drain_ms : fmax(5000, 2.0 * (double)c->max_tcp);

        while (!flows_stop && (now = flows_now()) < end_ms) {
                long due = (long)fmin((double)o->flows, ceil(now * (double)o->open_rate / 1000) + 1);
                /* At most OPEN_BATCH a turn: when connect() is slower than
                 * the rate asks, the connections already open are still
                 * served, and the rate is what the machine allows. */
                due = c->n_tcp + OPEN_BATCH < due ? c->n_tcp + OPEN_BATCH : due;
                while (c->n_tcp < due)
                        open_tcp(c, now);
                while (c->n_udp < o->udp)
                        open_udp(c, now);
                if (initial_done < 0 && c->resolved == o->flows) {
                        initial_done = now;
                        printf("ready: connections %ld established %ld at_ms %.1f\n", o->flows,
                               o->flows - c->done, now);
                }
                if (initial_done >= 0 && o->new_rate > 0) {
                        due = o->flows + (long)((now - initial_done) * (double)o->new_rate / 1000);
                        due = c->n_tcp + OPEN_BATCH < due ? c->n_tcp + OPEN_BATCH : due;
                        while (c->n_tcp < due && c->n_tcp < c->max_tcp)
                                open_tcp(c, now);
                }
                if (flows_mark_req) {
                        flows_mark_req = 0;
                        flows_mark(c->tcp, c->n_tcp, c->udp, c->n_udp, now);
                }
                tick(c, &c->wt, c->tcp, now);
                tick(c, &c->wu, c->udp, now);
                flows_progress("client", c->open, c->done, c->reset);
                events(c, 1);
        }
        drain(c, now);
        while (flows_stop < 2 && (now = flows_now()) < c->draining + drain_ms &&
               (c->open > 0 || udp_waiting(c))) {
                flows_progress("client", c->open, c->done, c->reset);
                events(c, 5);
        }
        for (long i = 0; i < c->n_tcp + c->n_udp; i++) {
                struct flow *f = i < c->n_tcp ? &c->tcp[i] : &c->udp[i - c->n_tcp];
                if (!f->done)
                        finish(c, f, f->udp ? END_CLOSED : flows_stop > 1 ? END_NONE : END_TIMEOUT, 0, now);
        }
}

int flows_client(const struct flows_opts *o)
{
        struct client *c = calloc(1, sizeof(*c));
        double news = o->new_rate ? ceil((double)o->new_rate * o->duration_ms / 1000) : 0;
        int r = 2;

        if (!c)
                return 1;
        c->o = o;
        c->ep = -1;
        c->draining = -1;
        c->max_tcp = o->flows + (long)fmin(news, o->new_max >= 0 ? (double)o->new_max : FLOWS_MAX);
        if (c->max_tcp > FLOWS_MAX) {
                fprintf(stderr, "fwsh-flows: %ld connections asked for, at most %d\n", c->max_tcp, FLOWS_MAX);
                goto out;
        }
        flows_raise_nofile(c->max_tcp + o->udp + 64);
        if (flows_fd_limit < c->max_tcp + o->udp + 16) {
                fprintf(stderr, "fwsh-flows: RLIMIT_NOFILE lets this process hold %ld connections, not %ld\n",
                        flows_fd_limit - o->udp - 16, c->max_tcp);
                goto out;
        }
        c->tcp = calloc((size_t)(c->max_tcp ? c->max_tcp : 1), sizeof(*c->tcp));
        c->udp = calloc((size_t)(o->udp ? o->udp : 1), sizeof(*c->udp));
        c->ep = epoll_create1(EPOLL_CLOEXEC);
        if (!c->tcp || !c->udp || c->ep < 0 || wheel_init(&c->wt, o->interval_ms, c->max_tcp) < 0 ||
            wheel_init(&c->wu, o->interval_ms, o->udp) < 0) {
                perror("fwsh-flows: client");
                r = 1;
                goto out;
        }
        run(c);
        r = flows_summary("client", c->tcp, c->n_tcp, c->udp, c->n_udp, o);
out:
        if (c->ep >= 0)
                close(c->ep);
        wheel_free(&c->wt);
        wheel_free(&c->wu);
        free(c->tcp);
        free(c->udp);
        free(c);
        return r;
}
