/* server.c - fwsh-flows server: accepts connections on every --listen
 * address, checks each byte they bring, sends back as many bytes of its own
 * pattern (so the client's rate sets both directions' and the client can
 * tell that every byte came through), and echoes UDP flows. One epoll loop;
 * every socket is non-blocking. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flows.h"

#define LISTEN_TAG (1ull << 32)
#define UDP_TAG (2ull << 32)

struct server {
        const struct flows_opts *o;
        struct flow *tcp, *udp;
        long n_tcp, cap, n_udp; /* n_udp: the highest UDP id seen, plus one */
        long open, done, reset, refused, pauses;
        int ep, lfd[ENDPOINTS_MAX], ufd[ENDPOINTS_MAX];
        double paused;          /* out of descriptors since: accepting waits 100 ms */
        uint8_t buf[65536];
};

static void finish(struct server *s, struct flow *f, int end, int err, double now)
{
        if (f->corrupt_at >= 0 && end == END_CLOSED)
                end = END_CORRUPT;
        flows_end(f, end, err, now);
        close(f->fd);
        f->fd = -1;
        s->open--;
        s->done++;
        s->reset += end == END_RESET;
}

static void listen_on(struct server *s, double now, int on)
{
        for (int k = 0; k < s->o->n_ends; k++) {
                struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG | (uint64_t)k };
                epoll_ctl(s->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->lfd[k], &ev);
        }
        s->paused = on ? -1 : now;
}

static void accept_on(struct server *s, int k, double now)
{
        for (;;) {
                struct sockaddr_in from;
                socklen_t len = sizeof(from);
                int fd = accept4(s->lfd[k], (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
                        listen_on(s, now, 0); /* or the listener wakes us in a loop */
                        s->pauses++;
                }
                if (fd < 0)
                        return;
                if (s->n_tcp == s->cap) {
                        long cap = s->cap ? (s->cap * 2 < FLOWS_MAX ? s->cap * 2 : FLOWS_MAX) : 1024;
                        struct flow *v = cap > s->cap ? realloc(s->tcp, (size_t)cap * sizeof(*v)) : NULL;
                        if (!v) {
                                close(fd);
                                s->refused++;
                                continue;
                        }
                        s->tcp = v;
                        s->cap = cap;
                }
                long i = s->n_tcp++;
                struct flow *f = &s->tcp[i];
                struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i };
                *f = (struct flow){ .fd = fd, .id = UINT32_MAX, .connected = 1, .corrupt_at = -1 };
                f->src = from;
                f->opened_ms = f->established_ms = f->last_ms = (float)now;
                len = sizeof(f->dst);
                getsockname(fd, (struct sockaddr *)&f->dst, &len);
                s->open++;
                if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
                        finish(s, f, END_ERROR, errno, now);
        }
}

/* Sends what f owes; waits for room (EPOLLOUT) when the socket has none. */
static void flush(struct server *s, struct flow *f, double now)
{
        while (f->owed > 0 && f->hdr_got == HDR_LEN) {
                size_t len = f->owed < sizeof(s->buf) ? (size_t)f->owed : sizeof(s->buf);
                for (size_t k = 0; k < len; k++) {
                        uint64_t off = f->sent + k;
                        s->buf[k] = flow_damage(s->o, f->id, off, flow_pattern(f->id, 1, off));
                }
                ssize_t n = send(f->fd, s->buf, len, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN) {
                        int end = errno == EPIPE || errno == ECONNRESET ? END_RESET : END_ERROR;
                        finish(s, f, end, errno, now);
                        return;
                }
                if (n < 0) {
                        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                                                  .data.u64 = (uint64_t)(f - s->tcp) };
                        if (!f->want_out)
                                epoll_ctl(s->ep, EPOLL_CTL_MOD, f->fd, &ev);
                        f->want_out = 1;
                        return;
                }
                f->sent += (uint64_t)n;
                f->owed -= (uint64_t)n;
        }
        if (f->want_out) {
                struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
                                          .data.u64 = (uint64_t)(f - s->tcp) };
                epoll_ctl(s->ep, EPOLL_CTL_MOD, f->fd, &ev);
                f->want_out = 0;
        }
        if (f->eof && f->owed == 0)
                finish(s, f, END_CLOSED, 0, now);
}

