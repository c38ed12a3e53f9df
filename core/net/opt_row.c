/* opt_row.c - a link kind's options as rows (struct fwsh_opt_row), the
 * generic half: each kind declares its rows beside its code (bridge_opts.c,
 * tap.c, vxlan.c) and these functions are every use of them, as netifd's
 * blobmsg_policy drives its parser, its diff and its request. A new option is
 * then a new row. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include <netlink/attr.h>

#include "internal.h"

_Static_assert(FWSH_OPTS_MAX <= 32, "a bit per row in set");

int64_t fwsh_opt_get(const struct fwsh_opt_values *o, size_t i)
{
        return i < FWSH_OPTS_MAX && (o->set & (1u << i)) ? (int64_t)o->v[i] : -1;
}

void fwsh_opt_put(struct fwsh_opt_values *o, size_t i, uint32_t v)
{
        if (i >= FWSH_OPTS_MAX)
                return;
        o->set |= 1u << i;
        o->v[i] = v;
}

bool opts_any(const struct fwsh_opt_values *o)
{
        return o->set != 0;
}

static int width(const struct fwsh_opt_row *r)
{
        return r->nla == NLA_U8 ? 1 : r->nla == NLA_U16 ? 2 : 4;
}

void opts_parse(const struct fwsh_opt_table *t, struct nlattr *const tb[], struct fwsh_opt_values *o)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct fwsh_opt_row *r = &t->rows[i];
                const struct nlattr *a = tb[r->attr];
                uint32_t v;

                /* what an nla policy of the row's type would check */
                if (!a || nla_len(a) < width(r))
                        continue;
                v = r->nla == NLA_U8 ? nla_get_u8(a) : r->nla == NLA_U16 ? nla_get_u16(a) : nla_get_u32(a);
                if (r->flags & FWSH_ROW_BE16)
                        v = ntohs((uint16_t)v);
                fwsh_opt_put(o, i, r->unit == FWSH_OPT_BOOL ? v != 0 : v);
        }
}

int opts_put(const struct fwsh_opt_table *t, struct nl_msg *msg, const struct fwsh_opt_values *o)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct fwsh_opt_row *r = &t->rows[i];
                int64_t v = fwsh_opt_get(o, i);
                int e;

                if (v < 0)
                        continue;
                if (r->nla == NLA_U8)
                        e = nla_put_u8(msg, r->attr, (uint8_t)v);
                else if (r->nla == NLA_U16)
                        e = nla_put_u16(msg, r->attr, r->flags & FWSH_ROW_BE16 ? htons((uint16_t)v)
                                                                           : (uint16_t)v);
                else
                        e = nla_put_u32(msg, r->attr, (uint32_t)v);
                if (e < 0)
                        return -ENOMEM;
        }
        return 0;
}

int opts_check(struct fwsh_ctx *ctx, const struct fwsh_opt_table *t, const struct fwsh_opt_values *o)
{
        for (size_t i = 0; i < t->n; i++) {
                int64_t v = fwsh_opt_get(o, i);

                if (v >= 0 && (v < t->rows[i].min || v > t->rows[i].max))
                        return ctx_fail(ctx, -ERANGE, "%s out of range", t->rows[i].name);
        }
        return 0;
}

void opts_undo(const struct fwsh_opt_table *t, const struct fwsh_opt_values *set,
               const struct fwsh_opt_values *before, struct fwsh_opt_values *ret_inv)
{
        for (size_t i = 0; i < t->n; i++)
                if (fwsh_opt_get(set, i) >= 0 && fwsh_opt_get(before, i) >= 0)
                        fwsh_opt_put(ret_inv, i, before->v[i]);
}

void opts_recreate(const struct fwsh_opt_table *t, const struct fwsh_opt_values *have, struct fwsh_opt_values *ret)
{
        *ret = *have;
        /* At its default, an option a kernel may lack is left out: such a
         * kernel refuses the attribute even to turn it off. */
        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].needs && fwsh_opt_get(have, i) == t->rows[i].dflt)
                        ret->set &= ~(1u << i);
}

void opts_apply(const struct fwsh_opt_table *t, const struct fwsh_opt_values *set, struct fwsh_opt_values *have)
{
        for (size_t i = 0; i < t->n; i++)
                if (fwsh_opt_get(set, i) >= 0)
                        fwsh_opt_put(have, i, set->v[i]);
}

void opts_new(const struct fwsh_opt_table *t, const struct fwsh_opt_values *set, struct fwsh_opt_values *ret)
{
        *ret = (struct fwsh_opt_values)FWSH_OPTS_INIT;
        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].dflt >= 0)
                        fwsh_opt_put(ret, i, (uint32_t)t->rows[i].dflt);
        opts_apply(t, set, ret);
}

/* A value as its row's unit says it: on/off, none, or the number. */
static const char *say(const struct fwsh_opt_row *r, int64_t v, char *buf, size_t size)
{
        if (r->unit == FWSH_OPT_BOOL && v >= 0)
                return v ? "on" : "off";
        if (v < 0)
                return "none";
        snprintf(buf, size, "%lld", (long long)v);
        return buf;
}

int opts_match(struct fwsh_ctx *ctx, const struct fwsh_opt_table *t, const struct fwsh_opt_values *want,
               const struct fwsh_opt_values *have)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct fwsh_opt_row *r = &t->rows[i];
                int64_t w = fwsh_opt_get(want, i), h = fwsh_opt_get(have, i);
                char wb[24], hb[24];

                if (w < 0 && (r->flags & FWSH_ROW_EXACT))
                        w = r->dflt;
                else if (w < 0)
                        continue;
                if (w != h)
                        return ctx_fail(ctx, -EEXIST, "exists with %s%s %s, not %s", r->name,
                                        r->unit == FWSH_OPT_CS ? " (cs)" : "", say(r, h, hb, sizeof(hb)),
                                        say(r, w, wb, sizeof(wb)));
        }
        return 0;
}

const char *opts_need(const struct fwsh_opt_table *t, const struct fwsh_opt_values *o)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].needs && fwsh_opt_get(o, i) > 0)
                        return t->rows[i].needs;
        return NULL;
}

size_t opts_explain(const struct fwsh_opt_table *t, const struct fwsh_opt_values *o, char *buf, size_t size)
{
        size_t n = 0;

        if (size)
                buf[0] = '\0';
        for (size_t i = 0; i < t->n; i++) {
                const struct fwsh_opt_row *r = &t->rows[i];
                int64_t v = fwsh_opt_get(o, i);
                char *at = n < size ? buf + n : NULL;
                size_t room = n < size ? size - n : 0;
                int k = 0;

                if (v < 0)
                        continue;
                if (!(r->flags & FWSH_ROW_WORD))
                        k = snprintf(at, room, " %s %lld", r->ip_word, (long long)v);
                else if (v != r->dflt)
                        k = snprintf(at, room, " %s%s", v ? "" : "no", r->ip_word);
                n += k > 0 ? (size_t)k : 0;
        }
        return n;
}
