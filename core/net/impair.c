/* impair.c - link impairment: fwsh's own root qdisc, netem (delay, jitter,
 * loss, duplicate, corrupt, reorder), with a tbf under it for a rate, as
 * tc-netem(8) and tc-tbf(8) make them, over libnl-route's qdisc API. Only a
 * root qdisc with fwsh's handle and fwsh's mark is ever changed or removed; a
 * link whose root is someone else's (not the kernel's default, handle 0:) is
 * refused, also one that has fwsh's handle by chance.
 *
 * The mark: a handle is a number anyone may pick, so fwsh's root also carries
 * a size table (TCA_STAB, tc-stab(8)) of its own, empty (tsize 0, overhead 0)
 * with mpu IMPAIR_MARK. The kernel keeps a qdisc's table and dumps it back,
 * and with no slots it reads neither mpu nor the slots: a packet's length is
 * its own, as without a table (only GSO's estimate of the headers of its
 * segments is not added). Any qdisc kind takes one (netem or tbf, whichever
 * the kernel has), and no tc line writes this one by accident. libnl does not
 * parse TCA_STAB: marks_read reads the dump itself. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "internal.h"

#define ROOT TC_HANDLE(IMPAIR_HANDLE, 0)
#define RATE TC_HANDLE(IMPAIR_RATE_HANDLE, 0)
#define RATE_LATENCY_US 50000 /* what the tbf queues at most: 50 ms at the rate */

/* Whether im asks for anything. */
static bool impair_any(const struct fwsh_impair *im)
{
        return im && (im->delay_ms > 0 || im->jitter_ms > 0 || im->loss > 0 || im->duplicate > 0 ||
                      im->corrupt > 0 || im->reorder > 0 || im->rate_bit > 0);
}

/* Whether im asks nothing of netem (a rate alone is a tbf). */
static bool netem_none(const struct fwsh_impair *im)
{
        return !(im->delay_ms > 0 || im->jitter_ms > 0 || im->loss > 0 || im->duplicate > 0 ||
                 im->corrupt > 0 || im->reorder > 0);
}

/* A percentage as netem's probability, 0..UINT32_MAX, and back. */
static uint32_t prob(double percent)
{
        return (uint32_t)llround(percent / 100.0 * (double)UINT32_MAX);
}

static double percent(int p)
{
        return round((double)(uint32_t)p / (double)UINT32_MAX * 100.0 * 1000.0) / 1000.0;
}

static int check(struct fwsh_ctx *ctx, const struct fwsh_impair *im)
{
        const struct { const char *name; double v; } pct[] = {
                { "loss", im->loss }, { "duplicate", im->duplicate },
                { "corrupt", im->corrupt }, { "reorder", im->reorder },
        };

        if (!(im->delay_ms >= 0 && im->delay_ms <= 60000) || !(im->jitter_ms >= 0 && im->jitter_ms <= 60000))
                return ctx_fail(ctx, -EINVAL, "delay and jitter are 0 to 60000 ms");
        for (size_t i = 0; i < FWSH_N(pct); i++)
                if (!(pct[i].v >= 0 && pct[i].v <= 100))
                        return ctx_fail(ctx, -EINVAL, "%s is a percentage, 0 to 100, not %g", pct[i].name,
                                        pct[i].v);
        if ((im->jitter_ms > 0 || im->reorder > 0) && im->delay_ms <= 0)
                return ctx_fail(ctx, -EINVAL, "%s needs a delay (netem delays the other packets)",
                                im->jitter_ms > 0 ? "jitter" : "reorder");
        if (im->rate_bit && (im->rate_bit < 8 || im->rate_bit / 8 > UINT32_MAX))
                return ctx_fail(ctx, -EINVAL, "rate is 8 bit/s to 34 Gbit/s");
        return 0;
}

struct roots {
        int ifindex;
        bool ours, rate;
        bool ours_tbf;           /* ours is a tbf alone (a rate, nothing else) */
        struct fwsh_impair im;
        char other[16];
};

