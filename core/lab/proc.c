/* proc.c - processes fwsh starts: argv lists run with fork and exec, never a
 * shell, optionally inside a network namespace, or a function of core run in
 * a forked child (a capture: capture.c). Every child is recorded with its lab
 * in one registry, so that teardown can kill and reap all of them; each runs
 * in a process group of its own (its own children go with it), and gets
 * SIGKILL (or the signal it asked for) if fwsh dies before it
 * (PR_SET_PDEATHSIG). Where the system has cgroup2, each also runs in a
 * cgroup of its lab's (cgroup.c), which takes every descendant with it when
 * it ends, is stopped, or its lab is taken down: forks that left its group
 * and outlived a SIGKILL of fwsh too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "internal.h"

struct fwsh_proc {
        pid_t pid;                 /* 0 once reaped */
        int status;                /* wait status, valid once reaped */
        char lab[FWSH_LAB_MAX + 1];
        char name[64];             /* argv[0]'s base name, for messages */
        struct fwsh_proc *next;
        unsigned refs;             /* the registry's and the caller's */
        int to_child, from_child;  /* spawned with pipe: its stdin, its stdout; else -1 */
        char *cgroup;              /* its cgroup's path, until it is removed; NULL: none */
        int death_signal;          /* what it gets if fwsh dies first */
};

static struct fwsh_proc *registry;

static int reap(struct fwsh_proc *p, bool block);

/* A program that exits without ending its processes (os.exit in lua5.4
 * closes no state): each gets its parent-death signal now, as it would a
 * moment later (a capture's SIGTERM lets it close its file whole), and its
 * cgroup goes, with what it forked. (In a module, glibc runs this at dlclose.) */
static void cgroups_at_exit(void)
{
        int64_t deadline = fwsh_now_ms() + 1000;

        for (struct fwsh_proc *p = registry; p; p = p->next)
                if (p->pid)
                        kill(p->pid, p->death_signal);
        for (struct fwsh_proc *p = registry; p; p = p->next) {
                while (p->cgroup && !reap(p, false) && fwsh_now_ms() < deadline) {
                        struct timespec ts = { 0, 2 * 1000000L };
                        nanosleep(&ts, NULL);
                }
                lab_cgroup_end(p->cgroup);
                free(p->cgroup);
                p->cgroup = NULL;
        }
}

/* Opens path for the child's fd, or /dev/null if path is NULL. */
static int child_redirect(const char *path, int target, int flags)
{
        int fd = open(path ? path : "/dev/null", flags | O_CLOEXEC, 0644);

        if (fd < 0)
                return -1;
        if (dup2(fd, target) < 0)
                return -1;
        close(fd);
        return 0;
}

/* What the child was doing when it failed, for the message: the culprit. */
enum child_step { STEP_EXEC, STEP_PARENT, STEP_NETNS, STEP_STDIN, STEP_STDOUT, STEP_STDERR,
                  STEP_CGROUP, STEP_SCHED };

struct child_failure {
        int err;                  /* -errno */
        int step;                 /* enum child_step */
};

/* A forked child that runs a function keeps only what it was given: not
 * the netlink sockets, namespace descriptors and pipes of the program it
 * was forked from (a namespace descriptor would keep that namespace alive
 * for as long as the child runs). Closes every descriptor from 3 up except
 * the n in keep. */
static int close_others(const int *keep, size_t n)
{
        unsigned lo = 3;

        for (;;) {
                unsigned next = ~0U; /* the lowest kept one from lo up */
                for (size_t i = 0; i < n; i++)
                        if (keep[i] >= (int)lo && (unsigned)keep[i] < next)
                                next = (unsigned)keep[i];
                if (next == ~0U)
                        return close_range(lo, ~0U, 0);
                if (next > lo && close_range(lo, next - 1, 0) < 0)
                        return -1;
                lo = next + 1;
        }
}

/* In the child: the program it becomes may not take a real-time policy
 * (SCHED_RR, SCHED_FIFO): no RLIMIT_RTPRIO, and CAP_SYS_NICE, which would
 * override that limit, out of the bounding set, so that not even root's
 * exec gets it back. A daemon that raises itself (conntrackd does, to RR
 * 99, with no setting to stay normal) is refused and stays where it is. */
