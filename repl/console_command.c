/* console_command.c - `fwsh console LAB NODE [-- CMD ARGS...]`: a terminal
 * inside a lab's node, found by the lab's tag, not by hunting for it. A
 * namespace node (the lab's tag on its lo): the user's shell ($SHELL, else
 * /bin/sh) in its network namespace, or CMD there. A VM node (its sockets in
 * one of the lab's tagged state directories): its serial console, raw, until
 * Ctrl-] (from a pipe: the input sent, the answer read until it pauses), or
 * CMD run by its agent; --display: the address of its display, if it has
 * one. It works for as long as the lab is up. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwsh.h"
#include "base/clock.h"
#include "repl.h"

static int usage(void)
{
        fputs("usage: fwsh console LAB NODE [-- CMD ARGS...]\n"
              "       fwsh console LAB NODE --display\n", stderr);
        return 2;
}

/* --display: the address of a VM node's display, as the lab wrote it. */
static int display(struct fwsh_ctx *ctx, const char *lab, const char *node)
{
        char name[FWSH_NETNS_NAME_MAX + 16], path[PATH_MAX], line[PATH_MAX + 32];
        FILE *f;

        snprintf(name, sizeof(name), "%s.display", node);
        if (fwsh_lab_dir_find(ctx, lab, name, path, sizeof(path)) < 0) {
                fprintf(stderr, "fwsh console %s %s --display: no display (a VM node has one when its lab "
                        "asks for it: display = \"vnc\" or \"spice\", --display vnc|spice)\n", lab, node);
                return 1;
        }
        f = fopen(path, "r");
        if (!f || !fgets(line, sizeof(line), f)) {
                fprintf(stderr, "fwsh console %s %s --display: %s: %s\n", lab, node, path,
                        f ? "empty" : strerror(errno));
                if (f)
                        fclose(f);
                return 1;
        }
        fclose(f);
        fputs(line, stdout);
        return 0;
}

#define DETACH 0x1d /* Ctrl-] */

/* Copies what arrives on from to to; -1 at the end or on an error, else the
 * bytes copied (to the detach key, if seen: *detach set). */
static ssize_t relay(int from, int to, bool watch, bool *detach)
{
        char buf[4096];
        ssize_t n = read(from, buf, sizeof(buf)), len;

        if (n <= 0)
                return -1;
        len = n;
        if (watch) {
                char *k = memchr(buf, DETACH, (size_t)n);
                if (k) {
                        len = k - buf;
                        *detach = true;
                }
        }
        if (len > 0 && write(to, buf, (size_t)len) != len)
                return -1;
        return len;
}

/* The serial console on the unix socket path: raw on a terminal until the
 * detach key or the VM's end; from a pipe, the input and then the answer
 * until it pauses for a second (10 s at most). */
static int serial(const char *path, const char *lab, const char *node)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        bool tty = isatty(STDIN_FILENO), detach = false, in_open = true;
        struct termios saved, raw;
        int64_t deadline = 0;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(path) >= sizeof(a.sun_path)) {
                fprintf(stderr, "fwsh console %s %s: %s: %s\n", lab, node, path,
                        fd < 0 ? strerror(errno) : "too long for a socket's path");
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        memcpy(a.sun_path, path, strlen(path) + 1);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fprintf(stderr, "fwsh console %s %s: %s: %s\n", lab, node, path, strerror(errno));
                close(fd);
                return 1;
        }
        if (tty) {
                fprintf(stderr, "fwsh: serial console of VM %s of lab %s; Ctrl-] leaves\r\n", node, lab);
                tcgetattr(STDIN_FILENO, &saved);
                raw = saved;
                cfmakeraw(&raw);
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        while (!detach) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
                                       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
                int64_t left = deadline - fwsh_now_ms();
                int wait = in_open ? -1 : (int)(left > 1000 ? 1000 : left);
                if (!in_open && wait <= 0)
                        break;
                if (poll(p, 2, wait) <= 0) {
                        if (!in_open)
                                break; /* the answer paused */
                        continue;
                }
                if (p[0].revents && relay(fd, STDOUT_FILENO, false, &detach) < 0)
                        break; /* the VM went away */
                if (p[1].revents && relay(STDIN_FILENO, fd, tty, &detach) < 0) {
                        in_open = false; /* end of the piped input: read the answer */
                        deadline = fwsh_now_ms() + 10000;
                }
        }
        if (tty) {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
                fputs("\n", stderr);
        }
        close(fd);
        return 0;
}

