/* fwsh_lab.h - the public face of core/lab/: a lab's runtime: what it made,
 * found by its tag and taken down; its processes; its nftables rulesets; its
 * state directories. It may use every group below it. */
#ifndef FWSH_LAB_H
#define FWSH_LAB_H

#include "base/fwsh_base.h"
#include "net/fwsh_net.h"

/* ---- labs: what fwsh made, found by its tag ------------------------------------------- */

/* A lab and what it has: links tagged "fwsh:NAME" (ifalias) in the namespace
 * searched, and named namespaces it made (their lo carries the tag). */
struct fwsh_lab {
        char name[FWSH_LAB_MAX + 1];
        unsigned links, netns;
        unsigned dirs;                 /* state directories (fwsh_lab_dir_make); down only */
};

/* The labs with objects in ctx's namespace or in /run/netns, sorted by name;
 * free(*ret) after. */
int fwsh_lab_list(struct fwsh_ctx *ctx, struct fwsh_lab **ret, size_t *ret_n);
/* The lab that made the named namespace ns (the tag on its lo), into buf
 * ("" if none); -ENOENT if there is no such namespace. */
int fwsh_lab_netns_owner(struct fwsh_ctx *ctx, const char *ns, char *buf, size_t size);
/* Makes a state directory for lab, /tmp/fwsh-LAB.XXXXXX (mode 0700), with a
 * file .fwsh-lab holding its tag: *ret_path (size bytes) gets its path. The
 * caller removes it when done; `fwsh down` removes what a killed one left. */
int fwsh_lab_dir_make(struct fwsh_ctx *ctx, const char *lab, char *ret_path, size_t size);
/* The path of the file name in one of lab's state directories (one with its
 * tag), into ret_path (size bytes); -ENOENT if none has it. */
int fwsh_lab_dir_find(struct fwsh_ctx *ctx, const char *lab, const char *name, char *ret_path, size_t size);
/* The labs (*ret_n names, free with fwsh_strv_free) with a state directory
 * here holding the file name (fwsh.hosts' "hosts": the labs spanning hosts). */
int fwsh_lab_dir_labs(struct fwsh_ctx *ctx, const char *name, char ***ret, size_t *ret_n);
/* Removes the state directory path if it carries lab's tag; -EPERM if not. */
int fwsh_lab_dir_remove(struct fwsh_ctx *ctx, const char *lab, const char *path);
/* Removes every object of lab: its processes in ctx's namespace (its cgroups:
 * proc.c, cgroup.c) with all they forked, its links there (ports first, then
 * bridges), the named namespaces it made, and its state directories (only
 * the caller's own, with the lab's tag inside). Nothing without its tag is
 * touched, whatever its name. What was removed is counted in *ret (may be
 * NULL). Keeps going past a failure and returns the first. */
int fwsh_lab_down(struct fwsh_ctx *ctx, const char *lab, struct fwsh_lab *ret);

/* ---- processes: argv lists, in a namespace, owned by their lab ------------------------------ */

struct fwsh_proc;

struct fwsh_proc_spec {
        const char *const *argv;  /* NULL-ended; argv[0] is looked up in PATH; never a shell */
        int netns_fd;             /* run in this network namespace, or -1: the caller's */
        const char *lab;          /* recorded with it; NULL: ctx's lab */
        const char *stdin_path;   /* NULL: /dev/null */
        const char *stdout_path;  /* spawn only, appended to; NULL: /dev/null */
        const char *stderr_path;  /* spawn only; NULL: where stdout goes */
        /* spawn only: instead of exec, the child calls fn(fn_arg) and exits
         * with what it returns (argv[0] is then only its name, in messages and
         * as its comm); it keeps keep_fds (n_keep of them) and its standard
         * ones, and every other descriptor is closed first. */
        int (*fn)(void *fn_arg);
        void *fn_arg;
        const int *keep_fds;
        size_t n_keep;
        int death_signal;         /* what it gets if fwsh dies first; 0: SIGKILL */
        /* spawn only: its stdin and stdout are pipes to the caller
         * (fwsh_proc_send, fwsh_proc_recv) instead of stdin_path, stdout_path */
        bool pipe;
        /* The program changes nothing here (it reads, or it plans on its own,
         * as `fwsh --serve --dry-run` over ssh does): a plan starts it too,
         * where it starts nothing else (it shows the line, and gives a
         * program that ended well at once). */
        bool query;
        /* It may not raise itself to a real-time policy (SCHED_RR, SCHED_FIFO):
         * a daemon that does by default (conntrackd) then runs under the
         * normal scheduler, beside the lab's other work instead of ahead of it. */
        bool no_realtime;
};
#define FWSH_PROC_SPEC_INIT { NULL, -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, false, false, false }

