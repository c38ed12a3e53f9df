/* console_command.c - `fwsh console LAB NODE [-- CMD ARGS...]`: a terminal
 * inside a lab's node, found by the lab's tag, not by hunting for it. A
 * namespace node (the lab's tag on its lo): the user's shell ($SHELL, else
 * /bin/sh) in its network namespace, or CMD there. It works for as long as
 * the lab is up, whatever became of the script that built it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwsh.h"
#include "repl.h"

static int usage(void)
{
        fputs("usage: fwsh console LAB NODE [-- CMD ARGS...]\n", stderr);
        return 2;
}

int console_command(struct fwsh_ctx *ctx, int argc, char **argv)
{
        char owner[FWSH_LAB_MAX + 1];
        const char *lab, *node, *shell;
        int r, fd, saved;

        if (argc < 3 || (argc > 3 && (strcmp(argv[3], "--") != 0 || argc == 4)))
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
        r = fwsh_lab_netns_owner(ctx, node, owner, sizeof(owner));
        if (r == -ENOENT || (r == 0 && strcmp(owner, lab) != 0)) {
                fprintf(stderr, "fwsh console: lab %s has no node %s (%s)\n", lab, node,
                        r == -ENOENT ? "no namespace of that name here"
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
