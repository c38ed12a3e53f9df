/* readline.h - GNU readline through pointers: repl/readline.c loads the
 * library when the shell starts on a terminal. Call sym_readline(...), read
 * and write *sym_rl_point; the library's headers give each pointer its type. */
#ifndef FWSH_REPL_READLINE_H
#define FWSH_REPL_READLINE_H

#include <stdio.h>

#include <readline/history.h>
#include <readline/readline.h>

#define READLINE_SYMBOLS(X)                                                              \
        X(readline) X(add_history) X(read_history) X(append_history)                     \
        X(history_truncate_file) X(stifle_history) X(clear_history) X(history_get)       \
        X(rl_line_buffer) X(rl_point) X(rl_attempted_completion_over)                    \
        X(rl_completion_append_character) X(rl_completer_word_break_characters)          \
        X(rl_completion_word_break_hook) X(rl_attempted_completion_function)             \
        X(rl_readline_name) X(rl_catch_signals) X(rl_getc_function)                      \
        X(history_comment_char) X(history_write_timestamps) X(history_multiline_entries) \
        X(history_base) X(history_length)

#define READLINE_DECLARE(s) extern __typeof__(s) *sym_##s;
READLINE_SYMBOLS(READLINE_DECLARE)

/* Loads libreadline (once) and fills every sym_ pointer: 0, or -1 after
 * saying on stderr why the shell goes on without line editing. */
int repl_readline_load(void);

#endif