struct fwsh_proc_result {
        int status;               /* as waitpid(2) gives it */
        char *out, *err;          /* what it wrote, NUL-ended (NULL if nothing) */
        size_t out_len, err_len;
};

/* Starts argv in its own process group and (where there is cgroup2) its own
 * cgroup of the lab's, which every descendant is born in and which ends with
 * it, with SIGKILL as its parent-death signal, and records it in the registry
 * with its lab. -ENOENT etc. (the exec's
 * own errno, with the reason in ctx's detail) if it cannot be started. */
int fwsh_proc_spawn(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, struct fwsh_proc **ret_proc);
/* Runs argv to its end, capturing stdout and stderr. -ETIMEDOUT (and the
 * process group killed and reaped) if it runs longer than timeout_ms (< 0: no
 * limit). Free *ret with fwsh_proc_result_clear. */
int fwsh_proc_run(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, int timeout_ms,
                  struct fwsh_proc_result *ret);
void fwsh_proc_result_clear(struct fwsh_proc_result *res);
/* Waits up to timeout_ms (< 0: for ever) for p to end and reaps it. -ETIMEDOUT. */
int fwsh_proc_wait(struct fwsh_proc *p, int timeout_ms, int *ret_status);
/* Sends sig to p's process group. -ESRCH if it has ended. */
int fwsh_proc_signal(struct fwsh_proc *p, int sig);
/* SIGTERM to the group, SIGKILL after grace_ms, and reaped. 0 (also if it had ended). */
int fwsh_proc_stop(struct fwsh_proc *p, int grace_ms);
pid_t fwsh_proc_pid(const struct fwsh_proc *p);    /* 0 once reaped */
bool fwsh_proc_running(struct fwsh_proc *p);       /* reaps it if it has ended */
/* A process spawned with pipe: writes all of buf to its stdin (-EPIPE once it
 * has closed it; -EBADF if it has no pipe). */
int fwsh_proc_send(struct fwsh_proc *p, const void *buf, size_t len);
/* Reads what its stdout has, up to size bytes, waiting up to timeout_ms (< 0:
 * for ever) for some: how many, 0 at its end, -ETIMEDOUT, -EINTR if cancelled. */
ssize_t fwsh_proc_recv(struct fwsh_proc *p, void *buf, size_t size, int timeout_ms);
/* Lets go of p; one still running stays in the registry until it is stopped. Returns NULL. */
struct fwsh_proc *fwsh_proc_free(struct fwsh_proc *p);
/* Stops every recorded process of lab (NULL: of every lab) as fwsh_proc_stop
 * does, all at once; returns how many were running. */
int fwsh_proc_stop_lab(const char *lab, int grace_ms);
/* Kills and reaps every child of the caller that fwsh_proc does not track:
 * what the daemons it started forked and left, adopted by a caller that is
 * their subreaper (PR_SET_CHILD_SUBREAPER). For a program that owns all its
 * children (the fwsh program, at its end); how many, or -ETIMEDOUT. */
int fwsh_proc_reap_orphans(int timeout_ms);

/* ---- captures: a link's packets into a pcap file ---------------------------------------- */

struct fwsh_capture;

#define FWSH_CAPTURE_SNAPLEN 262144   /* bytes kept of a packet by default, and at most */

