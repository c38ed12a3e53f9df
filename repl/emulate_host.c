/* emulate_host.c - fwsh --netns NS emulate-host DIR PROGRAM [ARGS...]: runs
 * PROGRAM (an sshd, for fwsh.hosts.emulate) as the only program of a host
 * made of the namespace NS: a mount namespace of its own, with a /run of its
 * own (an empty tmpfs: /run/netns for the namespaces its labs make,
 * /run/fwsh/labs for their state directories, /run/sshd for sshd's
 * privilege separation), an empty home for root, and DIR (its sshd's keys and configuration) at
 * /run/fwsh/host. Two such hosts on one machine do not see each other's
 * namespaces, labs or state: as two machines would not. PROGRAM is the
 * first process of a PID namespace of its own, so that when it ends (or
 * this process is killed), every process of the host ends with it, its ssh
 * sessions and what they started among them: a host switched off. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwsh.h"
#include "repl.h"

static int make_mounts(int dirfd, const char **step);

static int make_run(const char *dir, const char **step)
{
        int dirfd, r;

        *step = "unshare(CLONE_NEWNS)";
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        *step = "making / a private mount";
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        /* opened in this mount namespace, so that it can be bound in it */
        *step = dir;
        if ((dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -errno;
        r = make_mounts(dirfd, step);
        close(dirfd);
        return r;
}

static int make_mounts(int dirfd, const char **step)
{
        static const char *const dirs[] = { "/run/sshd", "/run/netns", "/run/fwsh", "/run/fwsh/labs",
                                            "/run/fwsh/host", "/run/fwsh/root" };
        char self[64];

        *step = "mounting sysfs";
        if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        *step = "mounting a tmpfs on /run";
        if (mount("fwsh-host", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") < 0)
                return -errno;
        for (size_t i = 0; i < FWSH_N(dirs); i++) {
                *step = dirs[i];
                if (mkdir(dirs[i], 0755) < 0)
                        return -errno;
        }
        *step = "binding DIR at /run/fwsh/host";
        snprintf(self, sizeof(self), "/proc/self/fd/%d", dirfd);
        if (mount(self, "/run/fwsh/host", NULL, MS_BIND, NULL) < 0)
                return -errno;
        /* root's home of its own, empty: a fresh host's (and no shell start-up
         * files of this machine's to run at every ssh session) */
        *step = "binding an empty /root";
        if (mount("/run/fwsh/root", "/root", NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static volatile pid_t host_pid1;

/* What this process gets (fwsh.proc.stop's SIGTERM), the host's first process
 * gets: it ends, and this one reaps it before it ends itself. */
static void forward(int sig)
{
        if (host_pid1 > 0)
                kill(host_pid1, sig);
}

int emulate_host_command(struct fwsh_ctx *ctx, int argc, char **argv)
{
        const char *step = "";
        int r;

        (void)ctx;
        if (argc < 3 || argv[1][0] != '/') {
                fputs("usage: fwsh --netns NS emulate-host DIR PROGRAM [ARGS...] (DIR absolute)\n", stderr);
                return 2;
        }
        r = make_run(argv[1], &step);
        if (r < 0) {
                fprintf(stderr, "fwsh emulate-host: %s: %s (needs CAP_SYS_ADMIN)\n", step, strerror(-r));
                return 1;
        }
        setenv("FWSH_LAB_ROOT", "/run/fwsh/labs", 1);
        if (unshare(CLONE_NEWPID) < 0) {
                fprintf(stderr, "fwsh emulate-host: unshare(CLONE_NEWPID): %s\n", strerror(errno));
                return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                fprintf(stderr, "fwsh emulate-host: fork: %s\n", strerror(errno));
                return 1;
        }
        if (pid == 0) {
                /* PID 1 of the host: it goes when this process goes */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        fprintf(stderr, "fwsh emulate-host: mounting /proc: %s\n", strerror(errno));
                execvp(argv[2], argv + 2);
                fprintf(stderr, "fwsh emulate-host: %s: %s\n", argv[2], strerror(errno));
                _exit(127);
        }
        host_pid1 = pid;
        struct sigaction sa = { .sa_handler = forward };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        for (;;) {
                int status;
                if (waitpid(pid, &status, 0) == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (errno != EINTR)
                        return 1;
        }
}