static int child_no_realtime(void)
{
        const struct rlimit none = { 0, 0 };

        if (setrlimit(RLIMIT_RTPRIO, &none) < 0)
                return -1;
        if (prctl(PR_CAPBSET_DROP, CAP_SYS_NICE, 0, 0, 0) < 0 && errno != EINVAL)
                return -1;
        return 0;
}

/* In the child: never returns. Reports a failure before exec (struct
 * child_failure) on errfd, which closes on a successful exec (or, for a
 * function, when every other descriptor is closed before it runs). */
static void child(const struct fwsh_proc_spec *spec, pid_t parent, int errfd, int out[2],
                  int err[2], const int io[2], int cgroup_fd)
{
        struct child_failure f = { 0, STEP_CGROUP };
        sigset_t all;

        /* Signal dispositions and masks survive exec: start from a clean slate. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        setpgid(0, 0);
        /* into its cgroup before it can fork: every descendant is born there */
        if (cgroup_fd >= 0 && (write(cgroup_fd, "0", 1) != 1 || close(cgroup_fd) < 0))
                goto fail;
        f.step = STEP_PARENT;
        if (prctl(PR_SET_PDEATHSIG, spec->death_signal ? spec->death_signal : SIGKILL) < 0 ||
            getppid() != parent)
                goto fail;
        f.step = STEP_NETNS;
        if (spec->netns_fd >= 0 && setns(spec->netns_fd, CLONE_NEWNET) < 0)
                goto fail;
        f.step = STEP_SCHED;
        if (spec->no_realtime && child_no_realtime() < 0)
                goto fail;
        f.step = STEP_STDIN;
        if (io[0] >= 0 ? dup2(io[0], STDIN_FILENO) < 0
                       : child_redirect(spec->stdin_path, STDIN_FILENO, O_RDONLY) < 0)
                goto fail;
        f.step = STEP_STDOUT;
        if (io[1] >= 0) {
                if (dup2(io[1], STDOUT_FILENO) < 0 ||
                    (f.step = STEP_STDERR, child_redirect(spec->stderr_path, STDERR_FILENO,
                                                          O_WRONLY | O_CREAT | O_APPEND) < 0))
                        goto fail;
        } else if (out) {
                if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
                        goto fail;
        } else if (child_redirect(spec->stdout_path, STDOUT_FILENO,
                                  O_WRONLY | O_CREAT | O_APPEND) < 0 ||
                   (f.step = STEP_STDERR,
                    child_redirect(spec->stderr_path ? spec->stderr_path : spec->stdout_path,
                                   STDERR_FILENO, O_WRONLY | O_CREAT | O_APPEND) < 0)) {
                goto fail;
        }
        f.step = STEP_EXEC;
        if (spec->fn) {
                prctl(PR_SET_NAME, spec->argv[0]);
                if (close_others(spec->keep_fds, spec->n_keep) < 0)
                        goto fail;
                _exit(spec->fn(spec->fn_arg));
        }
        execvp(spec->argv[0], (char *const *)spec->argv);
fail:
        f.err = -errno;
        if (write(errfd, &f, sizeof(f)) < 0)
                _exit(127);
        _exit(127);
}

/* Drops n references to p (the registry's, the caller's). */
static struct fwsh_proc *proc_drop(struct fwsh_proc *p, unsigned n)
{
        if (p && (p->refs -= n) == 0) {
                lab_cgroup_end(p->cgroup);
                free(p->cgroup);
                if (p->to_child >= 0)
                        close(p->to_child);
                if (p->from_child >= 0)
                        close(p->from_child);
                free(p);
        }
        return NULL;
}

/* Takes p out of the registry; 1 if it was there (its reference is the caller's to drop now). */
static unsigned registry_remove(struct fwsh_proc *p)
{
        for (struct fwsh_proc **pp = &registry; *pp; pp = &(*pp)->next) {
                if (*pp == p) {
                        *pp = p->next;
                        return 1;
                }
        }
        return 0;
}