static void on_qdisc(struct nl_object *obj, void *arg)
{
        struct rtnl_qdisc *q = (struct rtnl_qdisc *)obj;
        struct rtnl_tc *tc = TC_CAST(q);
        struct roots *r = arg;
        const char *kind = rtnl_tc_get_kind(tc);

        if (rtnl_tc_get_ifindex(tc) != r->ifindex || !kind)
                return;
        if (rtnl_tc_get_parent(tc) == TC_H_ROOT) {
                if (rtnl_tc_get_handle(tc) == ROOT && strcmp(kind, "netem") == 0) {
                        r->ours = true;
                        r->im.delay_ms = rtnl_netem_get_delay(q) / 1000.0;
                        r->im.jitter_ms = rtnl_netem_get_jitter(q) / 1000.0;
                        r->im.loss = percent(rtnl_netem_get_loss(q));
                        r->im.duplicate = percent(rtnl_netem_get_duplicate(q));
                        r->im.corrupt = percent(rtnl_netem_get_corruption_probability(q));
                        r->im.reorder = percent(rtnl_netem_get_reorder_probability(q));
                } else if (rtnl_tc_get_handle(tc) == ROOT && strcmp(kind, "tbf") == 0) {
                        r->ours = r->ours_tbf = true;
                        r->im.rate_bit = (uint64_t)rtnl_qdisc_tbf_get_rate(q) * 8;
                } else if (rtnl_tc_get_handle(tc) != 0) {
                        snprintf(r->other, sizeof(r->other), "%s", kind);
                }
        } else if (rtnl_tc_get_handle(tc) == RATE && strcmp(kind, "tbf") == 0) {
                r->rate = true;
                r->im.rate_bit = (uint64_t)rtnl_qdisc_tbf_get_rate(q) * 8;
        }
}

/* The links whose root is fwsh's: handle f5f5: and the mark. */
struct marks {
        int *v;
        size_t n, cap;
};

static int on_root(struct nlmsghdr *h, void *arg)
{
        struct marks *m = arg;
        struct tcmsg *t = nlmsg_data(h);
        struct nlattr *tb[TCA_MAX + 1], *stab[TCA_STAB_MAX + 1];
        const struct tc_sizespec *s;

        if (h->nlmsg_type != RTM_NEWQDISC || nlmsg_parse(h, sizeof(*t), tb, TCA_MAX, NULL) < 0 ||
            t->tcm_parent != TC_H_ROOT || t->tcm_handle != ROOT || !tb[TCA_STAB] ||
            nla_parse_nested(stab, TCA_STAB_MAX, tb[TCA_STAB], NULL) < 0 || !stab[TCA_STAB_BASE] ||
            nla_len(stab[TCA_STAB_BASE]) < (int)sizeof(*s))
                return 0;
        s = nla_data(stab[TCA_STAB_BASE]);
        if (s->mpu != IMPAIR_MARK || s->tsize != 0)
                return 0;
        if (m->n == m->cap) {
                size_t cap = m->cap ? m->cap * 2 : 8;
                int *v = realloc(m->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                m->v = v;
                m->cap = cap;
        }
        m->v[m->n++] = t->tcm_ifindex;
        return 0;
}

static void restart_marks(void *arg)
{
        ((struct marks *)arg)->n = 0;
}

static int marks_read(struct fwsh_ctx *ctx, struct marks *ret)
{
        struct tcmsg t = { .tcm_family = AF_UNSPEC };
        struct nl_msg *msg = rtnl_request(RTM_GETQDISC, NLM_F_DUMP, &t, sizeof(t));
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!msg)
                return -ENOMEM;
        r = nl_query_dump(ctx, msg, on_root, restart_marks, ret);
        if (r < 0) {
                free(ret->v);
                ret->v = NULL;
                return ctx_fail(ctx, r, "cannot read the queueing disciplines");
        }
        return 0;
}

static bool marked(const struct marks *m, int ifindex)
{
        for (size_t i = 0; i < m->n; i++)
                if (m->v[i] == ifindex)
                        return true;
        return false;
}

/* The link's root qdiscs as fwsh sees them: its own impairment, or another's. */
static int roots_read(struct fwsh_ctx *ctx, int ifindex, struct roots *ret)
{
        struct nl_cache *cache;
        struct marks m;
        int r;

        memset(ret, 0, sizeof(*ret));
        ret->ifindex = ifindex;
        r = rtnl_qdisc_alloc_cache(ctx->sk, &cache);
        if (r < 0)
                return ctx_fail(ctx, -nle_to_errno(r), "cannot read the queueing disciplines");
        nl_cache_foreach(cache, on_qdisc, ret);
        nl_cache_free(cache);
        if (ret->ours) {
                if ((r = marks_read(ctx, &m)) < 0)
                        return r;
                if (!marked(&m, ifindex)) {
                        /* fwsh's handle, not fwsh's qdisc: another's, not ours */
                        snprintf(ret->other, sizeof(ret->other), "%s",
                                 ret->ours_tbf ? "tbf" : "netem");
                        ret->ours = ret->ours_tbf = ret->rate = false;
                }
                free(m.v);
        }
        if (!ret->ours)
                memset(&ret->im, 0, sizeof(ret->im)); /* a tbf of ours alone is no impairment */
        return 0;
}

