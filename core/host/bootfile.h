/* bootfile.h - what the boot persistence files share (bootfile.c,
 * modules_load.c, grub_cmdline.c, bootconf.c, grub_regen.c), and nothing
 * outside them sees: text buffers, files inside a root replaced atomically,
 * and the parsed GRUB_CMDLINE_LINUX assignment. */
#ifndef FWSH_BOOTFILE_H
#define FWSH_BOOTFILE_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "internal.h"

#define MODULES_LOAD_DIR "etc/modules-load.d"
#define MODULES_LOAD_FILE "fwsh.conf"
#define MODULES_LOAD_HEADER "# Modules to load at boot, written by fwsh. See modules-load.d(5).\n"
#define GRUB_DIR "etc/default"
#define GRUB_FILE "grub"
#define STATE_DIR "var/lib/fwsh"
#define STATE_FILE "grub-cmdline"
#define STATE_HEADER "# What fwsh added to GRUB_CMDLINE_LINUX in /etc/default/grub, so that\n" \
                     "# fwsh.boot.remove takes out that and nothing else.\n"
#define CMDLINE_VAR "GRUB_CMDLINE_LINUX"
#define DRIVER_PRE "rd.driver.pre="
#define FILE_MAX (1 << 20)
#define OUTPUT_MAX (1 << 20)
#define MODULE_NAME_MAX 55

struct text {
        char *p;
        size_t len, cap;
};

struct place {
        int rootfd;
        char root[PATH_MAX];   /* "" for "/": paths are shown as root + "/etc/..." */
};

/* The last assignment to GRUB_CMDLINE_LINUX at the start of a line. */
struct assign {
        bool found;
        size_t line;       /* start of its line */
        size_t end;        /* just past the value, closing quote included */
        size_t eol;        /* just past the line's '\n', or the end of the file */
        size_t v0, v1;     /* the value, quotes excluded */
        char quote;        /* '"', '\'' or 0 */
        bool plain;        /* one quoted string or one plain word, nothing glued on */
};

/* What fwsh added, as ROOT/var/lib/fwsh/grub-cmdline records it. */
struct record {
        char **modules;
        size_t n;
        bool option;   /* fwsh added the rd.driver.pre= option */
        bool quotes;   /* fwsh put double quotes around a plain word */
        bool line;     /* fwsh added the GRUB_CMDLINE_LINUX line */
        bool eol;      /* ... and a '\n' before it, the file lacking one at its end */
};

int text_add(struct text *t, const char *s, size_t n);
int text_adds(struct text *t, const char *s);
void text_free(struct text *t);
bool same_module(const char *a, size_t alen, const char *b);
bool strv_has(char *const *v, size_t n, const char *s, size_t len);
int check_modules(struct fwsh_ctx *ctx, const char *const *modules, size_t n);
int open_in_root(int rootfd, const char *rel, int flags);
int place_open(struct fwsh_ctx *ctx, const char *root, struct place *pl);
void place_close(struct place *pl);
char *place_shown(const struct place *pl, const char *rel);
int dir_open(struct fwsh_ctx *ctx, const struct place *pl, const char *rel, bool create,
                    int *ret_fd);
int file_read(int dirfd, const char *name, struct text *ret, struct stat *ret_st);
int read_fail(struct fwsh_ctx *ctx, const char *path, int r);
int file_write(struct fwsh_ctx *ctx, int dirfd, const char *name, const char *path,
                      const char *data, size_t len, mode_t mode, const struct stat *old);
int file_remove(struct fwsh_ctx *ctx, int dirfd, const char *name, const char *path);
void file_clear(struct fwsh_boot_file *f);
int file_note(struct fwsh_boot_file *f, bool changed, const char *m, size_t len);
int modules_load_persist(struct fwsh_ctx *ctx, const struct place *pl,
                                const char *const *modules, size_t n, struct fwsh_boot_file *f);
int modules_load_remove(struct fwsh_ctx *ctx, const struct place *pl,
                               const char *const *modules, size_t n, struct fwsh_boot_file *f);
int grub_persist(struct fwsh_ctx *ctx, const struct place *pl, const char *const *modules,
                        size_t n, struct fwsh_boot_file *f);
int grub_remove(struct fwsh_ctx *ctx, const struct place *pl, const char *const *modules,
                       size_t n, struct fwsh_boot_file *f);
int record_read(struct fwsh_ctx *ctx, const struct place *pl, struct record *rec);
void record_free(struct record *rec);
int find_assign(const char *s, size_t len, struct assign *ret);
int value_modules(const char *s, const struct assign *a, char ***v, size_t *n);

/* Calls fn for each module line of a modules-load.d file: the line's bounds
 * (start, past its '\n') and the name in it. */
struct conf_line {
        size_t start, end;
        const char *name;
        size_t len;       /* 0: a comment or blank line */
};
bool conf_next(const struct text *t, size_t *pos, struct conf_line *l);

#endif
