/* commands.c - fwsh's subcommands: `fwsh labs`, `fwsh down LAB`, `fwsh
 * console LAB NODE` (console_command.c), `fwsh capture LINK`
 * (capture_command.c). A word is a
 * subcommand only when no file of that name exists, so a script called
 * "down" still runs as a script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwsh.h"
#include "repl.h"

static int fail(struct fwsh_ctx *ctx, int r, const char *what)
{
        const char *d = fwsh_ctx_detail(ctx);

        fprintf(stderr, "fwsh: %s: %s%s%s\n", what, strerror(-r), d[0] ? ": " : "", d);
        return 1;
}

/* fwsh labs: each lab with what it has here. */
static int cmd_labs(struct fwsh_ctx *ctx, int argc, char **argv)
{
        struct fwsh_lab *labs = NULL;
        size_t n = 0;
        int r;

        (void)argv;
        if (argc != 1) {
                fputs("usage: fwsh labs\n", stderr);
                return 2;
        }
        r = fwsh_lab_list(ctx, &labs, &n);
        if (r < 0)
                return fail(ctx, r, "labs");
        if (n)
                printf("%-32s %6s %6s\n", "LAB", "LINKS", "NETNS");
        for (size_t i = 0; i < n; i++)
                printf("%-32s %6u %6u\n", labs[i].name, labs[i].links, labs[i].netns);
        free(labs);
        return 0;
}

/* fwsh down LAB...: removes what each lab made, found by its tag. */
static int cmd_down(struct fwsh_ctx *ctx, int argc, char **argv)
{
        int status = 0;

        if (argc < 2) {
                fputs("usage: fwsh down LAB...\n", stderr);
                return 2;
        }
        for (int i = 1; i < argc; i++)
                if (argv[i][0] == '-') {
                        fprintf(stderr, "fwsh down: unknown option %s\nusage: fwsh down LAB...\n", argv[i]);
                        return 2;
                }
        for (int i = 1; i < argc; i++) {
                struct fwsh_lab done;
                int r = fwsh_ctx_set_lab(ctx, argv[i]);

                if (r == 0)
                        r = fwsh_lab_down(ctx, argv[i], &done);
                if (r < 0 && argv[i][0] == '\0') {
                        fputs("fwsh down: empty lab name\n", stderr);
                        status = 1;
                        continue;
                }
                if (r < 0) {
                        status = fail(ctx, r, argv[i]);
                        continue;
                }
                printf("%s: %s %u links, %u namespaces", argv[i],
                       fwsh_ctx_planned(ctx) ? "would remove" : "removed", done.links, done.netns);
                if (done.dirs) /* state directories a killed lab script left */
                        printf(", %u director%s", done.dirs, done.dirs == 1 ? "y" : "ies");
                putchar('\n');
        }
        return status;
}

static const struct {
        const char *name;
        int (*run)(struct fwsh_ctx *ctx, int argc, char **argv);
} commands[] = {
        { "labs", cmd_labs },
        { "down", cmd_down },
        { "console", console_command },
        { "capture", capture_command },
        { "emulate-host", emulate_host_command },
};

int command_find(const char *word)
{
        if (access(word, F_OK) == 0)
                return -1;
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(word, commands[i].name) == 0)
                        return (int)i;
        return -1;
}

static void print_lines(void *arg, const char *lines)
{
        (void)arg;
        printf("%s\n", lines);
        fflush(stdout);
}

int command_run(int which, int argc, char **argv, bool plan, bool explain)
{
        struct fwsh_ctx *ctx = NULL;
        int r = fwsh_ctx_open(&ctx);

        /* As a script's changes: `fwsh --dry-run down LAB` prints what it
         * would remove, and removes nothing. */
        if (r == 0 && plan)
                r = fwsh_ctx_plan(ctx, NULL, false);
        if (r < 0) {
                fwsh_ctx_unref(ctx);
                return fail(NULL, r, "netlink");
        }
        if (plan || explain)
                fwsh_ctx_set_explain(ctx, print_lines, NULL);
        r = commands[which].run(ctx, argc, argv);
        fwsh_ctx_unref(ctx);
        return r;
}