static int send_qdisc(struct fwsh_ctx *ctx, struct rtnl_qdisc *q, bool del)
{
        const struct tc_sizespec mark = { .mpu = IMPAIR_MARK };
        struct nl_msg *msg;
        int r = del ? rtnl_qdisc_build_delete_request(q, &msg)
                    : rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_REPLACE, &msg);

        if (r < 0)
                return -nle_to_errno(r);
        if (!del && rtnl_tc_get_parent(TC_CAST(q)) == TC_H_ROOT) {
                struct nlattr *nest = nla_nest_start(msg, TCA_STAB);

                if (!nest || nla_put(msg, TCA_STAB_BASE, sizeof(mark), &mark) < 0) {
                        nlmsg_free(msg);
                        return -ENOMEM;
                }
                nla_nest_end(msg, nest);
        }
        return nl_query(ctx, msg, NULL, NULL);
}

static struct rtnl_qdisc *qdisc(int ifindex, uint32_t parent, uint32_t handle, const char *kind)
{
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();

        if (!q)
                return NULL;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), parent);
        rtnl_tc_set_handle(TC_CAST(q), handle);
        if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
                rtnl_qdisc_put(q);
                return NULL;
        }
        return q;
}

static int set_root(struct fwsh_ctx *ctx, int ifindex, const struct fwsh_impair *im)
{
        struct rtnl_qdisc *q = qdisc(ifindex, TC_H_ROOT, ROOT, "netem");
        int r;

        if (!q)
                return -ENOMEM;
        rtnl_netem_set_delay(q, (int)llround(im->delay_ms * 1000));
        rtnl_netem_set_jitter(q, (int)llround(im->jitter_ms * 1000));
        rtnl_netem_set_loss(q, (int)prob(im->loss));
        rtnl_netem_set_duplicate(q, (int)prob(im->duplicate));
        rtnl_netem_set_corruption_probability(q, (int)prob(im->corrupt));
        rtnl_netem_set_reorder_probability(q, (int)prob(im->reorder));
        rtnl_netem_set_limit(q, 1000);
        r = send_qdisc(ctx, q, false);
        rtnl_qdisc_put(q);
        return r;
}

/* A tbf for the rate: under the netem (root false), or the root itself. */
static int set_rate(struct fwsh_ctx *ctx, int ifindex, uint64_t rate_bit, bool had, bool root)
{
        struct rtnl_qdisc *q = root ? qdisc(ifindex, TC_H_ROOT, ROOT, "tbf")
                                    : qdisc(ifindex, TC_HANDLE(IMPAIR_HANDLE, 1), RATE, "tbf");
        uint32_t bytes = (uint32_t)(rate_bit / 8);
        int r;

        if (!q)
                return -ENOMEM;
        if (!rate_bit) {
                r = had ? send_qdisc(ctx, q, true) : 0;
        } else {
                /* a bucket of 10 ms at the rate, never less than a full frame */
                uint32_t bucket = bytes / 100 > 3028 ? bytes / 100 : 3028;
                rtnl_qdisc_tbf_set_rate(q, (int)bytes, (int)bucket, 0);
                r = rtnl_qdisc_tbf_set_limit_by_latency(q, RATE_LATENCY_US);
                if (r == 0)
                        r = send_qdisc(ctx, q, false);
                else
                        r = -nle_to_errno(r);
        }
        rtnl_qdisc_put(q);
        return r;
}

