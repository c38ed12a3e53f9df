/* notify.c - fwsh-notify: what keepalived runs on a state change, timed.
 *
 *   fwsh-notify LOG EVENT -- ARGV... [-- ARGV...]
 *
 * Runs each command in turn (not through a shell: keepalived gives this
 * program its words as they are) and appends one line to LOG:
 *
 *   EVENT LAUNCHED_MS START_MS END_MS STATUS [END_MS STATUS ...]
 *
 * times in milliseconds on CLOCK_MONOTONIC (the clock fwsh.proc.clock reads,
 * the same in every namespace), STATUS each command's exit status (-SIG if a
 * signal ended it, 127 if it could not be run). keepalived does not wait for
 * one notification's command before it runs the next: a short master-backup
 * flap at start ran a backup's commands while the master's still ran, and
 * left the gate open on a backup. So each run holds an exclusive lock on LOG
 * from before its first command to after its line: notifications run one at
 * a time, in the order they took the lock (START_MS: when this one got it,
 * LAUNCHED_MS: when keepalived started it). Used for the new master's
 * `conntrackd -c`: how long the commit took is what the RST window lasts.
 * A command that fails does not stop the next (the ruleset's flag must flip
 * even if the commit failed: the window would never close otherwise); the
 * exit status is the first non-zero one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"

static int run(char **argv)
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return 127;
        if (pid == 0) {
                execvp(argv[0], argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 127;
        if (WIFSIGNALED(status))
                return -WTERMSIG(status);
        return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
        char line[1024];
        int len, fd, first = 0;

        if (argc < 5 || strcmp(argv[3], "--") != 0 || argv[4][0] == '\0') {
                fprintf(stderr, "usage: fwsh-notify LOG EVENT -- ARGV... [-- ARGV...]\n");
                return 2;
        }
        double launched = fwsh_now_msf();
        fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                perror("fwsh-notify");
                return 1;
        }
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        perror("fwsh-notify: flock");
                        return 1;
                }
        len = snprintf(line, sizeof line, "%s %.3f %.3f", argv[2], launched, fwsh_now_msf());
        for (int i = 4; i < argc;) {
                int end = i;
                while (end < argc && strcmp(argv[end], "--") != 0)
                        end++;
                argv[end < argc ? end : argc] = NULL;
                int rc = end > i ? run(argv + i) : 127;
                if (rc != 0 && first == 0)
                        first = rc;
                if (len < (int)sizeof line)
                        len += snprintf(line + len, sizeof line - (size_t)len, " %.3f %d", fwsh_now_msf(), rc);
                i = end + 1;
        }
        if (len >= (int)sizeof line - 1)
                len = (int)sizeof line - 2;
        line[len++] = '\n';
        if (write(fd, line, (size_t)len) != len) {
                perror("fwsh-notify");
                return 1;
        }
        close(fd);
        return first < 0 ? 128 - first : first;
}
