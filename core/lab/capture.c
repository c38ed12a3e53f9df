/* capture.c - the packets of one link written as a pcap file (what tcpdump
 * -w writes, what Wireshark reads), through libpcap, loaded when the first
 * capture starts (base/dlib.c): fwsh costs nothing more at start-up and runs
 * where libpcap is not installed.
 *
 * Two ways, one code path: in the calling process until a count, a signal or
 * a closed output (fwsh_capture_open, fwsh_capture_run: `fwsh capture`), or
 * in the background (fwsh_capture_start): a child of proc.c's that runs the
 * same loop, so it is recorded with its lab, stopped at its teardown, and
 * ends when fwsh dies (its parent-death signal is SIGTERM: it flushes and
 * closes the file first). A process, not a thread: no threads in core
 * (DESIGN.md), and the capture cannot stall the Lua state. The child shares
 * one page with fwsh: the count, live, and how it ended.
 *
 * Either way the packet socket is bound and the filter set before the call
 * returns (the child says so on a pipe): a packet sent after it is captured.
 * Nothing is made until the link and the filter are accepted: a bad filter
 * leaves no file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "base/clock.h"
#include "base/dlib.h"
#include "internal.h"

#define PCAP_SYMBOLS(X) \
        X(pcap_create) \
        X(pcap_set_snaplen) \
        X(pcap_set_promisc) \
        X(pcap_set_immediate_mode) \
        X(pcap_set_buffer_size) \
        X(pcap_activate) \
        X(pcap_geterr) \
        X(pcap_statustostr) \
        X(pcap_compile) \
        X(pcap_setfilter) \
        X(pcap_freecode) \
        X(pcap_setnonblock) \
        X(pcap_get_selectable_fd) \
        X(pcap_dispatch) \
        X(pcap_stats) \
        X(pcap_dump_fopen) \
        X(pcap_dump) \
        X(pcap_dump_flush) \
        X(pcap_dump_close) \
        X(pcap_close)

PCAP_SYMBOLS(DLIB_SYM)
static const struct dlib_sym PCAP_SYMS[] = { PCAP_SYMBOLS(DLIB_ARG) { NULL, NULL } };
static struct dlib pcap = { "libpcap.so.0.8", PCAP_SYMS, NULL };

/* The kernel's ring for the socket: room for a burst while the writer is
 * away (libpcap's default is 2 MB; a frame is up to 64 KiB with offloads). */
#define RING_BYTES (8 << 20)
/* How long the background process may take to open the capture. */
#define READY_MS 10000

enum { CAP_STARTING, CAP_RUNNING, CAP_ENDED };

/* What a background capture shares with fwsh: one page, mapped before the fork. */
struct shared {
        _Atomic uint64_t packets;  /* written to the file so far */
        _Atomic int state;         /* CAP_* */
        uint64_t dropped;          /* by the kernel (ring full), once ended */
        int err;                   /* the -errno it failed or ended with, 0 */
        char detail[FWSH_DETAIL_MAX];
};

struct fwsh_capture {
        struct fwsh_proc *proc;    /* the background process; NULL: in this process */
        struct shared *sh;         /* mmap'd (background) or calloc'd */
        bool mapped;
        bool ended;                /* stopped, or seen to have ended; *sh is final */
        int end_err;               /* what fwsh_capture_stop returns once ended */
        /* the open capture, in the process that runs the loop */
        pcap_t *p;
        pcap_dumper_t *d;
        uint64_t count;            /* 0: no limit */
        bool flush_each;           /* a stream: every packet reaches the reader at once */
        int write_err;             /* -errno of a failed flush */
};

static int capture_check(struct fwsh_ctx *ctx, const struct fwsh_capture_spec *spec, bool background)
{
        int r;

        if (!spec->link)
                return ctx_fail(ctx, -EINVAL, "no link");
        if ((r = fwsh_name_check(ctx, spec->link)) < 0)
                return r;
        if (spec->snaplen < 0 || spec->snaplen > FWSH_CAPTURE_SNAPLEN)
                return ctx_fail(ctx, -EINVAL, "snaplen %d: 1 to %d bytes", spec->snaplen,
                                FWSH_CAPTURE_SNAPLEN);
        if (!spec->path && (background || spec->fd < 0))
                return ctx_fail(ctx, -EINVAL, "no file to write");
        return 0;
}