/* A VM node of lab: CMD through its agent, or its serial console. -ENOENT
 * if the lab has no VM of that name. */
static int vm_console(struct fwsh_ctx *ctx, const char *lab, const char *node, int argc, char **argv)
{
        char name[FWSH_NETNS_NAME_MAX + 16], path[PATH_MAX];

        snprintf(name, sizeof(name), "%s.%s", node, argc > 4 ? "agent" : "console");
        if (fwsh_lab_dir_find(ctx, lab, name, path, sizeof(path)) < 0)
                return -ENOENT;
        if (argc <= 4)
                return serial(path, lab, node);
        {
                char tool[PATH_MAX];
                char **args = calloc((size_t)argc + 2, sizeof(*args));
                if (!args)
                        return 1;
                snprintf(tool, sizeof(tool), "%s/fwsh-guest", fwsh_tools_dir());
                args[0] = tool;
                args[1] = path;
                args[2] = (char *)"run";
                for (int i = 4; i < argc; i++)
                        args[i - 1] = argv[i];
                execv(tool, args);
                fprintf(stderr, "fwsh console %s %s: %s: %s\n", lab, node, tool, strerror(errno));
                free(args);
                return 127;
        }
}

int console_command(struct fwsh_ctx *ctx, int argc, char **argv)
{
        char owner[FWSH_LAB_MAX + 1];
        const char *lab, *node, *shell;
        int r, fd, saved;

        bool want_display = argc == 4 && strcmp(argv[3], "--display") == 0;

        if (argc < 3 || (argc > 3 && !want_display && (strcmp(argv[3], "--") != 0 || argc == 4)))
                return usage();
        lab = argv[1];
        node = argv[2];
        if (fwsh_ctx_set_lab(ctx, lab) < 0) {
                fprintf(stderr, "fwsh console: lab %s: %s\n", lab, fwsh_ctx_detail(ctx));
                return 1;
        }
        if (fwsh_netns_check(ctx, node) < 0) {
                fprintf(stderr, "fwsh console: node %s: %s\n", node, fwsh_ctx_detail(ctx));
                return 1;
        }
        if (want_display)
                return display(ctx, lab, node);
        r = fwsh_lab_netns_owner(ctx, node, owner, sizeof(owner));
        if (r == -ENOENT && (r = vm_console(ctx, lab, node, argc, argv)) != -ENOENT)
                return r;
        if (r == -ENOENT || (r == 0 && strcmp(owner, lab) != 0)) {
                fprintf(stderr, "fwsh console: lab %s has no node %s (%s)\n", lab, node,
                        r == -ENOENT ? "no namespace and no VM of that name here"
                        : owner[0] ? "that namespace is another lab's" : "that namespace is no lab's");
                return 1;
        }
        if (r == 0)
                r = fwsh_netns_open(ctx, node, &fd);
        if (r == 0) {
                r = fwsh_netns_enter(fd, &saved);
                close(fd);
        }
        if (r < 0) {
                fprintf(stderr, "fwsh console %s %s: %s%s\n", lab, node, strerror(-r),
                        r == -EPERM ? " (entering a namespace needs CAP_SYS_ADMIN)" : "");
                return 1;
        }
        close(saved);
        if (argc > 4) {
                execvp(argv[4], argv + 4);
                fprintf(stderr, "fwsh console %s %s: %s: %s\n", lab, node, argv[4], strerror(errno));
                return 127;
        }
        shell = getenv("SHELL");
        if (!shell || !shell[0])
                shell = "/bin/sh";
        if (isatty(STDIN_FILENO)) {
                fprintf(stderr, "fwsh: node %s of lab %s (its network namespace); exit leaves\n", node, lab);
                execl(shell, shell, "-i", (char *)NULL);
        } else {
                execl(shell, shell, (char *)NULL); /* commands from the pipe */
        }
        fprintf(stderr, "fwsh console %s %s: %s: %s\n", lab, node, shell, strerror(errno));
        return 127;
}
