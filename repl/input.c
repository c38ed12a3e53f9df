/* input.c - lines of input: readline on a terminal, where Ctrl-C at the
 * prompt throws the line away and gives a fresh prompt; plain reads from a
 * pipe. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readline.h"
#include "repl.h"

static volatile sig_atomic_t cancelled;

static void on_sigint(int sig)
{
        (void)sig;
        cancelled = 1;
}

/* readline's own handlers would kill the shell on Ctrl-C: instead the read
 * below sees EINTR, and the line ends as if Enter was pressed, to be thrown
 * away by repl_read_line. A key read just before the signal was handled
 * belongs to the next line: it is kept for it. */
static int getc_or_cancel(FILE *in)
{
        static int kept = EOF;
        unsigned char c;

        for (;;) {
                ssize_t n;

                if (cancelled)
                        return '\n';
                if (kept != EOF) {
                        int k = kept;
                        kept = EOF;
                        return k;
                }
                n = read(fileno(in), &c, 1);
                if (n == 1 && cancelled) {
                        kept = c;
                        return '\n';
                }
                if (n == 1)
                        return c;
                if (n == 0 || errno != EINTR)
                        return EOF;
        }
}

bool repl_input_open(lua_State *L)
{
        struct sigaction sa = { .sa_handler = on_sigint }; /* no SA_RESTART: read sees EINTR */

        if (repl_readline_load() < 0)
                return false;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        *sym_rl_readline_name = "fwsh";
        *sym_rl_catch_signals = 0;
        *sym_rl_getc_function = getc_or_cancel;
        repl_history_open();
        repl_complete_open(L);
        return true;
}

void repl_input_close(void)
{
        repl_history_close();
        signal(SIGINT, SIG_DFL);
}

static int read_tty(lua_State *L, const char *prompt)
{
        char *line;

        cancelled = 0;
        line = sym_readline(prompt);
        if (cancelled) {
                free(line);
                return -1;
        }
        if (!line)
                return 0;
        lua_pushstring(L, line);
        free(line);
        return 1;
}

static int read_pipe(lua_State *L)
{
        static char *buf;
        static size_t size;
        ssize_t n = getline(&buf, &size, stdin);

        if (n < 0) {
                free(buf);
                buf = NULL;
                size = 0;
                return 0;
        }
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        lua_pushlstring(L, buf, (size_t)n);
        return 1;
}

int repl_read_line(lua_State *L, bool tty, const char *prompt)
{
        return tty ? read_tty(L, prompt) : read_pipe(L);
}