static void close_pair(int fds[2])
{
        if (fds[0] >= 0)
                close(fds[0]);
        if (fds[1] >= 0)
                close(fds[1]);
}

/* fwsh_effect for starting spec's program (spawn: in the background): 1 in
 * a plan, which starts nothing. */
static int shown(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, bool spawn)
{
        struct fwsh_line l = { .len = 0 };

        /* fn: a process of fwsh's own (capture), which shows its own line */
        if (spec->query || spec->fn || !fwsh_effect_shown(ctx))
                return 0;
        for (size_t i = 0; spec->argv[i]; i++)
                fwsh_line_word(&l, spec->argv[i]);
        if (spec->stdin_path) {
                fwsh_line_add(&l, " <");
                fwsh_line_word(&l, spec->stdin_path);
        }
        if (spawn && spec->stdout_path) {
                fwsh_line_add(&l, " >>");
                fwsh_line_word(&l, spec->stdout_path);
        }
        if (spawn && spec->stderr_path) {
                fwsh_line_add(&l, " 2>>");
                fwsh_line_word(&l, spec->stderr_path);
        }
        if (spawn)
                fwsh_line_add(&l, " &");
        return fwsh_effect_line(ctx, &l);
}

/* What a plan gives for a program it does not start: one that has ended
 * at once, well (status 0), having read and written nothing; with pipe, its
 * ends closed (a write is EPIPE, a read the end of its output). */
static int planned(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, bool spawn,
                   struct fwsh_proc **ret)
{
        struct fwsh_proc *p = calloc(1, sizeof(*p));
        int in[2] = { -1, -1 }, outp[2] = { -1, -1 };

        if (!p)
                return -ENOMEM;
        if (spawn && spec->pipe && (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)) {
                int e = -errno;
                close_pair(in);
                free(p);
                return ctx_fail(ctx, e, "pipe");
        }
        if (in[0] >= 0) {
                close(in[0]);
                close(outp[1]);
        }
        p->refs = 2;
        p->to_child = in[1];
        p->from_child = outp[0];
        snprintf(p->lab, sizeof(p->lab), "%s", spec->lab ? spec->lab : fwsh_ctx_lab(ctx));
        snprintf(p->name, sizeof(p->name), "%s",
                 strrchr(spec->argv[0], '/') ? strrchr(spec->argv[0], '/') + 1 : spec->argv[0]);
        p->next = registry;
        registry = p;
        *ret = p;
        return 0;
}

static void reap_adopted(void);

static int start(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, int out[2], int err[2],
                 struct fwsh_proc **ret)
{
        struct fwsh_proc *p;
        struct child_failure f = { 0, 0 };
        int errpipe[2], e = 0, in[2] = { -1, -1 }, outp[2] = { -1, -1 }, io[2], cgfd = -1;
        pid_t parent = getpid(), pid;
        ssize_t n;

