/* grub_cmdline.c - rd.driver.pre= in GRUB_CMDLINE_LINUX of /etc/default/grub
 * (for the initramfs, see dracut.cmdline(7)), edited in place: every other
 * option, line and quote kept byte for byte, and a record of what fwsh added,
 * so that removing takes out that and nothing else. */
#include "bootfile.h"

/* ---- GRUB_CMDLINE_LINUX ------------------------------------------------------------------ */

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool ends_word(const char *s, size_t len, size_t i)
{
        return i >= len || is_blank(s[i]) || s[i] == '\n' || s[i] == ';';
}

static int parse_value(const char *s, size_t len, size_t p, struct assign *a)
{
        a->plain = true;
        a->quote = 0;
        if (p < len && (s[p] == '"' || s[p] == '\'')) {
                char q = s[p];
                size_t i = p + 1;
                while (i < len && s[i] != q)
                        i += (q == '"' && s[i] == '\\' && i + 1 < len) ? 2 : 1;
                if (i >= len)
                        return -EINVAL;
                a->quote = q;
                a->v0 = p + 1;
                a->v1 = i;
                a->end = i + 1;
        } else {
                size_t i = p;
                while (!ends_word(s, len, i)) {
                        if (strchr("\"'\\$`", s[i]))
                                a->plain = false;
                        i++;
                }
                a->v0 = p;
                a->v1 = a->end = i;
        }
        if (!ends_word(s, len, a->end))
                a->plain = false;   /* "a"'b', "a"b: more than one piece */
        return 0;
}

int find_assign(const char *s, size_t len, struct assign *ret)
{
        struct assign last = { .found = false };
        size_t i = 0;

        while (i < len) {
                size_t line = i, p = i, name;

                while (p < len && is_blank(s[p]))
                        p++;
                if (len - p > 7 && strncmp(s + p, "export", 6) == 0 && is_blank(s[p + 6]))
                        for (p += 6; p < len && is_blank(s[p]); p++)
                                ;
                name = p;
                while (p < len && (isalnum((unsigned char)s[p]) || s[p] == '_'))
                        p++;
                if (p > name && p < len && s[p] == '=' && !isdigit((unsigned char)s[name])) {
                        bool ours = p - name == strlen(CMDLINE_VAR) &&
                                    strncmp(s + name, CMDLINE_VAR, p - name) == 0;
                        struct assign a = { .found = true, .line = line };
                        if (parse_value(s, len, p + 1, &a) < 0) {
                                if (ours)
                                        return -EINVAL;
                        } else {
                                /* Skip the whole value: it may span lines. */
                                size_t e = a.end;
                                while (e < len && s[e] != '\n')
                                        e++;
                                a.eol = e < len ? e + 1 : len;
                                if (ours)
                                        last = a;
                                i = a.eol;
                                continue;
                        }
                }
                while (i < len && s[i] != '\n')
                        i++;
                if (i < len)
                        i++;
        }
        *ret = last;
        return 0;
}

/* The next blank-separated word of s[*pos, end): its bounds. */
static bool next_word(const char *s, size_t end, size_t *pos, size_t *w0, size_t *w1)
{
        size_t i = *pos;

        while (i < end && (is_blank(s[i]) || s[i] == '\n'))
                i++;
        if (i >= end)
                return false;
        *w0 = i;
        while (i < end && !is_blank(s[i]) && s[i] != '\n')
                i++;
        *w1 = *pos = i;
        return true;
}

static bool is_driver_pre(const char *s, size_t w0, size_t w1)
{
        size_t n = strlen(DRIVER_PRE);
        return w1 - w0 >= n && strncmp(s + w0, DRIVER_PRE, n) == 0;
}

/* Whether module is on any rd.driver.pre= list of the value. */
static bool value_has(const char *s, const struct assign *a, const char *module)
{
        size_t pos = a->v0, w0, w1;

        while (next_word(s, a->v1, &pos, &w0, &w1)) {
                if (!is_driver_pre(s, w0, w1))
                        continue;
                for (size_t i = w0 + strlen(DRIVER_PRE); i <= w1;) {
                        size_t j = i;
                        while (j < w1 && s[j] != ',')
                                j++;
                        if (j > i && same_module(s + i, j - i, module))
                                return true;
                        i = j + 1;
                }
        }
        return false;
}

