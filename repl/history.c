/* history.c - the shell's history: one entry per statement, a multi-line one
 * kept whole, appended to the file as soon as it ran, so that a shell that
 * is killed loses nothing. The file is $FWSH_HISTORY (empty: none), else
 * ~/.fwsh_history. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readline.h"
#include "repl.h"

#define HISTORY_MAX 1000

static char *path;

static char *history_path(void)
{
        const char *env = getenv("FWSH_HISTORY"), *home = getenv("HOME");
        char *p = NULL;

        if (env)
                return env[0] ? strdup(env) : NULL;
        if (!home || !home[0]) {
                struct passwd *pw = getpwuid(getuid());
                home = pw ? pw->pw_dir : NULL;
        }
        if (home && asprintf(&p, "%s/.fwsh_history", home) < 0)
                p = NULL;
        return p;
}

void repl_history_open(void)
{
        /* Timestamps ("#" and the time, a line of their own) delimit the
         * entries in the file, so that a multi-line statement reads back as one. */
        *sym_history_comment_char = '#';
        *sym_history_write_timestamps = 1;
        *sym_history_multiline_entries = 1;
        path = history_path();
        if (path && sym_read_history(path) == 0)
                sym_history_truncate_file(path, HISTORY_MAX);
        sym_stifle_history(HISTORY_MAX);
}

void repl_history_add(const char *statement)
{
        HIST_ENTRY *last = sym_history_get(*sym_history_base + *sym_history_length - 1);
        int fd;

        if (last && strcmp(last->line, statement) == 0)
                return;
        sym_add_history(statement);
        if (!path)
                return;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); /* append_history needs the file */
        if (fd >= 0) {
                close(fd);
                sym_append_history(1, path);
        }
}

void repl_history_close(void)
{
        sym_clear_history();
        free(path);
        path = NULL;
}
