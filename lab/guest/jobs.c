/* jobs.c - the processes fwsh-agent starts: run (to its end, output
 * captured, with a deadline) and spawn (in its own session, output to a
 * file), and the reaping that PID 1 owes every orphan. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "agent.h"

#define JOBS 256

/* A spawned process and, once reaped, how it ended. */
static struct job {
        pid_t pid;
        int ended, status;
} jobs[JOBS];

static struct job *job_find(pid_t pid)
{
        for (int i = 0; i < JOBS; i++)
                if (jobs[i].pid == pid)
                        return &jobs[i];
        return NULL;
}

static void job_ended(pid_t pid, int status)
{
        struct job *j = job_find(pid);
        if (j) {
                j->ended = 1;
                j->status = status;
        }
}

void jobs_reap(void)
{
        pid_t pid;
        int status;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                job_ended(pid, status);
}

static void describe(int status, char *buf, size_t len)
{
        if (WIFSIGNALED(status))
                snprintf(buf, len, "signal %d", WTERMSIG(status));
        else
                snprintf(buf, len, "exit %d", WEXITSTATUS(status));
}

void jobs_status(pid_t pid, char *buf, size_t len)
{
        struct job *j;
        jobs_reap();
        j = job_find(pid);
        if (!j)
                snprintf(buf, len, "unknown");
        else if (!j->ended)
                snprintf(buf, len, "running");
        else
                describe(j->status, buf, len);
}

/* In the child: stdin from /dev/null, stdout and stderr to out and err. */
static void child_io(int out, int err)
{
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
                dup2(null, 0);
                close(null);
        }
        dup2(out, 1);
        dup2(err, 2);
}

pid_t jobs_spawn(const char *outfile, char *const argv[], char *err, size_t errlen)
{
        int report[2], fd, e = 0;
        struct job *slot = job_find(0);
        pid_t pid;

        jobs_reap();
        for (int i = 0; !slot && i < JOBS; i++) /* reuse the slot of one that ended */
                if (jobs[i].ended)
                        slot = &jobs[i];
        if (!slot) {
                snprintf(err, errlen, "too many processes (%d)", JOBS);
                return -1;
        }
        fd = strcmp(outfile, "-") ? open(outfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                                  : open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "%s: %s", outfile, strerror(errno));
                return -1;
        }
        if (pipe2(report, O_CLOEXEC) < 0) {
                snprintf(err, errlen, "pipe: %s", strerror(errno));
                close(fd);
                return -1;
        }
        pid = fork();
        if (pid == 0) {
                setsid();
                child_io(fd, fd);
                execvp(argv[0], argv);
                e = errno;
                (void)!write(report[1], &e, sizeof(e));
                _exit(127);
        }
        close(fd);
        close(report[1]);
        if (pid < 0 || read(report[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
                snprintf(err, errlen, "%s: %s", argv[0], strerror(pid < 0 ? errno : e));
                close(report[0]);
                if (pid > 0)
                        waitpid(pid, NULL, 0);
                return -1;
        }
        close(report[0]);
        *slot = (struct job){ .pid = pid };
        return pid;
}

int jobs_run(char *const argv[], int timeout_ms, const struct out *o, char *end, size_t endlen)
{
        int out[2], err[2], status = 0, open_fds = 2;
        int64_t deadline = fwsh_now_ms() + timeout_ms;
        struct pollfd p[2];
        char buf[4096];
        pid_t pid;

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                snprintf(end, endlen, "error pipe: %s", strerror(errno));
                return -1;
        }
        pid = fork();
        if (pid == 0) {
                setsid();
                child_io(out[1], err[1]);
                execvp(argv[0], argv);
                fprintf(stderr, "fwsh-agent: %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        if (pid < 0) {
                snprintf(end, endlen, "error fork: %s", strerror(errno));
                close(out[0]);
                close(err[0]);
                return -1;
        }
        p[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
        p[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
        while (open_fds > 0) {
                int64_t left = deadline - fwsh_now_ms();
                int n = left > 0 ? poll(p, 2, (int)left) : 0;
                if (n == 0)
                        break;
                for (int i = 0; n > 0 && i < 2; i++) {
                        ssize_t r;
                        if (!p[i].revents)
                                continue;
                        r = read(p[i].fd, buf, sizeof(buf));
                        if (r > 0) {
                                o->emit(o->sink, i ? 'e' : 'o', buf, (size_t)r);
                        } else if (r == 0 || errno != EINTR) {
                                p[i].fd = -1;
                                open_fds--;
                        }
                }
        }
        close(out[0]);
        close(err[0]);
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (fwsh_now_ms() >= deadline) {
                        kill(-pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        snprintf(end, endlen, "timeout");
                        return -1;
                }
                usleep(2000);
        }
        describe(status, end, endlen);
        return 0;
}
