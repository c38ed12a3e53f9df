/* bridge_opts.c - the bridge kind's options (IFLA_BR_*), one row each: what
 * the kernel calls it, its width, its unit, its range and its default. Every
 * use of an option (parse, put, undo, ensure, explain, the plan model, the
 * bindings' reader, show, help) reads these rows, so that a new option is a
 * new row. See ip-link(8) "type bridge". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <netlink/attr.h>

#include "internal.h"

/* The kernel's times are clock_t: hundredths of a second (USER_HZ). Row 0 is
 * stp, the column brctl shows; the order is explain's. */
static const struct fwsh_opt_row ROWS[] = {
        { "stp", "stp_state", IFLA_BR_STP_STATE, NLA_U32, FWSH_OPT_BOOL, 1, 0, NULL,
          "the spanning tree protocol (off)" },
        { "forward_delay", "forward_delay", IFLA_BR_FORWARD_DELAY, NLA_U32, FWSH_OPT_CS, UINT32_MAX,
          1500, NULL, "seconds in listening and learning states (15)" },
        { "ageing_time", "ageing_time", IFLA_BR_AGEING_TIME, NLA_U32, FWSH_OPT_CS, UINT32_MAX,
          30000, NULL, "seconds a learned MAC address is kept (300)" },
        { "vlan_filtering", "vlan_filtering", IFLA_BR_VLAN_FILTERING, NLA_U8, FWSH_OPT_BOOL, 1, 0,
          "CONFIG_BRIDGE_VLAN_FILTERING", "VLAN filtering (off)" },
        { "mcast_snooping", "mcast_snooping", IFLA_BR_MCAST_SNOOPING, NLA_U8, FWSH_OPT_BOOL, 1, 1,
          NULL, "IGMP/MLD snooping (on); off floods multicast" },
        { "priority", "priority", IFLA_BR_PRIORITY, NLA_U16, FWSH_OPT_INT, UINT16_MAX, 32768, NULL,
          "the bridge priority of its id, lower wins the root election (32768)" },
        { "hello_time", "hello_time", IFLA_BR_HELLO_TIME, NLA_U32, FWSH_OPT_CS, UINT32_MAX, 200, NULL,
          "seconds between STP hellos, 1 to 10 (2)" },
        { "max_age", "max_age", IFLA_BR_MAX_AGE, NLA_U32, FWSH_OPT_CS, UINT32_MAX, 2000, NULL,
          "seconds an STP hello is believed, 6 to 40 (20)" },
        { "mcast_querier", "mcast_querier", IFLA_BR_MCAST_QUERIER, NLA_U8, FWSH_OPT_BOOL, 1, 0, NULL,
          "send IGMP/MLD queries when no other querier does (off)" },
};

_Static_assert(sizeof(ROWS) / sizeof(ROWS[0]) <= FWSH_BRIDGE_OPTS_MAX, "a value per row");
_Static_assert(FWSH_BRIDGE_OPTS_MAX <= 32, "a bit per row in set");

#define NROWS (sizeof(ROWS) / sizeof(ROWS[0]))

const struct fwsh_opt_row *fwsh_bridge_opt_rows(size_t *ret_n)
{
        *ret_n = NROWS;
        return ROWS;
}

int fwsh_bridge_opt_find(const char *name)
{
        for (size_t i = 0; i < NROWS; i++)
                if (strcmp(ROWS[i].name, name) == 0)
                        return (int)i;
        return -1;
}

int64_t fwsh_bridge_opt_get(const struct fwsh_bridge_opts *o, size_t i)
{
        return i < NROWS && (o->set & (1u << i)) ? (int64_t)o->v[i] : -1;
}

void fwsh_bridge_opt_put(struct fwsh_bridge_opts *o, size_t i, uint32_t v)
{
        o->set |= 1u << i;
        o->v[i] = v;
}

bool bridge_opts_any(const struct fwsh_bridge_opts *o)
{
        return o->set != 0;
}

void bridge_parse_opts(struct nlattr *const tb[], struct fwsh_bridge_opts *o)
{
        for (size_t i = 0; i < NROWS; i++) {
                const struct nlattr *a = tb[ROWS[i].attr];
                uint32_t v;

                /* what an nla policy of the row's type would check */
                if (!a || nla_len(a) < (ROWS[i].nla == NLA_U8 ? 1 : ROWS[i].nla == NLA_U16 ? 2 : 4))
                        continue;
                v = ROWS[i].nla == NLA_U8 ? nla_get_u8(a) : ROWS[i].nla == NLA_U16 ? nla_get_u16(a)
                                                                                     : nla_get_u32(a);
                fwsh_bridge_opt_put(o, i, ROWS[i].unit == FWSH_OPT_BOOL ? v != 0 : v);
        }
}