int impair_kernel(struct fwsh_ctx *ctx, const struct change *ch)
{
        struct roots now;
        int r = roots_read(ctx, ch->ifindex, &now);

        if (r < 0)
                return r;
        if (!impair_any(&ch->impair)) {
                struct rtnl_qdisc *q;
                if (!now.ours)
                        return 0;
                if (!(q = qdisc(ch->ifindex, TC_H_ROOT, ROOT, now.ours_tbf ? "tbf" : "netem")))
                        return -ENOMEM;
                r = send_qdisc(ctx, q, true); /* its tbf goes with it */
                rtnl_qdisc_put(q);
                return r < 0 ? ctx_fail(ctx, r, "cannot remove the impairment") : 0;
        }
        if (now.other[0])
                return ctx_fail(ctx, -EBUSY, "its root qdisc is a %s that fwsh did not make: "
                                             "not replaced", now.other);
        bool rate_only = netem_none(&ch->impair);
        /* Ours goes first when it changes kind (netem <-> a tbf alone), and a
         * netem always: libnl leaves a 0 probability out of its request, so
         * netem changed in place would keep the loss (or corrupt...) it had. */
        if (now.ours && (now.ours_tbf != rate_only || !rate_only)) {
                struct rtnl_qdisc *q = qdisc(ch->ifindex, TC_H_ROOT, ROOT, now.ours_tbf ? "tbf" : "netem");
                if (!q)
                        return -ENOMEM;
                r = send_qdisc(ctx, q, true);
                rtnl_qdisc_put(q);
                if (r < 0)
                        return ctx_fail(ctx, r, "cannot remove the impairment before");
                now.rate = false;
        }
        if (rate_only)
                r = set_rate(ctx, ch->ifindex, ch->impair.rate_bit, false, true);
        else if ((r = set_root(ctx, ch->ifindex, &ch->impair)) == 0)
                r = set_rate(ctx, ch->ifindex, ch->impair.rate_bit, now.rate, false);
        if (r == -ENOENT && !rate_only)
                return ctx_fail(ctx, r, "this kernel has no netem queueing discipline (sch_netem)");
        if (r < 0 && !ctx->detail[0])
                ctx_fail(ctx, r, "tc: %s", strerror(-r));
        return r;
}

struct all {
        struct fwsh_impaired *v;
        size_t n, cap;
        int err;
};

static struct fwsh_impaired *entry(struct all *a, int ifindex)
{
        for (size_t i = 0; i < a->n; i++)
                if (a->v[i].ifindex == ifindex)
                        return &a->v[i];
        if (a->n == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 8;
                struct fwsh_impaired *v = realloc(a->v, cap * sizeof(*v));
                if (!v)
                        return NULL;
                a->v = v;
                a->cap = cap;
        }
        memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
        a->v[a->n].ifindex = ifindex;
        return &a->v[a->n++];
}

static void on_any(struct nl_object *obj, void *arg)
{
        struct rtnl_tc *tc = TC_CAST((struct rtnl_qdisc *)obj);
        struct all *a = arg;
        struct roots r;
        struct fwsh_impaired *e;
        const char *kind = rtnl_tc_get_kind(tc);

        /* fwsh's root netem only; its tbf is read with it */
        if (rtnl_tc_get_parent(tc) != TC_H_ROOT || rtnl_tc_get_handle(tc) != ROOT || !kind ||
            (strcmp(kind, "netem") != 0 && strcmp(kind, "tbf") != 0) || a->err)
                return;
        memset(&r, 0, sizeof(r));
        r.ifindex = rtnl_tc_get_ifindex(tc);
        on_qdisc(obj, &r);
        if (!(e = entry(a, r.ifindex))) {
                a->err = -ENOMEM;
                return;
        }
        e->im = r.im;
}

static void on_rate(struct nl_object *obj, void *arg)
{
        struct rtnl_tc *tc = TC_CAST((struct rtnl_qdisc *)obj);
        struct all *a = arg;
        const char *kind = rtnl_tc_get_kind(tc);

        if (rtnl_tc_get_handle(tc) != RATE || !kind || strcmp(kind, "tbf") != 0)
                return;
        for (size_t i = 0; i < a->n; i++)
                if (a->v[i].ifindex == rtnl_tc_get_ifindex(tc))
                        a->v[i].im.rate_bit = (uint64_t)rtnl_qdisc_tbf_get_rate((struct rtnl_qdisc *)obj) * 8;
}

int fwsh_impair_list(struct fwsh_ctx *ctx, struct fwsh_impaired **ret, size_t *ret_n)
{
        struct all a = { 0 };
        struct nl_cache *cache;
        struct marks m;
        size_t k = 0;
        int r = rtnl_qdisc_alloc_cache(ctx->sk, &cache);

        if (r < 0)
                return ctx_fail(ctx, -nle_to_errno(r), "cannot read the queueing disciplines");
        nl_cache_foreach(cache, on_any, &a);
        nl_cache_foreach(cache, on_rate, &a);
        nl_cache_free(cache);
        if (!a.err && (r = marks_read(ctx, &m)) < 0)
                a.err = r;
        if (a.err) {
                free(a.v);
                return a.err;
        }
        /* fwsh's handle without fwsh's mark is another's root */
        for (size_t i = 0; i < a.n; i++)
                if (marked(&m, a.v[i].ifindex))
                        a.v[k++] = a.v[i];
        a.n = k;
        free(m.v);
        *ret = a.v;
        *ret_n = a.n;
        return 0;
}