/* Checks n bytes at f's current offset: the header's magic, its id, then the pattern. */
static void check(struct flow *f, const uint8_t *b, size_t n)
{
        for (size_t k = 0; k < n; k++) {
                uint64_t off = f->received + k;
                int ok;
                if (off < HDR_LEN) {
                        f->hdr[off] = b[k];
                        f->hdr_got++;
                        ok = off >= 4 || b[k] == (uint8_t)"FLW1"[off];
                        if (f->hdr_got == HDR_LEN)
                                f->id = (uint32_t)f->hdr[4] << 24 | (uint32_t)f->hdr[5] << 16 |
                                        (uint32_t)f->hdr[6] << 8 | f->hdr[7];
                } else
                        ok = b[k] == flow_pattern(f->id, 0, off);
                if (!ok && f->corrupt_at < 0)
                        f->corrupt_at = (int64_t)off;
                f->verified += ok && f->corrupt_at < 0;
        }
}

static void read_tcp(struct server *s, struct flow *f, double now)
{
        for (;;) {
                ssize_t n = recv(f->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0) {
                        finish(s, f, errno == ECONNRESET ? END_RESET : END_ERROR, errno, now);
                        return;
                }
                if (n == 0) {
                        f->eof = 1;
                        break;
                }
                check(f, s->buf, (size_t)n);
                f->received += (uint64_t)n;
                f->owed += (uint64_t)n;
                flows_gap(f, now);
        }
        flush(s, f, now);
}

static void echo_udp(struct server *s, int k, double now)
{
        size_t len = UDP_HDR_LEN + (size_t)s->o->chunk;
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n;

        while ((n = recvfrom(s->ufd[k], s->buf, sizeof(s->buf), MSG_DONTWAIT, (struct sockaddr *)&from,
                             &flen)) >= 0) {
                uint32_t id;
                uint64_t seq;
                flen = sizeof(from);
                if ((size_t)n != len || flow_udp_header(s->buf, (size_t)n, &id, &seq) < 0 || id >= UDP_MAX)
                        continue;
                struct flow *f = &s->udp[id];
                if (!f->udp) {
                        *f = (struct flow){ .fd = -1, .id = id, .udp = 1, .connected = 1, .corrupt_at = -1,
                                            .src = from, .dst = s->o->ends[k] };
                        f->opened_ms = f->established_ms = f->last_ms = (float)now;
                        s->n_udp = id >= s->n_udp ? id + 1 : s->n_udp;
                }
                int ok = 1;
                for (size_t b = UDP_HDR_LEN; ok && b < len; b++)
                        ok = s->buf[b] == flow_udp_byte(id, seq, s->o->chunk, b - UDP_HDR_LEN);
                f->received++;
                f->verified += ok;
                if (seq < f->seq_next)
                        f->reordered++;
                else
                        f->seq_next = seq + 1;
                flows_gap(f, now);
                if (sendto(s->ufd[k], s->buf, len, MSG_DONTWAIT, (struct sockaddr *)&from, sizeof(from)) > 0)
                        f->sent++;
        }
}