        if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
                return ctx_fail(ctx, -EINVAL, "empty argv");
        reap_adopted(); /* a lab's steps start processes: no zombie piles up across them */
        if (spec->fn && out)
                return ctx_fail(ctx, -EINVAL, "a function is spawned, not run");
        if (shown(ctx, spec, !out) > 0)
                return planned(ctx, spec, !out, ret);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->refs = 2;
        p->to_child = p->from_child = -1;
        p->death_signal = spec->death_signal ? spec->death_signal : SIGKILL;
        if (spec->pipe && !out && (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)) {
                e = -errno;
                close_pair(in);
                free(p);
                return ctx_fail(ctx, e, "pipe");
        }
        io[0] = in[0];
        io[1] = outp[1];
        snprintf(p->lab, sizeof(p->lab), "%s", spec->lab ? spec->lab : fwsh_ctx_lab(ctx));
        snprintf(p->name, sizeof(p->name), "%s",
                 strrchr(spec->argv[0], '/') ? strrchr(spec->argv[0], '/') + 1 : spec->argv[0]);
        e = lab_cgroup_make(ctx, p->lab, &p->cgroup, &cgfd);
        if (e == 0) {
                static bool registered;
                if (!registered)
                        registered = atexit(cgroups_at_exit) == 0;
        }
        /* none to use (no cgroup2, or not fwsh's to write): its group and PDEATHSIG only */
        if (e < 0 && e != -ENOENT && e != -EACCES && e != -EPERM && e != -EROFS) {
                close_pair(in);
                close_pair(outp);
                free(p);
                return ctx_fail(ctx, e, "cannot start %s: its cgroup: %s", spec->argv[0],
                                strerror(-e));
        }
        if (pipe2(errpipe, O_CLOEXEC) < 0) {
                e = -errno;
                close_pair(in);
                close_pair(outp);
                if (cgfd >= 0)
                        close(cgfd);
                proc_drop(p, 2);
                return e;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                e = -errno;
                close(errpipe[0]);
                close(errpipe[1]);
                close_pair(in);
                close_pair(outp);
                if (cgfd >= 0)
                        close(cgfd);
                proc_drop(p, 2);
                return ctx_fail(ctx, e, "fork");
        }
        if (pid == 0) {
                close(errpipe[0]);
                if (out) {
                        close(out[0]);
                        close(err[0]);
                }
                child(spec, parent, errpipe[1], out, err, io, cgfd);
        }
        if (cgfd >= 0)
                close(cgfd);
        /* its ends are its own now; ours: its stdin's writing end, its stdout's reading end */
        if (in[0] >= 0) {
                close(in[0]);
                close(outp[1]);
                p->to_child = in[1];
                p->from_child = outp[0];
        }
        /* Both sides set the group: whichever runs first, kill(-pid) works after. */
        setpgid(pid, pid);
        close(errpipe[1]);
        do
                n = read(errpipe[0], &f, sizeof(f));
        while (n < 0 && errno == EINTR);
        close(errpipe[0]);
        p->pid = pid;
        if (n == (ssize_t)sizeof(f)) {
                static const char *const what[] = { "", "its parent went", "entering the namespace",
                                                    "stdin", "stdout", "stderr",
                                                    "joining its cgroup",
                                                    "leaving real-time scheduling" };
                const char *path = f.step == STEP_STDIN ? spec->stdin_path :
                                   f.step == STEP_STDOUT ? spec->stdout_path :
                                   f.step == STEP_STDERR ? (spec->stderr_path ? spec->stderr_path
                                                                              : spec->stdout_path) :
                                   f.step == STEP_CGROUP ? p->cgroup : NULL;
                char msg[FWSH_DETAIL_MAX];

                waitpid(pid, NULL, 0);
                if (f.step == STEP_EXEC)
                        snprintf(msg, sizeof(msg), "cannot start %s: %s", spec->argv[0],
                                 strerror(-f.err));
                else
                        snprintf(msg, sizeof(msg), "cannot start %s: %s%s%s: %s", spec->argv[0],
                                 what[f.step < STEP_EXEC || f.step > STEP_SCHED ? 0 : f.step],
                                 path ? " " : "", path ? path : "", strerror(-f.err));
                p->refs = 1;
                proc_drop(p, 1);
                return ctx_fail(ctx, f.err, "%s", msg);
        }
        p->next = registry;
        registry = p;
        *ret = p;
        return 0;
}

int fwsh_proc_spawn(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, struct fwsh_proc **ret_proc)
{
        ctx_clear(ctx);
        return start(ctx, spec, NULL, NULL, ret_proc);
}

static void reap_group(pid_t pgid);

/* Reaps p if it has ended (or waits for it, if block). 1 if it is gone, 0 if not. */
static int reap(struct fwsh_proc *p, bool block)
{
        pid_t r;

        if (!p->pid)
                return 1;
        do
                r = waitpid(p->pid, &p->status, block ? 0 : WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0)
                return 0;
        if (r < 0) /* reaped elsewhere: count it as gone */
                p->status = 0;
        /* Its group may hold children of its own (keepalived's VRRP child):
         * killed, and, adopted by a subreaper caller, reaped. */
        kill(-p->pid, SIGKILL);
        reap_group(p->pid);
        p->pid = 0;
        /* and what left the group: its cgroup holds every descendant */
        lab_cgroup_end(p->cgroup);
        free(p->cgroup);
        p->cgroup = NULL;
        /* what that killed, and what p's descendants left before */
        reap_adopted();
        return 1;
}