int value_modules(const char *s, const struct assign *a, char ***v, size_t *n)
{
        size_t pos = a->v0, w0, w1;
        int r = 0;

        while (r == 0 && next_word(s, a->v1, &pos, &w0, &w1)) {
                if (!is_driver_pre(s, w0, w1))
                        continue;
                for (size_t i = w0 + strlen(DRIVER_PRE); r == 0 && i <= w1;) {
                        size_t j = i;
                        while (j < w1 && s[j] != ',')
                                j++;
                        if (j > i)
                                r = strv_push(v, n, s + i, j - i);
                        i = j + 1;
                }
        }
        return r;
}

void record_free(struct record *rec)
{
        fwsh_strv_free(rec->modules, rec->n);
        memset(rec, 0, sizeof(*rec));
}

int record_read(struct fwsh_ctx *ctx, const struct place *pl, struct record *rec)
{
        struct text t = { NULL, 0, 0 };
        struct conf_line l;
        struct stat st;
        size_t pos = 0;
        int dirfd, r = dir_open(NULL, pl, STATE_DIR, false, &dirfd);

        memset(rec, 0, sizeof(*rec));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return ctx_fail(ctx, r, "%s/" STATE_DIR ": %s", pl->root, strerror(-r));
        r = file_read(dirfd, STATE_FILE, &t, &st);
        close(dirfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return ctx_fail(ctx, r, "%s/" STATE_DIR "/" STATE_FILE ": %s", pl->root, strerror(-r));
        while (r == 0 && conf_next(&t, &pos, &l)) {
                if (l.len > 7 && strncmp(l.name, "module ", 7) == 0)
                        r = strv_push(&rec->modules, &rec->n, l.name + 7, l.len - 7);
                else if (l.len == 6 && strncmp(l.name, "option", 6) == 0)
                        rec->option = true;
                else if (l.len == 6 && strncmp(l.name, "quotes", 6) == 0)
                        rec->quotes = true;
                else if (l.len == 4 && strncmp(l.name, "line", 4) == 0)
                        rec->line = true;
                else if (l.len == 3 && strncmp(l.name, "eol", 3) == 0)
                        rec->eol = true;
        }
        text_free(&t);
        if (r < 0)
                record_free(rec);
        return r;
}

/* Writes rec, or removes the file (and fwsh's directory, if empty) when it
 * records nothing. */
static int record_write(struct fwsh_ctx *ctx, const struct place *pl, const struct record *rec)
{
        struct text t = { NULL, 0, 0 };
        char path[PATH_MAX + 64];
        int dirfd, r;

        snprintf(path, sizeof(path), "%s/" STATE_DIR "/" STATE_FILE, pl->root);
        if (rec->n == 0) {
                r = dir_open(NULL, pl, STATE_DIR, false, &dirfd);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return ctx_fail(ctx, r, "%s: %s", path, strerror(-r));
                r = file_remove(ctx, dirfd, STATE_FILE, path);
                close(dirfd);
                if (r == 0) {
                        int parent = open_in_root(pl->rootfd, "var/lib", O_RDONLY | O_DIRECTORY);
                        if (parent >= 0) {
                                unlinkat(parent, "fwsh", AT_REMOVEDIR);   /* only if empty */
                                close(parent);
                        }
                }
                return r;
        }
        r = text_adds(&t, STATE_HEADER);
        for (size_t i = 0; r == 0 && i < rec->n; i++) {
                r = text_adds(&t, "module ");
                if (r == 0)
                        r = text_adds(&t, rec->modules[i]);
                if (r == 0)
                        r = text_adds(&t, "\n");
        }
        if (r == 0 && rec->option)
                r = text_adds(&t, "option\n");
        if (r == 0 && rec->quotes)
                r = text_adds(&t, "quotes\n");
        if (r == 0 && rec->line)
                r = text_adds(&t, "line\n");
        if (r == 0 && rec->eol)
                r = text_adds(&t, "eol\n");
        if (r == 0)
                r = dir_open(ctx, pl, STATE_DIR, true, &dirfd);
        if (r == 0) {
                r = file_write(ctx, dirfd, STATE_FILE, path, t.p, t.len, 0644, NULL);
                close(dirfd);
        }
        text_free(&t);
        return r;
}

static int join(struct text *t, char *const *v, size_t n)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++) {
                if (i > 0)
                        r = text_adds(t, ",");
                if (r == 0)
                        r = text_adds(t, v[i]);
        }
        return r;
}