static int bind_all(struct server *s)
{
        const struct flows_opts *o = s->o;
        int one = 1;

        for (int k = 0; k < o->n_ends; k++) {
                char ip[INET_ADDRSTRLEN];
                s->lfd[k] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                setsockopt(s->lfd[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                const struct sockaddr *a = (const struct sockaddr *)&o->ends[k];
                /* The namespace's net.core.somaxconn caps the backlog: the lab's to raise. */
                if (s->lfd[k] < 0 || bind(s->lfd[k], a, sizeof(o->ends[k])) < 0 ||
                    listen(s->lfd[k], 65535) < 0)
                        return -errno;
                if (o->udp_server) {
                        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UDP_TAG | (uint64_t)k };
                        s->ufd[k] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                        if (s->ufd[k] < 0 || bind(s->ufd[k], a, sizeof(o->ends[k])) < 0 ||
                            epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ufd[k], &ev) < 0)
                                return -errno;
                }
                inet_ntop(AF_INET, &o->ends[k].sin_addr, ip, sizeof(ip));
                printf("listening: %s:%u tcp%s\n", ip, ntohs(o->ends[k].sin_port),
                       o->udp_server ? " udp" : "");
        }
        listen_on(s, 0, 1);
        return 0;
}

static void run(struct server *s)
{
        double now;

        while (!flows_stop && (now = flows_now()) < s->o->duration_ms) {
                struct epoll_event ev[1024];
                int n = epoll_wait(s->ep, ev, 1024, 100);
                now = flows_now();
                if (s->paused >= 0 && now - s->paused > 100)
                        listen_on(s, now, 1);
                for (int i = 0; i < n; i++) {
                        uint64_t d = ev[i].data.u64;
                        now = flows_now();
                        if (d & LISTEN_TAG)
                                accept_on(s, (int)(d & 0xffff), now);
                        else if (d & UDP_TAG)
                                echo_udp(s, (int)(d & 0xffff), now);
                        else if (!s->tcp[d].done && (ev[i].events & EPOLLIN || !(ev[i].events & EPOLLOUT)))
                                read_tcp(s, &s->tcp[d], now);
                        else if (!s->tcp[d].done)
                                flush(s, &s->tcp[d], now);
                }
                if (flows_mark_req) {
                        flows_mark_req = 0;
                        flows_mark(s->tcp, s->n_tcp, s->udp, s->n_udp, flows_now());
                }
                flows_progress("server", s->open, s->done, s->reset);
        }
        now = flows_now();
        for (long i = 0; i < s->n_tcp; i++) {
                struct flow *f = &s->tcp[i];
                if (f->done)
                        continue;
                flows_gap_to(f, now);
                finish(s, f, END_NONE, 0, now);
        }
}

int flows_server(const struct flows_opts *o)
{
        struct server *s = calloc(1, sizeof(*s));
        int r = 1;

        if (!s)
                return 1;
        s->o = o;
        for (int k = 0; k < ENDPOINTS_MAX; k++)
                s->lfd[k] = s->ufd[k] = -1;
        flows_raise_nofile(FLOWS_MAX + 2 * ENDPOINTS_MAX + 64);
        s->udp = o->udp_server ? calloc(UDP_MAX, sizeof(*s->udp)) : NULL;
        s->ep = epoll_create1(EPOLL_CLOEXEC);
        if ((o->udp_server && !s->udp) || s->ep < 0 || (r = bind_all(s)) < 0) {
                fprintf(stderr, "fwsh-flows: server: %s\n", strerror(r < 0 ? -r : errno));
                r = 1;
                goto out;
        }
        run(s);
        if (s->refused)
                printf("refused: %ld (past %d connections)\n", s->refused, FLOWS_MAX);
        if (s->pauses)
                printf("accept_paused: %ld times, out of descriptors (fd_limit)\n", s->pauses);
        r = flows_summary("server", s->tcp, s->n_tcp, s->udp, s->n_udp, o);
out:
        for (int k = 0; k < ENDPOINTS_MAX; k++) {
                if (s->lfd[k] >= 0)
                        close(s->lfd[k]);
                if (s->ufd[k] >= 0)
                        close(s->ufd[k]);
        }
        if (s->ep >= 0)
                close(s->ep);
        free(s->tcp);
        free(s->udp);
        free(s);
        return r;
}