int fwsh_proc_wait(struct fwsh_proc *p, int timeout_ms, int *ret_status)
{
        int64_t deadline = fwsh_now_ms() + timeout_ms;

        /* No SIGCHLD handler to disturb the caller's: poll with a short, growing step. */
        for (int step = 1; !reap(p, false); step = step < CANCEL_SLICE_MS ? step * 2 : CANCEL_SLICE_MS) {
                int64_t left = timeout_ms < 0 ? step : deadline - fwsh_now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                if (cancel_take())
                        return -EINTR;
                struct timespec ts = { 0, (long)(left < step ? left : step) * 1000000L };
                nanosleep(&ts, NULL);
        }
        if (ret_status)
                *ret_status = p->status;
        return 0;
}

int fwsh_proc_signal(struct fwsh_proc *p, int sig)
{
        if (reap(p, false))
                return -ESRCH;
        return kill(-p->pid, sig) < 0 ? -errno : 0;
}

pid_t fwsh_proc_pid(const struct fwsh_proc *p)
{
        return p->pid;
}

bool fwsh_proc_running(struct fwsh_proc *p)
{
        return !reap(p, false);
}

int fwsh_proc_send(struct fwsh_proc *p, const void *buf, size_t len)
{
        const char *b = buf;
        sigset_t pipe_set, old, pending;
        bool was_pending;
        int r = 0;

        if (p->to_child < 0)
                return -EBADF;
        /* A child that has gone is EPIPE here, not a SIGPIPE that kills a
         * caller that did not ignore it (lua5.4): blocked for the write, and
         * the one the write raised taken back. */
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        was_pending = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        while (len) {
                ssize_t n = write(p->to_child, b, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                b += n;
                len -= (size_t)n;
        }
        if (r == -EPIPE && !was_pending) {
                struct timespec zero = { 0, 0 };
                sigtimedwait(&pipe_set, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return r;
}

ssize_t fwsh_proc_recv(struct fwsh_proc *p, void *buf, size_t size, int timeout_ms)
{
        int64_t deadline = fwsh_now_ms() + timeout_ms;
        struct pollfd pfd = { p->from_child, POLLIN, 0 };

        if (p->from_child < 0)
                return -EBADF;
        /* in slices, so that a cancel (Ctrl-C) is seen while the peer is slow */
        for (;;) {
                int64_t left = timeout_ms < 0 ? CANCEL_SLICE_MS : deadline - fwsh_now_ms();
                int r;

                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int)(left < CANCEL_SLICE_MS ? left : CANCEL_SLICE_MS));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0) {
                        ssize_t n = read(p->from_child, buf, size);
                        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
                                return n < 0 ? -errno : n;
                }
                if (cancel_take())
                        return -EINTR;
        }
}

int fwsh_proc_stop(struct fwsh_proc *p, int grace_ms)
{
        int r;

        if (reap(p, false))
                return 0;
        kill(-p->pid, SIGCONT); /* a frozen process cannot act on SIGTERM */
        kill(-p->pid, SIGTERM);
        r = fwsh_proc_wait(p, grace_ms, NULL);
        if (r == 0)
                return 0;
        if (r == -EINTR) { /* cancelled: no more grace */
                kill(-p->pid, SIGKILL);
                reap(p, true);
                return r;
        }
        /* after SIGKILL the wait is short: not to be cancelled, or it would leave a zombie */
        kill(-p->pid, SIGKILL);
        reap(p, true);
        return 0;
}

struct fwsh_proc *fwsh_proc_free(struct fwsh_proc *p)
{
        if (!p)
                return NULL;
        /* Reaped: nothing left to track. */
        return proc_drop(p, (p->pid ? 0 : registry_remove(p)) + 1);
}