int fwsh_link_impairment(struct fwsh_ctx *ctx, const char *name, struct fwsh_impair *ret,
                         char *ret_other)
{
        struct roots now;
        int ifindex = fwsh_link_index(ctx, name), r;

        if (ifindex < 0)
                return ctx_fail(ctx, ifindex, "no such link");
        r = roots_read(ctx, ifindex, &now);
        if (r < 0)
                return r;
        *ret = now.im;
        if (ret_other)
                memcpy(ret_other, now.other, sizeof(now.other));
        return now.ours;
}

int fwsh_link_impair(struct fwsh_ctx *ctx, const char *name, const struct fwsh_impair *im)
{
        static const struct fwsh_impair none;
        struct change ch, inv;
        struct roots now;
        int ifindex, r;

        if (!im)
                im = &none;
        if ((r = check(ctx, im)) < 0)
                return r;
        ifindex = fwsh_link_index(ctx, name);
        if (ifindex < 0)
                return ctx_fail(ctx, ifindex, "no such link");
        /* The state before, for the inverse (the plan backend asks the kernel too). */
        if ((r = roots_read(ctx, ifindex, &now)) < 0)
                return r;
        if (now.other[0] && impair_any(im))
                return ctx_fail(ctx, -EBUSY, "its root qdisc is a %s that fwsh did not make: not replaced",
                                now.other);
        change_init(&ch, CH_IMPAIR, name);
        ch.ifindex = ifindex;
        ch.impair = *im;
        change_init(&inv, CH_IMPAIR, name);
        inv.ifindex = ifindex;
        inv.impair = now.im;
        return change_apply(ctx, &ch, &inv);
}

/* tc's words for a time in ms and a percentage: as short as they are exact. */
static void tc_ms(char *buf, size_t size, double ms)
{
        snprintf(buf, size, "%gms", ms);
}

int impair_render(const struct change *ch, const char *dev, char *buf, size_t size)
{
        const struct fwsh_impair *im = &ch->impair;
        char d[32], j[32];
        int n;

        if (!impair_any(im)) {
                n = snprintf(buf, size, "qdisc delete dev %s root handle %x:", dev, IMPAIR_HANDLE);
                return n >= 0 && (size_t)n < size ? 0 : -ENOSPC;
        }
        if (netem_none(im)) {
                n = snprintf(buf, size, "qdisc replace dev %s root handle %x: tbf rate %llubit burst %llub "
                             "latency %dms", dev, IMPAIR_HANDLE, (unsigned long long)im->rate_bit,
                             (unsigned long long)(im->rate_bit / 800 > 3028 ? im->rate_bit / 800 : 3028),
                             RATE_LATENCY_US / 1000);
                return n >= 0 && (size_t)n < size ? 0 : -ENOSPC;
        }
        tc_ms(d, sizeof(d), im->delay_ms);
        tc_ms(j, sizeof(j), im->jitter_ms);
        n = snprintf(buf, size, "qdisc replace dev %s root handle %x: netem limit 1000", dev, IMPAIR_HANDLE);
        if (im->delay_ms > 0)
                n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, " delay %s%s%s", d,
                              im->jitter_ms > 0 ? " " : "", im->jitter_ms > 0 ? j : "");
        if (im->loss > 0)
                n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, " loss %g%%", im->loss);
        if (im->duplicate > 0)
                n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, " duplicate %g%%", im->duplicate);
        if (im->corrupt > 0)
                n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, " corrupt %g%%", im->corrupt);
        if (im->reorder > 0)
                n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, " reorder %g%%", im->reorder);
        if (im->rate_bit > 0)
                n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0,
                              "\nqdisc replace dev %s parent %x:1 handle %x: tbf rate %llubit burst %llub "
                              "latency %dms", dev, IMPAIR_HANDLE, IMPAIR_RATE_HANDLE,
                              (unsigned long long)im->rate_bit,
                              (unsigned long long)(im->rate_bit / 800 > 3028 ? im->rate_bit / 800 : 3028),
                              RATE_LATENCY_US / 1000);
        return n >= 0 && (size_t)n < size ? 0 : -ENOSPC;
}
