/* flows.h - what the parts of fwsh-flows share: the options, one record per
 * connection (TCP) or flow (UDP), the byte pattern, and the timing wheel.
 *
 * Both sides keep every record until the end (144 bytes each, so 200,000
 * cost some 29 MB) and write them once, after the run. */
#ifndef FWSH_FLOWS_H
#define FWSH_FLOWS_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>

#define FLOWS_MAX 200000        /* connections a run may make, at most */
#define UDP_MAX 10000           /* UDP flows, at most */
#define DURATION_MAX_S 3600     /* seconds a run may last, at most */
#define ENDPOINTS_MAX 64        /* --listen / --connect addresses */
#define HDR_LEN 8               /* "FLW1" and the id, at the start of a TCP stream */
#define UDP_HDR_LEN 16          /* "FLU1", the id, the sequence number */
#define CHUNK_MAX 8192

/* How a connection ended: the report's `end` column. */
enum flow_end {
        END_NONE,       /* still open when the run stopped */
        END_CLOSED,     /* the far end closed after sending every byte */
        END_SHORT,      /* the far end closed before sending every byte */
        END_RESET,      /* a reset: ECONNRESET, EPIPE, ECONNREFUSED */
        END_TIMEOUT,    /* not done by the end of the drain */
        END_ERROR,      /* another errno */
        END_CORRUPT,    /* a byte differed from the pattern: at `corrupt_at` */
};

/* The class a connection is counted in, one each, in this order of precedence. */
enum flow_class { CL_RESET, CL_LOST, CL_STALLED, CL_FAILED, CL_SURVIVED, CL_N };

struct flow {
        int fd;
        uint32_t id;
        uint8_t udp, connected, wr_shut, eof, hdr_got, done;
        uint8_t end;                    /* enum flow_end */
        uint8_t want_out;               /* EPOLLOUT is registered */
        int err;                        /* errno of an END_RESET or END_ERROR */
        struct sockaddr_in src, dst;    /* client's and server's address */
        uint64_t sent, received, verified;
        uint64_t owed;                  /* server: bytes to mirror back */
        int64_t corrupt_at;             /* -1: none */
        uint8_t hdr[HDR_LEN];
        /* ms from the tool's start */
        float opened_ms, established_ms, last_ms, max_gap_ms, gap_at_ms, ended_ms;
        uint64_t seq_next;              /* UDP: the next expected sequence number */
        uint64_t reordered;             /* UDP: datagrams older than one seen */
};

struct flows_opts {
        int server;
        struct sockaddr_in ends[ENDPOINTS_MAX];
        int n_ends;
        struct in_addr *srcs;           /* client: source addresses */
        int n_srcs;
        long flows, new_rate, new_max, open_rate, udp;
        int udp_server;                 /* server: also UDP on each --listen */
        double duration_ms, drain_ms, stall_ms;
        int interval_ms, chunk;
        long id_base;                   /* client: the first connection's id */
        long corrupt_id;                /* test hook: -1 none */
        uint64_t corrupt_off;
        const char *report;
};

extern volatile sig_atomic_t flows_stop; /* 1: drain and stop; 2: stop now */
extern double flows_t0;                  /* fwsh_now_msf() at the start */
extern long flows_fd_limit;              /* RLIMIT_NOFILE after raising it */
extern double flows_lag_ms;              /* client: the latest a send slot was walked */
extern volatile sig_atomic_t flows_mark_req; /* SIGUSR1 came: gaps count from now on */
extern double flows_mark_ms;             /* when the last mark was taken (0: none) */

/* Byte off of connection id's stream in one direction (salt 0 from the
 * client, 1 from the server): a function of (id, offset) only, so that the
 * receiver checks every byte without keeping any, and a byte that is changed,
 * missing or out of place fails at its own offset (with 255 in 256 odds). */
static inline uint8_t flow_pattern(uint32_t id, int salt, uint64_t off)
{
        uint32_t h = (uint32_t)off * 2654435761u ^ (id * 2246822519u + (uint32_t)salt * 3266489917u);

        h ^= h >> 15;
        h *= 2246822519u;
        h ^= h >> 13;
        return (uint8_t)(h ^ (uint32_t)(off >> 32));
}

/* Byte k of the payload of UDP datagram seq of flow id. */
static inline uint8_t flow_udp_byte(uint32_t id, uint64_t seq, int chunk, size_t k)
{
        return flow_pattern(id, 0, seq * (uint64_t)chunk + k);
}

/* A UDP datagram's header, "FLU1", id, seq (both big-endian): 0, or -1 if
 * it is not one. */
static inline int flow_udp_header(const uint8_t *b, size_t len, uint32_t *ret_id, uint64_t *ret_seq)
{
        uint64_t seq = 0;

        if (len < UDP_HDR_LEN || b[0] != 'F' || b[1] != 'L' || b[2] != 'U' || b[3] != '1')
                return -1;
        for (int k = 0; k < 8; k++)
                seq = seq << 8 | b[8 + k];
        *ret_id = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
        *ret_seq = seq;
        return 0;
}

/* The test hook's damage: the byte it changes, or b. */
static inline uint8_t flow_damage(const struct flows_opts *o, uint32_t id, uint64_t off, uint8_t b)
{
        return o->corrupt_id == (long)id && o->corrupt_off == off ? (uint8_t)~b : b;
}

/* A fixed wheel of interval_ms one-millisecond slots: a flow sits in the slot
 * of its start time modulo the interval, forever, so sending every flow once
 * per interval costs one list walk per millisecond and no re-insertion. */
struct wheel {
        uint32_t *head, *next;          /* UINT32_MAX ends a list */
        int slots;
        int64_t done_ms;                /* the last slot time walked */
};

int wheel_init(struct wheel *w, int slots, long items);
void wheel_add(struct wheel *w, uint32_t item, int64_t now_ms);
void wheel_free(struct wheel *w);

double flows_now(void);                 /* ms since the start */
int flows_raise_nofile(long want);
void flows_progress(const char *side, long open, long done, long reset);
void flows_gap(struct flow *f, double now);
void flows_gap_to(struct flow *f, double now);
void flows_mark(struct flow *tcp, long n_tcp, struct flow *udp, long n_udp, double now);
void flows_end(struct flow *f, int end, int err, double now);
int flows_classify(const struct flow *f, double stall_ms);
extern const char *const flows_class_names[CL_N];
void flows_outcome(const long *cls, long total, float *gaps, long n_gaps);
int flows_summary(const char *side, const struct flow *tcp, long n_tcp, const struct flow *udp,
                  long n_udp, const struct flows_opts *o);
int flows_merge(const char *client, const char *server, const char *out);
int flows_client(const struct flows_opts *o);
int flows_server(const struct flows_opts *o);

#endif