int fwsh_proc_stop_lab(const char *lab, int grace_ms)
{
        int64_t deadline;
        int n = 0;

        for (struct fwsh_proc *p = registry; p; p = p->next) {
                if (!p->pid || (lab && strcmp(lab, p->lab) != 0))
                        continue;
                kill(-p->pid, SIGCONT);
                kill(-p->pid, SIGTERM);
        }
        deadline = fwsh_now_ms() + grace_ms;
        for (struct fwsh_proc *p = registry; p; p = p->next) {
                int64_t left = deadline - fwsh_now_ms();
                if (!p->pid || (lab && strcmp(lab, p->lab) != 0))
                        continue;
                if (fwsh_proc_wait(p, left > 0 ? (int)left : 0, NULL) < 0) {
                        kill(-p->pid, SIGKILL);
                        reap(p, true);
                }
                n++;
        }
        /* Drop what nobody else holds. */
        for (struct fwsh_proc **pp = &registry; *pp;) {
                struct fwsh_proc *p = *pp;
                if (!p->pid && p->refs == 1) {
                        *pp = p->next;
                        proc_drop(p, 1);
                } else {
                        pp = &p->next;
                }
        }
        return n;
}

/* Appends what fd has to *buf; 0 at end of file, 1 if more may come, -errno. */
static int drain(int fd, char **buf, size_t *len, size_t *cap)
{
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : -errno;
        if (n == 0)
                return 0;
        if (*len + (size_t)n + 1 > *cap) {
                size_t ncap = (*cap ? *cap * 2 : 8192) + (size_t)n;
                char *nb = realloc(*buf, ncap);
                if (!nb)
                        return -ENOMEM;
                *buf = nb;
                *cap = ncap;
        }
        memcpy(*buf + *len, chunk, (size_t)n);
        *len += (size_t)n;
        (*buf)[*len] = '\0';
        return 1;
}

int fwsh_proc_run(struct fwsh_ctx *ctx, const struct fwsh_proc_spec *spec, int timeout_ms,
                  struct fwsh_proc_result *ret)
{
        struct fwsh_proc_result res = { 0 };
        size_t cap[2] = { 0, 0 };
        struct fwsh_proc *p = NULL;
        int out[2], err[2], r;
        int64_t deadline = fwsh_now_ms() + timeout_ms;
        struct pollfd pfd[2];

        ctx_clear(ctx);
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                close(out[0]);
                close(out[1]);
                return r;
        }
        r = start(ctx, spec, out, err, &p);
        close(out[1]);
        close(err[1]);
        pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
        while (r == 0 && (pfd[0].fd >= 0 || pfd[1].fd >= 0)) {
                int64_t left = timeout_ms < 0 ? -1 : deadline - fwsh_now_ms();
                if (timeout_ms >= 0 && left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (cancel_take()) {
                        r = -EINTR;
                        break;
                }
                if (left < 0 || left > CANCEL_SLICE_MS)
                        left = CANCEL_SLICE_MS;
                if (poll(pfd, 2, (int)left) < 0) {
                        if (errno != EINTR)
                                r = -errno;
                        continue;
                }
                for (int i = 0; i < 2 && r == 0; i++) {
                        int d;
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        d = drain(pfd[i].fd, i ? &res.err : &res.out, i ? &res.err_len : &res.out_len,
                                  &cap[i]);
                        if (d < 0)
                                r = d;
                        else if (d == 0)
                                pfd[i].fd = -1;
                }
        }
        close(out[0]);
        close(err[0]);
        if (p) {
                if (r == 0) {
                        int left = timeout_ms < 0 ? -1 : (int)(deadline - fwsh_now_ms());
                        r = fwsh_proc_wait(p, timeout_ms < 0 ? -1 : (left > 0 ? left : 0),
                                           &res.status);
                }
                if (r < 0) {
                        kill(-p->pid, SIGKILL);
                        reap(p, true);
                }
                proc_drop(p, registry_remove(p) + 1);
        }
        if (r < 0) {
                free(res.out);
                free(res.err);
                if (r == -ETIMEDOUT)
                        return ctx_fail(ctx, r, "%s still running after %d ms: killed", spec->argv[0],
                                        timeout_ms);
                if (r == -EINTR)
                        return ctx_fail(ctx, r, "%s killed: the wait was interrupted", spec->argv[0]);
                return r;
        }
        *ret = res;
        return 0;
}

