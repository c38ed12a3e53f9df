/* record.c - what fwsh-flows writes down: each connection's gaps and end,
 * its class, the report (one TSV line per connection or UDP flow) and the
 * summary on stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/clock.h"
#include "flows.h"

static const char *const end_names[] = {
        [END_NONE] = "open", [END_CLOSED] = "closed", [END_SHORT] = "short", [END_RESET] = "reset",
        [END_TIMEOUT] = "timeout", [END_ERROR] = "error", [END_CORRUPT] = "corrupt",
};
const char *const flows_class_names[CL_N] = {
        [CL_RESET] = "reset", [CL_LOST] = "lost_bytes", [CL_STALLED] = "stalled",
        [CL_FAILED] = "failed", [CL_SURVIVED] = "survived",
};

/* The gap that is open at now (since the last progress, or since the mark
 * if that is later) becomes the longest if it is. */
void flows_gap_to(struct flow *f, double now)
{
        double from = f->last_ms > flows_mark_ms ? f->last_ms : flows_mark_ms;

        if (now - from > f->max_gap_ms) {
                f->max_gap_ms = (float)(now - from);
                f->gap_at_ms = (float)from;
        }
}

/* Progress at now: the time since the last one is a gap, the longest kept. */
void flows_gap(struct flow *f, double now)
{
        flows_gap_to(f, now);
        f->last_ms = (float)now;
}

/* The mark (SIGUSR1): what came before is the run's opening, not what it
 * measures. Every flow's longest gap starts over, and a gap open now counts
 * from now: with 100,000 connections the opening itself holds a connection
 * up for seconds, which no failure did. */
void flows_mark(struct flow *tcp, long n_tcp, struct flow *udp, long n_udp, double now)
{
        flows_mark_ms = now;
        for (long i = 0; i < n_tcp + n_udp; i++) {
                struct flow *f = i < n_tcp ? &tcp[i] : &udp[i - n_tcp];
                f->max_gap_ms = 0;
                f->gap_at_ms = 0;
        }
        printf("mark_ms: %.1f\n", now);
}

/* The flow ends (once): how, its errno, when. */
void flows_end(struct flow *f, int end, int err, double now)
{
        if (f->done)
                return;
        f->done = 1;
        f->end = (uint8_t)end;
        f->err = err;
        f->ended_ms = (float)now;
}

int flows_classify(const struct flow *f, double stall_ms)
{
        if (f->udp)
                return f->received < f->sent ? CL_LOST : f->max_gap_ms > stall_ms ? CL_STALLED : CL_SURVIVED;
        if (f->end == END_RESET)
                return CL_RESET;
        if (f->end == END_CORRUPT || f->end == END_SHORT || f->verified != f->received)
                return CL_LOST;
        if (f->max_gap_ms > stall_ms)
                return CL_STALLED;
        return f->end == END_CLOSED ? CL_SURVIVED : CL_FAILED;
}

static int by_float(const void *a, const void *b)
{
        float x = *(const float *)a, y = *(const float *)b;

        return (x > y) - (x < y);
}

static void addr(char *buf, size_t len, const struct sockaddr_in *a)
{
        char ip[INET_ADDRSTRLEN] = "-";

        if (a->sin_family == AF_INET)
                inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
}

static void report_line(FILE *out, const struct flow *f, double stall_ms)
{
        char src[32], dst[32], at[24] = "-";
        const char *err = f->err ? strerrorname_np(f->err) : NULL;

        addr(src, sizeof(src), &f->src);
        addr(dst, sizeof(dst), &f->dst);
        if (f->corrupt_at >= 0)
                snprintf(at, sizeof(at), "%lld", (long long)f->corrupt_at);
        fprintf(out, "%s\t%u\t%s\t%s\t%.1f\t%.1f\t%.1f\t%llu\t%llu\t%llu\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\n",
                f->udp ? "udp" : "tcp", f->id, src, dst, f->opened_ms, f->established_ms, f->ended_ms,
                (unsigned long long)f->sent, (unsigned long long)f->received,
                (unsigned long long)f->verified, f->last_ms, f->max_gap_ms, f->gap_at_ms,
                end_names[f->end], err ? err : "-", at, flows_class_names[flows_classify(f, stall_ms)]);
}

static const char report_header[] =
        "proto\tid\tsrc\tdst\topened_ms\testablished_ms\tended_ms\tsent\treceived\tverified\t"
        "last_ms\tmax_gap_ms\tgap_at_ms\tend\terrno\tcorrupt_at\tclass\n";