/* The grub file with the modules in add put on GRUB_CMDLINE_LINUX, into out;
 * what was done besides adding them into rec. */
static int grub_add(struct fwsh_ctx *ctx, const char *path, const struct text *t,
                    const struct assign *a, char *const *add, size_t n, struct text *out,
                    struct record *rec)
{
        const char *s = t->p;
        size_t at, last0 = 0, last1 = 0, pos, w0, w1;
        bool have_list = false;
        int r;

        if (!a->found) {
                bool eol = t->len && s[t->len - 1] != '\n';
                r = text_add(out, s, t->len);
                if (r == 0 && eol)
                        r = text_adds(out, "\n");
                if (r == 0)
                        r = text_adds(out, CMDLINE_VAR "=\"" DRIVER_PRE);
                if (r == 0)
                        r = join(out, add, n);
                if (r == 0)
                        r = text_adds(out, "\"\n");
                rec->line = rec->option = true;
                rec->eol |= eol;
                return r;
        }
        if (!a->plain)
                return ctx_fail(ctx, -EINVAL, "cannot edit " CMDLINE_VAR " in %s: its value is not one "
                                              "quoted string or plain word", path);
        pos = a->v0;
        while (next_word(s, a->v1, &pos, &w0, &w1))
                if (is_driver_pre(s, w0, w1))
                        have_list = true, last0 = w0, last1 = w1;
        if (have_list) {
                /* On the end of the last rd.driver.pre= list there is. */
                at = last1;
                r = text_add(out, s, at);
                if (r == 0 && last1 - last0 > strlen(DRIVER_PRE))
                        r = text_adds(out, ",");
                if (r == 0)
                        r = join(out, add, n);
                if (r == 0)
                        r = text_add(out, s + at, t->len - at);
                return r;
        }
        rec->option = true;
        if (a->quote || a->v0 == a->v1) {
                /* A new option at the end of the value. */
                at = a->v1;
                r = text_add(out, s, at);
                if (r == 0 && a->v1 > a->v0)
                        r = text_adds(out, " ");
        } else {
                /* A plain word gets double quotes, to hold a blank. */
                rec->quotes = true;
                at = a->v1;
                r = text_add(out, s, a->v0);
                if (r == 0)
                        r = text_adds(out, "\"");
                if (r == 0)
                        r = text_add(out, s + a->v0, a->v1 - a->v0);
                if (r == 0)
                        r = text_adds(out, " ");
        }
        if (r == 0)
                r = text_adds(out, DRIVER_PRE);
        if (r == 0)
                r = join(out, add, n);
        if (r == 0 && rec->quotes && !a->quote)
                r = text_adds(out, "\"");
        if (r == 0)
                r = text_add(out, s + at, t->len - at);
        return r;
}

