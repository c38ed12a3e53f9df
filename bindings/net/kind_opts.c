/* kind_opts.c - the options of a link kind (fwsh.bridge.add/ensure and
 * link:set, fwsh.tap.add/ensure, fwsh.vxlan.add), read by their rows
 * (core/net/opt_row.c, each kind's rows in its own file): a new row is a new
 * option key. */
#include "fwsh_lua.h"

const char *const *lfwsh_kind_fields(const char *kind, const char *const own[],
                                     const char *ret[LFWSH_KIND_FIELDS_MAX])
{
        const struct fwsh_opt_table *t = fwsh_kind_opts(kind);
        size_t k = 0;

        for (; k < 16 && own[k]; k++)
                ret[k] = own[k];
        for (size_t i = 0; t && i < t->n && i < FWSH_OPTS_MAX; i++)
                ret[k++] = t->rows[i].name;
        ret[k] = NULL;
        return ret;
}

void lfwsh_kind_opts(lua_State *L, int t, const char *kind, struct fwsh_opt_values *o)
{
        const struct fwsh_opt_table *rows = fwsh_kind_opts(kind);

        *o = (struct fwsh_opt_values)FWSH_OPTS_INIT;
        if (lua_isnoneornil(L, t) || !rows)
                return;
        for (size_t i = 0; i < rows->n; i++) {
                int64_t v = lfwsh_opt_row(L, t, &rows->rows[i]);

                if (v >= 0)
                        fwsh_opt_put(o, i, (uint32_t)v);
        }
}
