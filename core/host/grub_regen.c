/* grub_regen.c - regenerating grub.cfg with the distribution's own tool
 * (update-grub or grub-mkconfig), chrooted into root, only when asked;
 * its output and exit status reported. */
#include "bootfile.h"

/* ---- regenerating grub.cfg ------------------------------------------------------------------ */

void fwsh_boot_run_clear(struct fwsh_boot_run *run)
{
        free(run->command);
        free(run->output);
        memset(run, 0, sizeof(*run));
}

static const char *const SEARCH_DIRS[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin",
                                           "/usr/local/sbin", NULL };

/* The tool's path inside root, into path; false if it is in none of them. */
static bool find_tool(const struct place *pl, const char *name, char *path, size_t size)
{
        for (int i = 0; SEARCH_DIRS[i]; i++) {
                char rel[PATH_MAX];
                int fd;

                snprintf(rel, sizeof(rel), "%s/%s", SEARCH_DIRS[i] + 1, name);
                fd = open_in_root(pl->rootfd, rel, O_PATH);
                if (fd >= 0) {
                        struct stat st;
                        bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
                        close(fd);
                        if (ok && snprintf(path, size, "/%s", rel) < (int)size)
                                return true;
                }
        }
        return false;
}

/* fwsh_effect for running argv in root: 1 in a plan (run nothing). */
static int shown(struct fwsh_ctx *ctx, const struct place *pl, const char *const *argv)
{
        struct fwsh_line l = { .len = 0 };

        if (pl->root[0]) {
                fwsh_line_add(&l, "chroot");
                fwsh_line_word(&l, pl->root);
        }
        for (size_t i = 0; argv[i]; i++)
                fwsh_line_word(&l, argv[i]);
        return fwsh_effect_line(ctx, &l);
}

int fwsh_boot_regenerate(struct fwsh_ctx *ctx, const char *root, const char *const *argv,
                         struct fwsh_boot_run *ret)
{
        static const char *const UPDATE_GRUB[] = { "update-grub", NULL };
        const char *mkconfig[] = { "grub-mkconfig", "-o", "/boot/grub/grub.cfg", NULL };
        struct fwsh_boot_run run = { NULL, NULL, -1, 0 };
        struct text cmd = { NULL, 0, 0 }, out = { NULL, 0, 0 };
        struct place pl = { -1, "" };
        char path[PATH_MAX];
        int pipefd[2], errpipe[2], status, child_errno = 0, r = place_open(ctx, root, &pl);
        ssize_t n_err;
        pid_t pid;

        if (r < 0)
                return r;
        if (argv && !argv[0]) {
                place_close(&pl);
                return ctx_fail(ctx, -EINVAL, "an empty command");
        }
        if (!argv) {
                if (find_tool(&pl, "update-grub", path, sizeof(path))) {
                        argv = UPDATE_GRUB;
                } else if (find_tool(&pl, "grub-mkconfig", path, sizeof(path))) {
                        argv = mkconfig;
                } else if (find_tool(&pl, "grub2-mkconfig", path, sizeof(path))) {
                        mkconfig[0] = "grub2-mkconfig";
                        mkconfig[2] = "/boot/grub2/grub.cfg";
                        argv = mkconfig;
                } else {
                        place_close(&pl);
                        return ctx_fail(ctx, -ENOENT, "no update-grub or grub-mkconfig in %s/usr/sbin, "
                                                      "/sbin or /usr/bin", pl.root);
                }
        } else if (strchr(argv[0], '/')) {
                snprintf(path, sizeof(path), "%s", argv[0]);
        } else if (!find_tool(&pl, argv[0], path, sizeof(path))) {
                place_close(&pl);
                return ctx_fail(ctx, -ENOENT, "no %s in %s/usr/sbin, /sbin or /usr/bin", argv[0], pl.root);
        }
        for (int i = 0; r == 0 && argv[i]; i++) {
                r = text_adds(&cmd, i ? " " : "");
                if (r == 0)
                        r = text_adds(&cmd, argv[i]);
        }
        if (r == 0)
                r = text_add(&out, "", 0);
        if (r == 0 && shown(ctx, &pl, argv) > 0) {
                /* A plan: shown as it would run, and taken as run well. */
                run.status = 0;
                place_close(&pl);
                run.command = cmd.p;
                run.output = out.p;
                *ret = run;
                return 0;
        }
        if (r < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
                r = r < 0 ? r : -errno;
                goto fail;
        }
        if (pipe2(errpipe, O_CLOEXEC) < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                r = ctx_fail(ctx, -errno, "fork: %s", strerror(errno));
                close(pipefd[0]);
                close(pipefd[1]);
                close(errpipe[0]);
                close(errpipe[1]);
                goto fail;
        }
        if (pid == 0) {
                /* The child: only async-signal-safe calls from here on. Why
                 * it could not exec goes back through errpipe, which exec
                 * closes when it works. */
                int null = open("/dev/null", O_RDONLY), e;
                if (null >= 0)
                        dup2(null, 0);
                dup2(pipefd[1], 1);
                dup2(pipefd[1], 2);
                if (pl.root[0] && (fchdir(pl.rootfd) < 0 || chroot(".") < 0))
                        e = errno;
                else if (chdir("/") < 0)
                        e = errno;
                else
                        execv(path, (char *const *)argv), e = errno;
                if (write(errpipe[1], &e, sizeof(e)) < 0)
                        _exit(126);
                _exit(127);
        }
        close(pipefd[1]);
        close(errpipe[1]);
        while ((n_err = read(errpipe[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
                ;
        close(errpipe[0]);
        for (;;) {
                char buf[4096];
                ssize_t n = read(pipefd[0], buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (out.len < OUTPUT_MAX && r == 0)   /* keep the start, drain the rest */
                        r = text_add(&out, buf, (size_t)n);
        }
        close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        break;
                }
        if (r < 0)
                goto fail;
        if (n_err == (ssize_t)sizeof(child_errno)) {
                r = ctx_fail(ctx, -child_errno, "cannot run %s%s%s: %s", pl.root,
                             pl.root[0] ? ":" : "", path, strerror(child_errno));
                goto fail;
        }
        if (WIFEXITED(status)) {
                run.status = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                run.signal = WTERMSIG(status);
        }
        place_close(&pl);
        run.command = cmd.p;
        run.output = out.p;
        *ret = run;
        return 0;
fail:
        place_close(&pl);
        text_free(&cmd);
        text_free(&out);
        return r;
}