int grub_persist(struct fwsh_ctx *ctx, const struct place *pl, const char *const *modules,
                        size_t n, struct fwsh_boot_file *f)
{
        struct text t = { NULL, 0, 0 }, out = { NULL, 0, 0 };
        struct record rec;
        struct assign a;
        struct stat st;
        int dirfd = -1, r;

        f->path = place_shown(pl, GRUB_DIR "/" GRUB_FILE);
        if (!f->path)
                return -ENOMEM;
        r = dir_open(NULL, pl, GRUB_DIR, false, &dirfd);
        if (r == 0)
                r = file_read(dirfd, GRUB_FILE, &t, &st);
        if (r == -ENOENT) {
                if (dirfd >= 0)
                        close(dirfd);
                return ctx_fail(ctx, r, "no %s: not a system that boots with GRUB", f->path);
        }
        if (r < 0) {
                if (dirfd >= 0)
                        close(dirfd);
                return read_fail(ctx, f->path, r);
        }
        r = record_read(ctx, pl, &rec);
        if (r == 0 && find_assign(t.p, t.len, &a) < 0)
                r = ctx_fail(ctx, -EINVAL, "%s: " CMDLINE_VAR "'s quote is never closed", f->path);
        for (size_t i = 0; r == 0 && i < n; i++) {
                bool there = a.found && value_has(t.p, &a, modules[i]);
                if (strv_has(f->changed_modules, f->n_changed, modules[i], strlen(modules[i])) ||
                    strv_has(f->kept, f->n_kept, modules[i], strlen(modules[i])))
                        continue;   /* named twice */
                r = file_note(f, !there, modules[i], strlen(modules[i]));
        }
        if (r == 0 && f->n_changed) {
                r = grub_add(ctx, f->path, &t, &a, f->changed_modules, f->n_changed, &out, &rec);
                for (size_t i = 0; r == 0 && i < f->n_changed; i++)
                        if (!strv_has(rec.modules, rec.n, f->changed_modules[i], strlen(f->changed_modules[i])))
                                r = strv_push(&rec.modules, &rec.n, f->changed_modules[i],
                                              strlen(f->changed_modules[i]));
                /* The record first: a crash between the two leaves a record of
                 * modules not in the file, which remove skips; never the other way. */
                if (r == 0)
                        r = record_write(ctx, pl, &rec);
                if (r == 0)
                        r = file_write(ctx, dirfd, GRUB_FILE ".bak", f->path, t.p, t.len, st.st_mode, &st);
                if (r == 0)
                        r = file_write(ctx, dirfd, GRUB_FILE, f->path, out.p, out.len, st.st_mode, &st);
                f->changed = r == 0;
        }
        record_free(&rec);
        close(dirfd);
        text_free(&t);
        text_free(&out);
        return r;
}

/* The value of a with the modules in drop taken out of its rd.driver.pre=
 * lists, into nv; an option left empty goes too, with one blank beside it,
 * if fwsh added it (rec->option). */
static int value_drop(const char *s, const struct assign *a, char *const *drop, size_t n,
                      const struct record *rec, struct text *nv, struct fwsh_boot_file *f)
{
        size_t pos = a->v0, w0, w1, copied = a->v0;
        int r = text_add(nv, "", 0);

        while (r == 0 && next_word(s, a->v1, &pos, &w0, &w1)) {
                struct text list = { NULL, 0, 0 };
                bool removed = false;

                if (!is_driver_pre(s, w0, w1))
                        continue;
                r = text_add(&list, "", 0);
                for (size_t i = w0 + strlen(DRIVER_PRE); r == 0 && i <= w1;) {
                        size_t j = i;
                        while (j < w1 && s[j] != ',')
                                j++;
                        if (j > i && strv_has(drop, n, s + i, j - i)) {
                                removed = true;
                                r = file_note(f, true, s + i, j - i);
                        } else if (j > i || j < w1) {
                                if (list.len)
                                        r = text_adds(&list, ",");
                                if (r == 0)
                                        r = text_add(&list, s + i, j - i);
                        }
                        i = j + 1;
                }
                if (r == 0 && removed) {
                        size_t cut0 = w0, cut1 = w1;
                        if (list.len == 0 && rec->option) {
                                /* The blank fwsh put before it, or else the one after. */
                                if (cut0 > a->v0 && is_blank(s[cut0 - 1]))
                                        cut0--;
                                else if (cut1 < a->v1 && is_blank(s[cut1]))
                                        cut1++;
                                r = text_add(nv, s + copied, cut0 - copied);
                        } else {
                                r = text_add(nv, s + copied, w0 - copied);
                                if (r == 0)
                                        r = text_adds(nv, DRIVER_PRE);
                                if (r == 0)
                                        r = text_add(nv, list.p, list.len);
                        }
                        copied = cut1;
                }
                text_free(&list);
        }
        if (r == 0)
                r = text_add(nv, s + copied, a->v1 - copied);
        return r;
}