static int write_report(const char *path, const char *side, const struct flow *tcp, long n_tcp,
                        const struct flow *udp, long n_udp, double stall_ms)
{
        FILE *out = fopen(path, "w");

        if (!out)
                return -errno;
        fprintf(out, "# fwsh-flows %s start_monotonic_ms %.1f stall_ms %.0f mark_ms %.1f\n", side, flows_t0, stall_ms,
                flows_mark_ms);
        fputs(report_header, out);
        for (long i = 0; i < n_tcp; i++)
                report_line(out, &tcp[i], stall_ms);
        for (long i = 0; i < n_udp; i++)
                if (udp[i].sent || udp[i].received)
                        report_line(out, &udp[i], stall_ms);
        return fclose(out) == 0 ? 0 : -errno;
}

/* The lines both the summary and merge print for a set of classes and gaps
 * (sorted here). */
void flows_outcome(const long *cls, long total, float *gaps, long n_gaps)
{
        printf("connections: total %ld survived %ld stalled %ld reset %ld lost_bytes %ld\n", total,
               cls[CL_SURVIVED], cls[CL_STALLED], cls[CL_RESET], cls[CL_LOST]);
        printf("failed: %ld\n", cls[CL_FAILED]);
        if (n_gaps)
                qsort(gaps, (size_t)n_gaps, sizeof(*gaps), by_float);
        if (n_gaps)
                printf("connection_gap_ms min/median/p99/max: %.1f / %.1f / %.1f / %.1f\n", gaps[0],
                       gaps[n_gaps / 2], gaps[(n_gaps * 99) / 100], gaps[n_gaps - 1]);
        else
                puts("connection_gap_ms min/median/p99/max: - / - / - / -");
}

/* This process's own peak RSS in kB (VmHWM): getrusage's ru_maxrss keeps,
 * across execve, the peak of the process image before it, so a tool
 * started by a large fwsh would report fwsh's size. -1 if unknown. */
static long peak_rss_kb(void)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long kb = -1;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

int flows_summary(const char *side, const struct flow *tcp, long n_tcp, const struct flow *udp,
                  long n_udp, const struct flows_opts *o)
{
        long cls[CL_N] = { 0 }, ends[END_CORRUPT + 1] = { 0 }, n_gaps = 0, flows = 0;
        unsigned long long sent = 0, received = 0, verified = 0, usent = 0, urecv = 0, ureord = 0;
        float *gaps = malloc((size_t)(n_tcp ? n_tcp : 1) * sizeof(*gaps)), umax = 0;
        struct rusage ru;
        int ok;

        flows_progress(side, -1, 0, 0);
        for (long i = 0; i < n_tcp; i++) {
                const struct flow *f = &tcp[i];
                cls[flows_classify(f, o->stall_ms)]++;
                ends[f->end]++;
                sent += f->sent;
                received += f->received;
                verified += f->verified;
                if (f->connected && gaps)
                        gaps[n_gaps++] = f->max_gap_ms;
        }
        for (long i = 0; i < n_udp; i++) {
                if (!udp[i].sent && !udp[i].received)
                        continue;
                flows++;
                usent += udp[i].sent;
                urecv += udp[i].received;
                ureord += udp[i].reordered;
                umax = udp[i].max_gap_ms > umax ? udp[i].max_gap_ms : umax;
        }
        printf("side %s\n", side);
        flows_outcome(cls, n_tcp, gaps, n_gaps);
        printf("ended: open %ld closed %ld short %ld reset %ld timeout %ld error %ld corrupt %ld\n",
               ends[END_NONE], ends[END_CLOSED], ends[END_SHORT], ends[END_RESET], ends[END_TIMEOUT],
               ends[END_ERROR], ends[END_CORRUPT]);
        printf("bytes: sent %llu received %llu verified %llu\n", sent, received, verified);
        if (n_udp)
                printf("udp: flows %ld sent %llu received %llu lost %llu reordered %llu max_gap_ms %.1f\n",
                       flows, usent, urecv, usent > urecv ? usent - urecv : 0, ureord, umax);
        getrusage(RUSAGE_SELF, &ru);
        long peak = peak_rss_kb();
        printf("rss_kb: %ld fd_limit: %ld\n", peak >= 0 ? peak : ru.ru_maxrss, flows_fd_limit);
        if (!o->server)
                printf("send_lag_ms max: %.0f\n", flows_lag_ms);
        printf("cpu_s: user %.2f sys %.2f elapsed %.2f\n",
               (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, flows_now() / 1000);
        printf("start_monotonic_ms: %.1f\n", flows_t0);
        free(gaps);
        ok = cls[CL_SURVIVED] == n_tcp && usent == urecv;
        if (o->report) {
                int r = write_report(o->report, side, tcp, n_tcp, udp, n_udp, o->stall_ms);
                if (r < 0) {
                        fprintf(stderr, "fwsh-flows: report %s: %s\n", o->report, strerror(-r));
                        return 1;
                }
                printf("report: %s\n", o->report);
        }
        return ok ? 0 : 1;
}