int bridge_put_opts(struct nl_msg *msg, const struct fwsh_bridge_opts *o)
{
        for (size_t i = 0; i < NROWS; i++) {
                int64_t v = fwsh_bridge_opt_get(o, i);
                int r = 0;

                if (v < 0)
                        continue;
                if (ROWS[i].nla == NLA_U8)
                        r = nla_put_u8(msg, ROWS[i].attr, (uint8_t)v);
                else if (ROWS[i].nla == NLA_U16)
                        r = nla_put_u16(msg, ROWS[i].attr, (uint16_t)v);
                else
                        r = nla_put_u32(msg, ROWS[i].attr, (uint32_t)v);
                if (r < 0)
                        return -ENOMEM;
        }
        return 0;
}

int bridge_check_opts(struct fwsh_ctx *ctx, const struct fwsh_bridge_opts *o)
{
        for (size_t i = 0; i < NROWS; i++)
                if (fwsh_bridge_opt_get(o, i) > ROWS[i].max)
                        return ctx_fail(ctx, -ERANGE, "%s out of range", ROWS[i].name);
        return 0;
}

void bridge_undo_opts(const struct fwsh_bridge_opts *set, const struct fwsh_bridge_opts *before,
                      struct fwsh_bridge_opts *ret_inv)
{
        for (size_t i = 0; i < NROWS; i++)
                if (fwsh_bridge_opt_get(set, i) >= 0 && fwsh_bridge_opt_get(before, i) >= 0)
                        fwsh_bridge_opt_put(ret_inv, i, before->v[i]);
}

void bridge_recreate_opts(const struct fwsh_bridge_opts *have, struct fwsh_bridge_opts *ret)
{
        *ret = *have;
        /* At its default, an option a kernel may lack is left out: such a
         * kernel refuses the attribute even to turn it off. */
        for (size_t i = 0; i < NROWS; i++)
                if (ROWS[i].needs && fwsh_bridge_opt_get(have, i) == ROWS[i].dflt)
                        ret->set &= ~(1u << i);
}

void bridge_default_opts(struct fwsh_bridge_opts *ret)
{
        *ret = (struct fwsh_bridge_opts)FWSH_BRIDGE_OPTS_INIT;
        for (size_t i = 0; i < NROWS; i++)
                fwsh_bridge_opt_put(ret, i, ROWS[i].dflt);
}

void bridge_apply_opts(const struct fwsh_bridge_opts *set, struct fwsh_bridge_opts *have)
{
        for (size_t i = 0; i < NROWS; i++)
                if (fwsh_bridge_opt_get(set, i) >= 0)
                        fwsh_bridge_opt_put(have, i, set->v[i]);
}

int bridge_match_opts(struct fwsh_ctx *ctx, const struct fwsh_bridge_opts *want,
                      const struct fwsh_bridge_opts *have)
{
        for (size_t i = 0; i < NROWS; i++) {
                int64_t w = fwsh_bridge_opt_get(want, i), h = fwsh_bridge_opt_get(have, i);

                if (w >= 0 && w != h)
                        return ctx_fail(ctx, -EEXIST, "exists with %s%s %lld, not %lld", ROWS[i].name,
                                        ROWS[i].unit == FWSH_OPT_CS ? " (cs)" : "", (long long)h,
                                        (long long)w);
        }
        return 0;
}

const char *bridge_opts_need(const struct fwsh_bridge_opts *o)
{
        for (size_t i = 0; i < NROWS; i++)
                if (ROWS[i].needs && fwsh_bridge_opt_get(o, i) > 0)
                        return ROWS[i].needs;
        return NULL;
}

size_t bridge_explain_opts(const struct fwsh_bridge_opts *o, char *buf, size_t size)
{
        size_t n = 0;

        if (size)
                buf[0] = '\0';
        for (size_t i = 0; i < NROWS; i++) {
                int64_t v = fwsh_bridge_opt_get(o, i);
                int k;

                if (v < 0)
                        continue;
                k = snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, " %s %lld", ROWS[i].ip_word,
                             (long long)v);
                n += k > 0 ? (size_t)k : 0;
        }
        return n;
}