int grub_remove(struct fwsh_ctx *ctx, const struct place *pl, const char *const *modules,
                       size_t n, struct fwsh_boot_file *f)
{
        struct text t = { NULL, 0, 0 }, out = { NULL, 0, 0 }, nv = { NULL, 0, 0 };
        char **drop = NULL;
        size_t n_drop = 0;
        struct record rec, left = { 0 };
        struct assign a;
        struct stat st;
        int dirfd = -1, r;

        f->path = place_shown(pl, GRUB_DIR "/" GRUB_FILE);
        if (!f->path)
                return -ENOMEM;
        r = record_read(ctx, pl, &rec);
        if (r < 0)
                return r;
        /* Only what fwsh added; the rest of what was asked is left, and said so. */
        for (size_t i = 0; r == 0 && i < (modules ? n : rec.n); i++) {
                const char *m = modules ? modules[i] : rec.modules[i];
                if (!modules || strv_has(rec.modules, rec.n, m, strlen(m)))
                        r = strv_push(&drop, &n_drop, m, strlen(m));
                else
                        r = file_note(f, false, m, strlen(m));
        }
        for (size_t i = 0; r == 0 && i < rec.n; i++)
                if (!strv_has(drop, n_drop, rec.modules[i], strlen(rec.modules[i])))
                        r = strv_push(&left.modules, &left.n, rec.modules[i], strlen(rec.modules[i]));
        if (r < 0 || n_drop == 0)
                goto out;
        r = dir_open(NULL, pl, GRUB_DIR, false, &dirfd);
        if (r == 0)
                r = file_read(dirfd, GRUB_FILE, &t, &st);
        if (r == -ENOENT) {
                r = 0;   /* no file: nothing of fwsh's left in it */
                goto record;
        }
        if (r < 0) {
                r = read_fail(ctx, f->path, r);
                goto out;
        }
        if (find_assign(t.p, t.len, &a) < 0) {
                r = ctx_fail(ctx, -EINVAL, "%s: " CMDLINE_VAR "'s quote is never closed", f->path);
                goto out;
        }
        if (!a.found)
                goto record;
        r = value_drop(t.p, &a, drop, n_drop, &rec, &nv, f);
        if (r < 0 || f->n_changed == 0)
                goto record;
        {
                size_t from = a.v0, to = a.v1;
                bool unquote = rec.quotes && a.quote == '"' && nv.len > 0 &&
                               strcspn(nv.p, " \t\n\"'\\$`;&|<>()#*?[]{}~") == nv.len;
                const char *head = CMDLINE_VAR "=\"";

                if (rec.line && nv.len == 0 && a.quote == '"' && a.v0 - a.line == strlen(head) &&
                    strncmp(t.p + a.line, head, strlen(head)) == 0 && a.eol - a.v1 == 2 &&
                    strncmp(t.p + a.v1, "\"\n", 2) == 0) {
                        /* The line fwsh added, and the '\n' it put before it. */
                        from = a.line;
                        to = a.eol;
                        if (rec.eol && to == t.len && from > 0 && t.p[from - 1] == '\n')
                                from--;
                        nv.len = 0;
                } else if (unquote) {
                        from--;
                        to++;
                }
                r = text_add(&out, t.p, from);
                if (r == 0)
                        r = text_add(&out, nv.p, nv.len);
                if (r == 0)
                        r = text_add(&out, t.p + to, t.len - to);
        }
        if (r == 0)
                r = file_write(ctx, dirfd, GRUB_FILE ".bak", f->path, t.p, t.len, st.st_mode, &st);
        if (r == 0)
                r = file_write(ctx, dirfd, GRUB_FILE, f->path, out.p, out.len, st.st_mode, &st);
        f->changed = r == 0;
record:
        if (r == 0) {
                if (left.n) {
                        left.option = rec.option;
                        left.quotes = rec.quotes;
                        left.line = rec.line;
                        left.eol = rec.eol;
                }
                r = record_write(ctx, pl, &left);
        }
out:
        if (dirfd >= 0)
                close(dirfd);
        fwsh_strv_free(drop, n_drop);
        record_free(&rec);
        record_free(&left);
        text_free(&t);
        text_free(&out);
        text_free(&nv);
        return r;
}