struct fwsh_capture_spec {
        const char *link;         /* the link's name */
        int netns_fd;             /* the namespace it is in; -1: ctx's */
        const char *path;         /* the pcap file, made or emptied; NULL: fd */
        int fd;                   /* fwsh_capture_open only, with no path: the stream goes to a
                                   * copy of fd, flushed after every packet */
        const char *filter;       /* a pcap-filter(7) expression; NULL or "": every packet */
        uint64_t count;           /* ends by itself after this many packets; 0: no limit */
        int snaplen;              /* bytes kept of each packet; 0: FWSH_CAPTURE_SNAPLEN */
        bool promisc;             /* the link promiscuous while it runs (tcpdump's default): a
                                   * bridge then sees what it forwards between its ports */
        const char *lab;          /* fwsh_capture_start: its process's lab; NULL: ctx's */
};
#define FWSH_CAPTURE_SPEC_INIT { NULL, -1, NULL, -1, NULL, 0, 0, true, NULL }

struct fwsh_capture_stats {
        uint64_t packets;         /* written */
        uint64_t dropped;         /* by the kernel: its ring was full (known once it ended) */
};

/* Starts a capture in the background: a process of the registry above (the
 * spec's lab; fwsh_proc_stop_lab stops it; SIGTERM if fwsh dies, and it
 * closes the file first). When it returns 0 the socket is bound and the
 * filter set: every packet from then on is captured. -ENODEV (no such
 * link), -EINVAL (a filter libpcap refuses, its words in the detail), the
 * file's -errno; no file is made unless link and filter were accepted.
 * -ELIBACC without libpcap. @see pcap(3PCAP), pcap-filter(7) */
int fwsh_capture_start(struct fwsh_ctx *ctx, const struct fwsh_capture_spec *spec,
                       struct fwsh_capture **ret_capture);
/* The same, open in the calling process (path, or the stream on fd): for
 * fwsh_capture_run. */
int fwsh_capture_open(struct fwsh_ctx *ctx, const struct fwsh_capture_spec *spec,
                      struct fwsh_capture **ret_capture);
/* Writes what fwsh_capture_open opened until its count, or until
 * fwsh_cancel() (from the caller's SIGINT, SIGTERM or SIGHUP handler; those
 * three are let in only while it sleeps). 0, -EPIPE when the stream's reader
 * went away (SIGPIPE ignored), or another -errno. Then fwsh_capture_stop. */
int fwsh_capture_run(struct fwsh_ctx *ctx, struct fwsh_capture *c);
/* Packets written so far (live, from the background process too). */
uint64_t fwsh_capture_packets(const struct fwsh_capture *c);
/* Whether it still captures (a background one ends by itself at its count). */
bool fwsh_capture_running(struct fwsh_capture *c);
/* Waits up to timeout_ms (< 0: for ever) for a background capture to end by
 * itself (its count). -ETIMEDOUT, -EINTR (cancelled); else as fwsh_capture_stop. */
int fwsh_capture_wait(struct fwsh_capture *c, int timeout_ms, struct fwsh_capture_stats *ret_stats);
/* Stops it (a background one: SIGTERM, SIGKILL after grace_ms, reaped): what
 * the ring still holds is written, the file flushed and closed. Fills
 * *ret_stats (may be NULL) and returns 0, or the -errno it ended with
 * (fwsh_capture_detail says why): -ENOSPC writing, -EINTR if it was killed
 * before it could close the file. Again after that: the same. */
int fwsh_capture_stop(struct fwsh_capture *c, int grace_ms, struct fwsh_capture_stats *ret_stats);
/* Why it ended with an error, in words; "" if it did not. */
const char *fwsh_capture_detail(const struct fwsh_capture *c);
/* Stops it (grace 2 s) if it runs, and frees it. Returns NULL. */
struct fwsh_capture *fwsh_capture_free(struct fwsh_capture *c);

/* ---- nftables ----------------------------------------------------------------------------- */

/* Runs nft(8) commands (a ruleset file's text: "flush ruleset\ntable inet f { ... }")
 * through libnftables in the namespace netns_fd (-1: the caller's), as one
 * transaction: all or nothing. On success *ret_output (may be NULL) is what nft
 * printed (JSON if json), to free(). -EINVAL with nft's own message in ctx's
 * detail if it refuses. In a plan, only shown (as run in netns_name, the name
 * of netns_fd), and the output is "". See nft(8), libnftables(3). */
int fwsh_nft_run(struct fwsh_ctx *ctx, int netns_fd, const char *netns_name, const char *cmds, bool json,
                 char **ret_output);

#endif