void fwsh_proc_result_clear(struct fwsh_proc_result *res)
{
        free(res->out);
        free(res->err);
        memset(res, 0, sizeof(*res));
}

/* The caller's children that the registry does not track (of process group
 * pgid only, if > 0; if adopted, only those that have ended and are not of
 * the caller's own process group), into pids (at most max of them); how many. */
static size_t untracked_children(pid_t pgid, bool adopted, pid_t *pids, size_t max)
{
        pid_t self = getpid(), own_group = getpgrp();
        siginfo_t si = { 0 };
        struct dirent *e;
        size_t n = 0;
        DIR *d;

        /* No child at all, running or not (most runs), or none ended when
         * only those are asked for: no walk over every process of the
         * machine. WNOWAIT: a child's status stays its own. */
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
                return 0;
        if (adopted && si.si_pid == 0)
                return 0;
        if (!(d = opendir("/proc")))
                return 0;
        while (n < max && (e = readdir(d))) {
                char path[64], buf[512], *close_paren;
                long pid = strtol(e->d_name, NULL, 10), ppid, group;
                bool tracked = false;
                char state;
                ssize_t len;
                int fd;

                if (pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
                if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                        continue;
                len = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (len <= 0)
                        continue;
                buf[len] = '\0';
                /* "PID (COMM) STATE PPID ...": COMM may hold anything, ')' too */
                if (!(close_paren = strrchr(buf, ')')) ||
                    sscanf(close_paren + 1, " %c %ld %ld", &state, &ppid, &group) != 3 || ppid != self ||
                    (pgid > 0 && group != pgid) || (adopted && (state != 'Z' || group == own_group)))
                        continue;
                for (struct fwsh_proc *p = registry; p && !tracked; p = p->next)
                        tracked = p->pid == (pid_t)pid;
                if (!tracked)
                        pids[n++] = (pid_t)pid;
        }
        closedir(d);
        return n;
}

int fwsh_proc_reap_orphans(int timeout_ms)
{
        int64_t deadline = fwsh_now_ms() + timeout_ms;
        int count = 0;

        for (;;) {
                pid_t pids[256];
                size_t n = untracked_children(0, false, pids, FWSH_N(pids));

                if (n == 0)
                        return count;
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], SIGKILL);
                for (size_t i = 0; i < n; i++) {
                        pid_t r;
                        while ((r = waitpid(pids[i], NULL, WNOHANG)) == 0 && fwsh_now_ms() < deadline) {
                                struct timespec ts = { 0, 2 * 1000000L };
                                nanosleep(&ts, NULL);
                        }
                        if (r == pids[i])
                                count++;
                }
                if (fwsh_now_ms() >= deadline)
                        return -ETIMEDOUT;
        }
}

/* Reaps the members of process group pgid (SIGKILLed: they end at once) that
 * became the caller's children when their parent died: only where the caller
 * is their subreaper; elsewhere init has them. Waits 1 s at most. */
static void reap_group(pid_t pgid)
{
        int64_t deadline = fwsh_now_ms() + 1000;
        pid_t pids[64];
        size_t n = untracked_children(pgid, false, pids, FWSH_N(pids));

        for (size_t i = 0; i < n; i++)
                while (waitpid(pids[i], NULL, WNOHANG) == 0 && fwsh_now_ms() < deadline) {
                        struct timespec ts = { 0, 1000000L };
                        nanosleep(&ts, NULL);
                }
}

/* Reaps the children the caller adopted as their subreaper that have ended
 * since: what a lab's process forked and left (keepalived's notify command,
 * still running when keepalived was killed) ends later, as the caller's
 * child, and stays a zombie until waited for; the program's end is too late
 * for a lab that runs for hours. Only the ended, untracked ones outside the
 * caller's own process group: a child the caller forked itself (io.popen's,
 * a pager) is in that group, and its status is its waiter's. */
static void reap_adopted(void)
{
        pid_t pids[256];
        size_t n = untracked_children(0, true, pids, FWSH_N(pids));

        for (size_t i = 0; i < n; i++)
                waitpid(pids[i], NULL, WNOHANG);
}