static int capture_new(bool shared, struct fwsh_capture **ret)
{
        struct fwsh_capture *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        if (shared) {
                c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                if (c->sh == MAP_FAILED) {
                        int r = -errno;
                        free(c);
                        return r;
                }
                c->mapped = true;
                memset(c->sh, 0, sizeof(*c->sh));
        } else if (!(c->sh = calloc(1, sizeof(*c->sh)))) {
                free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

/* pcap_activate's failure as -errno, with libpcap's words. */
static int activate_fail(struct fwsh_ctx *ctx, pcap_t *p, int status)
{
        const char *text = sym_pcap_geterr(p);
        int err;

        if (!text || !text[0])
                text = sym_pcap_statustostr(status);
        switch (status) {
        case PCAP_ERROR_NO_SUCH_DEVICE: err = -ENODEV; break;
        case PCAP_ERROR_PERM_DENIED:
        case PCAP_ERROR_PROMISC_PERM_DENIED:
                return ctx_fail(ctx, -EPERM, "%s (capturing needs CAP_NET_RAW)", text);
        case PCAP_ERROR_IFACE_NOT_UP: err = -ENETDOWN; break;
        default: err = -EIO; break;
        }
        return ctx_fail(ctx, err, "%s", text);
}

/* Opens the capture in the calling thread's namespace: the socket bound, the
 * filter set, the file header written. On failure nothing is left open and
 * no file was made. */
static int cap_open(struct fwsh_ctx *ctx, struct fwsh_capture *c, const struct fwsh_capture_spec *spec)
{
        char errbuf[PCAP_ERRBUF_SIZE] = "";
        struct bpf_program prog;
        FILE *f;
        int fd, r;

        if (if_nametoindex(spec->link) == 0)
                return errno == ENODEV ? ctx_fail(ctx, -ENODEV, "no such link in this namespace")
                                       : ctx_fail(ctx, -errno, "looking the link up");
        c->p = sym_pcap_create(spec->link, errbuf);
        if (!c->p)
                return ctx_fail(ctx, -ENOMEM, "%s", errbuf);
        sym_pcap_set_snaplen(c->p, spec->snaplen ? spec->snaplen : FWSH_CAPTURE_SNAPLEN);
        sym_pcap_set_promisc(c->p, spec->promisc);
        /* every packet handed over as it comes, not when a block fills */
        sym_pcap_set_immediate_mode(c->p, 1);
        sym_pcap_set_buffer_size(c->p, RING_BYTES);
        r = sym_pcap_activate(c->p);
        if (r < 0) { /* > 0: a warning (promiscuous mode not supported): it captures */
                r = activate_fail(ctx, c->p, r);
                goto fail;
        }
        if (spec->filter && spec->filter[0]) {
                if (sym_pcap_compile(c->p, &prog, spec->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
                        r = ctx_fail(ctx, -EINVAL, "filter '%s': %s", spec->filter, sym_pcap_geterr(c->p));
                        goto fail;
                }
                r = sym_pcap_setfilter(c->p, &prog);
                sym_pcap_freecode(&prog);
                if (r < 0) {
                        r = ctx_fail(ctx, -EINVAL, "filter '%s': %s", spec->filter, sym_pcap_geterr(c->p));
                        goto fail;
                }
        }
        if (sym_pcap_setnonblock(c->p, 1, errbuf) < 0) {
                r = ctx_fail(ctx, -EIO, "%s", errbuf);
                goto fail;
        }
        /* The output last: a link or filter refused leaves no file. */
        fd = spec->path ? open(spec->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                        : fcntl(spec->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
                r = spec->path ? ctx_fail(ctx, -errno, "%s", spec->path) : ctx_fail(ctx, -errno, "the output");
                goto fail;
        }
        if (!(f = fdopen(fd, "w"))) {
                r = -errno;
                close(fd);
                goto fail;
        }
        if (!(c->d = sym_pcap_dump_fopen(c->p, f))) {
                /* Not fclose(f): libpcap closes it itself when it failed
                 * writing the header, and not when the link type has no pcap
                 * number. Only in a capture's own process (the background one,
                 * or `fwsh capture`), which ends now: nothing builds up. */
                r = ctx_fail(ctx, -EIO, "%s", sym_pcap_geterr(c->p));
                goto fail;
        }
        /* The header at once: a reader (tcpdump -r -, wireshark -k -i -) starts now. */
        if (sym_pcap_dump_flush(c->d) < 0) {
                r = ctx_fail(ctx, -errno, "writing the file header to %s", spec->path ? spec->path : "the output");
                sym_pcap_dump_close(c->d);
                c->d = NULL;
                goto fail;
        }
        c->count = spec->count;
        c->flush_each = !spec->path;
        return 0;
fail:
        sym_pcap_close(c->p);
        c->p = NULL;
        return r;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
        struct fwsh_capture *c = (struct fwsh_capture *)user;

        if (c->write_err)
                return;
        sym_pcap_dump((u_char *)c->d, h, bytes);
        if (c->flush_each && sym_pcap_dump_flush(c->d) < 0) {
                c->write_err = -errno;
                return;
        }
        atomic_fetch_add_explicit(&c->sh->packets, 1, memory_order_relaxed);
}

/* Writes packets until the count is reached or fwsh_cancel() is called (a
 * signal's handler). SIGINT, SIGTERM and SIGHUP are let in only while it
 * sleeps in ppoll, so none is missed between a look and the sleep. 0, or
 * -errno: -EPIPE when the reader of the stream went away. */
static int cap_loop(struct fwsh_ctx *ctx, struct fwsh_capture *c)
{
        struct pollfd pfd = { .fd = sym_pcap_get_selectable_fd(c->p), .events = POLLIN };
        sigset_t stop, old, sleeping;
        bool last = false;
        int r = 0;

        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        sigprocmask(SIG_BLOCK, &stop, &old);
        sleeping = old;
        sigdelset(&sleeping, SIGINT);
        sigdelset(&sleeping, SIGTERM);
        sigdelset(&sleeping, SIGHUP);
        for (;;) {
                uint64_t n = atomic_load_explicit(&c->sh->packets, memory_order_relaxed);
                int got, left = -1;

                if (c->count && n >= c->count)
                        break;
                if (!last)
                        last = cancel_take(); /* stop: what the ring holds yet, then end */
                if (c->count)
                        left = c->count - n > INT_MAX ? INT_MAX : (int)(c->count - n);
                got = sym_pcap_dispatch(c->p, left, on_packet, (u_char *)c);
                if (c->write_err) {
                        r = ctx_fail(ctx, c->write_err, "writing the capture");
                        break;
                }
                if (got < 0) {
                        r = ctx_fail(ctx, -EIO, "%s", sym_pcap_geterr(c->p));
                        break;
                }
                if (got > 0 && !c->flush_each && sym_pcap_dump_flush(c->d) < 0) {
                        r = ctx_fail(ctx, -errno, "writing the capture");
                        break;
                }
                if (got > 0)
                        continue;
                if (last)
                        break;
                if (ppoll(&pfd, 1, NULL, &sleeping) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

/* Closes the capture: the kernel's drop count, the file flushed and closed.
 * Keeps the first error: err, or one from the last flush (ctx may be NULL). */
static int cap_close(struct fwsh_ctx *ctx, struct fwsh_capture *c, int err)
{
        struct pcap_stat st;

        if (!c->p)
                return err;
        if (sym_pcap_stats(c->p, &st) == 0) /* ps_drop: the socket's (tcpdump's "dropped by kernel") */
                c->sh->dropped = st.ps_drop;
        if (sym_pcap_dump_flush(c->d) < 0 && err == 0 && !c->write_err) {
                err = ctx_fail(ctx, -errno, "writing the capture");
                snprintf(c->sh->detail, sizeof(c->sh->detail), "writing the capture");
        }
        sym_pcap_dump_close(c->d);
        sym_pcap_close(c->p);
        c->d = NULL;
        c->p = NULL;
        return err;
}

/* ---- in the background ------------------------------------------------------------------ */

struct job {
        struct fwsh_ctx *ctx;      /* the child's copy: for the detail of a failure */
        struct fwsh_capture *c;
        const struct fwsh_capture_spec *spec;
        int ready;                 /* written once the capture is open, or has failed */
};

static void on_stop(int sig)
{
        (void)sig;
        fwsh_cancel();
}

static void publish_end(struct fwsh_ctx *ctx, struct shared *sh, int err)
{
        sh->err = err;
        snprintf(sh->detail, sizeof(sh->detail), "%s", err < 0 ? fwsh_ctx_detail(ctx) : "");
        atomic_store(&sh->state, CAP_ENDED);
}

/* The background process (proc.c's child, in the link's namespace already). */
static int capture_child(void *arg)
{
        struct job *j = arg;
        struct sigaction sa = { .sa_handler = on_stop };
        sigset_t stop;
        int r;

        /* SIGTERM (proc_stop, fwsh's death), SIGINT and SIGHUP end it
         * cleanly; held until the loop sleeps, so that one coming while it
         * opens is not lost. */
        fwsh_cancel_clear();
        sigemptyset(&sa.sa_mask);
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        ctx_clear(j->ctx);
        r = cap_open(j->ctx, j->c, j->spec);
        if (r < 0)
                publish_end(j->ctx, j->c->sh, r);
        else
                atomic_store(&j->c->sh->state, CAP_RUNNING);
        if (write(j->ready, "", 1) < 0 || r < 0)
                return 1;
        close(j->ready);
        r = cap_loop(j->ctx, j->c);
        r = cap_close(j->ctx, j->c, r);
        publish_end(j->ctx, j->c->sh, r);
        return r < 0 ? 1 : 0;
}

/* Waits for the child's word on fd: 0 once it captures, or its failure. */
static int wait_ready(struct fwsh_ctx *ctx, struct fwsh_capture *c, int fd)
{
        int64_t deadline = fwsh_now_ms() + READY_MS;
        char b;

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - fwsh_now_ms();
                ssize_t n;

                if (left <= 0)
                        return ctx_fail(ctx, -ETIMEDOUT, "the capture did not start in %d ms", READY_MS);
                if (cancel_take())
                        return ctx_fail(ctx, -EINTR, "interrupted while it started");
                if (poll(&pfd, 1, left < CANCEL_SLICE_MS ? (int)left : CANCEL_SLICE_MS) <= 0)
                        continue;
                n = read(fd, &b, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                break;
        }
        switch (atomic_load(&c->sh->state)) {
        case CAP_RUNNING:
                return 0;
        case CAP_ENDED:
                return ctx_fail(ctx, c->sh->err, "%s", c->sh->detail);
        default:
                return ctx_fail(ctx, -EIO, "the capture process ended before it was ready");
        }
}

/* fwsh_effect for a capture: the tcpdump line that makes the same file. */
static int shown(struct fwsh_ctx *ctx, const struct fwsh_capture_spec *spec)
{
        struct fwsh_line l = { .len = 0 };

        if (!fwsh_effect_shown(ctx))
                return 0;
        fwsh_line_add(&l, "tcpdump -i");
        fwsh_line_word(&l, spec->link);
        fwsh_line_add(&l, " -w");
        fwsh_line_word(&l, spec->path);
        if (spec->count)
                fwsh_line_add(&l, " -c %llu", (unsigned long long)spec->count);
        if (spec->snaplen)
                fwsh_line_add(&l, " -s %d", spec->snaplen);
        if (!spec->promisc)
                fwsh_line_add(&l, " -p");
        if (spec->filter && spec->filter[0])
                fwsh_line_word(&l, spec->filter);
        fwsh_line_add(&l, " &");
        return fwsh_effect_line(ctx, &l);
}

/* What a plan gives for a capture it does not start: one that ended at
 * once, with nothing written. */
static int planned(struct fwsh_capture **ret_capture)
{
        struct fwsh_capture *c;
        int r = capture_new(false, &c);

        if (r < 0)
                return r;
        c->ended = true;
        *ret_capture = c;
        return 0;
}

int fwsh_capture_start(struct fwsh_ctx *ctx, const struct fwsh_capture_spec *spec,
                       struct fwsh_capture **ret_capture)
{
        static const char *const argv[] = { "fwsh-capture", NULL };
        struct fwsh_proc_spec ps = FWSH_PROC_SPEC_INIT;
        struct fwsh_capture *c;
        struct job job;
        int ready[2], r;

        ctx_clear(ctx);
        if ((r = capture_check(ctx, spec, true)) < 0)
                return r;
        if (shown(ctx, spec) > 0)
                return planned(ret_capture);
        if ((r = dlib_open(ctx, &pcap)) < 0)
                return r;
        if ((r = capture_new(true, &c)) < 0)
                return r;
        if (pipe2(ready, O_CLOEXEC) < 0) {
                r = -errno;
                fwsh_capture_free(c);
                return r;
        }
        job = (struct job){ ctx, c, spec, ready[1] };
        ps.argv = argv;
        ps.netns_fd = spec->netns_fd >= 0 ? spec->netns_fd : ctx->nsfd;
        ps.lab = spec->lab;
        ps.fn = capture_child;
        ps.fn_arg = &job;
        ps.keep_fds = &ready[1];
        ps.n_keep = 1;
        ps.death_signal = SIGTERM;
        r = fwsh_proc_spawn(ctx, &ps, &c->proc);
        close(ready[1]);
        if (r == 0)
                r = wait_ready(ctx, c, ready[0]);
        close(ready[0]);
        if (r < 0) {
                if (c->proc) { /* it failed, or it is stopped: killed and reaped either way */
                        fwsh_proc_signal(c->proc, SIGKILL);
                        fwsh_proc_wait(c->proc, -1, NULL);
                        c->proc = fwsh_proc_free(c->proc);
                }
                c->ended = true;
                fwsh_capture_free(c);
                return r;
        }
        *ret_capture = c;
        return 0;
}

/* ---- in this process -------------------------------------------------------------------- */

int fwsh_capture_open(struct fwsh_ctx *ctx, const struct fwsh_capture_spec *spec,
                      struct fwsh_capture **ret_capture)
{
        struct fwsh_capture *c;
        int saved = -1, r;

        ctx_clear(ctx);
        if ((r = capture_check(ctx, spec, false)) < 0)
                return r;
        if (spec->path && shown(ctx, spec) > 0)
                return planned(ret_capture);
        if ((r = dlib_open(ctx, &pcap)) < 0)
                return r;
        if ((r = capture_new(false, &c)) < 0)
                return r;
        /* The socket belongs to the namespace it is made in, and stays there. */
        r = spec->netns_fd >= 0 ? fwsh_netns_enter(spec->netns_fd, &saved) : ctx_enter(ctx, &saved);
        if (r < 0) {
                ctx_fail(ctx, r, "entering the namespace");
        } else {
                r = cap_open(ctx, c, spec);
                if (saved >= 0)
                        fwsh_netns_leave(saved);
        }
        if (r < 0) {
                c->ended = true;
                fwsh_capture_free(c);
                return r;
        }
        atomic_store(&c->sh->state, CAP_RUNNING);
        *ret_capture = c;
        return 0;
}

int fwsh_capture_run(struct fwsh_ctx *ctx, struct fwsh_capture *c)
{
        ctx_clear(ctx);
        if (c->ended && !c->proc && !c->p)
                return 0;   /* a plan's: it ended at once */
        if (c->proc || !c->p)
                return ctx_fail(ctx, -EINVAL, "not a capture open in this process");
        return cap_loop(ctx, c);
}

/* ---- either ---------------------------------------------------------------------------- */

uint64_t fwsh_capture_packets(const struct fwsh_capture *c)
{
        return atomic_load_explicit(&c->sh->packets, memory_order_relaxed);
}

/* The background process is gone (reaped): what it shared is final. */
static void ended(struct fwsh_capture *c)
{
        c->ended = true;
        if (atomic_load(&c->sh->state) == CAP_ENDED) {
                c->end_err = c->sh->err;
        } else { /* killed before it could close the file */
                c->end_err = -EINTR;
                snprintf(c->sh->detail, sizeof(c->sh->detail), "the capture process was killed");
        }
        c->proc = fwsh_proc_free(c->proc);
}

bool fwsh_capture_running(struct fwsh_capture *c)
{
        if (c->ended)
                return false;
        if (!c->proc)
                return c->p != NULL;
        if (fwsh_proc_running(c->proc))
                return true;
        ended(c);
        return false;
}

static void stats(const struct fwsh_capture *c, struct fwsh_capture_stats *ret)
{
        if (ret)
                *ret = (struct fwsh_capture_stats){ fwsh_capture_packets(c), c->sh->dropped };
}

int fwsh_capture_wait(struct fwsh_capture *c, int timeout_ms, struct fwsh_capture_stats *ret_stats)
{
        int r;

        if (!c->ended && c->proc) {
                if ((r = fwsh_proc_wait(c->proc, timeout_ms, NULL)) < 0)
                        return r;
                ended(c);
        } else if (!c->ended) {
                return -EINVAL; /* in this process: fwsh_capture_run */
        }
        stats(c, ret_stats);
        return c->end_err;
}

int fwsh_capture_stop(struct fwsh_capture *c, int grace_ms, struct fwsh_capture_stats *ret_stats)
{
        if (!c->ended && c->proc) {
                int r = fwsh_proc_stop(c->proc, grace_ms); /* killed and reaped, whatever r */
                ended(c);
                if (r == -EINTR && c->end_err == 0)
                        c->end_err = r;
        } else if (!c->ended) {
                c->end_err = cap_close(NULL, c, 0);
                c->ended = true;
        }
        stats(c, ret_stats);
        return c->end_err;
}

const char *fwsh_capture_detail(const struct fwsh_capture *c)
{
        return c->ended && c->end_err < 0 ? c->sh->detail : "";
}

struct fwsh_capture *fwsh_capture_free(struct fwsh_capture *c)
{
        if (!c)
                return NULL;
        fwsh_capture_stop(c, 2000, NULL);
        if (c->mapped)
                munmap(c->sh, sizeof(*c->sh));
        else
                free(c->sh);
        free(c);
        return NULL;
}
