/* modules_load.c - /etc/modules-load.d/fwsh.conf: the modules systemd loads
 * at boot, one a line. See modules-load.d(5). */
#include "bootfile.h"

/* ---- modules-load.d/fwsh.conf ---------------------------------------------------------- */

bool conf_next(const struct text *t, size_t *pos, struct conf_line *l)
{
        size_t i = *pos, a, b;

        if (i >= t->len)
                return false;
        l->start = i;
        while (i < t->len && t->p[i] != '\n')
                i++;
        l->end = i < t->len ? i + 1 : i;
        a = l->start;
        b = i;
        while (a < b && isspace((unsigned char)t->p[a]))
                a++;
        while (b > a && isspace((unsigned char)t->p[b - 1]))
                b--;
        l->name = t->p + a;
        l->len = (a < b && t->p[a] != '#' && t->p[a] != ';') ? b - a : 0;
        *pos = l->end;
        return true;
}

int modules_load_persist(struct fwsh_ctx *ctx, const struct place *pl,
                                const char *const *modules, size_t n, struct fwsh_boot_file *f)
{
        struct text t = { NULL, 0, 0 };
        struct conf_line l;
        struct stat st;
        size_t pos = 0;
        bool exists, add = false;
        int dirfd, r;

        f->path = place_shown(pl, MODULES_LOAD_DIR "/" MODULES_LOAD_FILE);
        if (!f->path)
                return -ENOMEM;
        r = dir_open(ctx, pl, MODULES_LOAD_DIR, true, &dirfd);
        if (r < 0)
                return r;
        r = file_read(dirfd, MODULES_LOAD_FILE, &t, &st);
        exists = r == 0;
        if (r == -ENOENT)
                r = text_adds(&t, MODULES_LOAD_HEADER);
        if (r < 0) {
                close(dirfd);
                return read_fail(ctx, f->path, r);
        }
        for (size_t i = 0; i < n && r == 0; i++) {
                bool there = false;
                pos = 0;
                while (!there && conf_next(&t, &pos, &l))
                        there = l.len && same_module(l.name, l.len, modules[i]);
                if (strv_has(f->changed_modules, f->n_changed, modules[i], strlen(modules[i])) ||
                    strv_has(f->kept, f->n_kept, modules[i], strlen(modules[i])))
                        continue;   /* named twice */
                r = file_note(f, !there, modules[i], strlen(modules[i]));
                add |= !there;
        }
        if (r == 0 && add) {
                if (t.len && t.p[t.len - 1] != '\n')
                        r = text_adds(&t, "\n");
                for (size_t i = 0; r == 0 && i < f->n_changed; i++) {
                        r = text_adds(&t, f->changed_modules[i]);
                        if (r == 0)
                                r = text_adds(&t, "\n");
                }
                if (r == 0)
                        r = file_write(ctx, dirfd, MODULES_LOAD_FILE, f->path, t.p, t.len,
                                       exists ? st.st_mode : 0644, exists ? &st : NULL);
                f->changed = r == 0;
        }
        close(dirfd);
        text_free(&t);
        return r;
}

int modules_load_remove(struct fwsh_ctx *ctx, const struct place *pl,
                               const char *const *modules, size_t n, struct fwsh_boot_file *f)
{
        struct text t = { NULL, 0, 0 }, out = { NULL, 0, 0 };
        struct conf_line l;
        struct stat st;
        size_t pos = 0, left = 0;
        int dirfd, r;

        f->path = place_shown(pl, MODULES_LOAD_DIR "/" MODULES_LOAD_FILE);
        if (!f->path)
                return -ENOMEM;
        r = dir_open(ctx, pl, MODULES_LOAD_DIR, false, &dirfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = file_read(dirfd, MODULES_LOAD_FILE, &t, &st);
        if (r == -ENOENT) {
                close(dirfd);
                return 0;
        }
        if (r < 0) {
                close(dirfd);
                return read_fail(ctx, f->path, r);
        }
        r = text_add(&out, "", 0);
        while (r == 0 && conf_next(&t, &pos, &l)) {
                bool drop = false;
                for (size_t i = 0; l.len && i < (modules ? n : 1) && !drop; i++)
                        drop = !modules || same_module(l.name, l.len, modules[i]);
                if (drop)
                        r = file_note(f, true, l.name, l.len);
                else
                        r = text_add(&out, t.p + l.start, l.end - l.start);
                left += l.len && !drop;
        }
        if (r == 0 && f->n_changed) {
                /* Once it lists nothing, the file is fwsh's no more; it goes
                 * only if what is left is what fwsh wrote (a line of
                 * someone else's, a comment, keeps it). */
                if (left == 0 && (out.len == 0 || strcmp(out.p, MODULES_LOAD_HEADER) == 0))
                        r = file_remove(ctx, dirfd, MODULES_LOAD_FILE, f->path);
                else
                        r = file_write(ctx, dirfd, MODULES_LOAD_FILE, f->path, out.p, out.len,
                                       st.st_mode, &st);
                f->changed = r == 0;
        }
        close(dirfd);
        text_free(&t);
        text_free(&out);
        return r;
}
