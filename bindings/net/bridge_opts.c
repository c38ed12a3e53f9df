/* bridge_opts.c - the bridge options of fwsh.bridge.add/ensure and link:set,
 * read by their rows (core/net/bridge_opts.c): a new row is a new option key. */
#include "fwsh_lua.h"

const char *const *lfwsh_bridge_fields(const char *const own[], const char *ret[LFWSH_BRIDGE_FIELDS_MAX])
{
        const struct fwsh_opt_row *rows;
        size_t n, k = 0;

        rows = fwsh_bridge_opt_rows(&n);
        for (; k < 16 && own[k]; k++)
                ret[k] = own[k];
        for (size_t i = 0; i < n; i++)
                ret[k++] = rows[i].name;
        ret[k] = NULL;
        return ret;
}

void lfwsh_bridge_opts(lua_State *L, int t, struct fwsh_bridge_opts *o)
{
        const struct fwsh_opt_row *rows;
        size_t n;

        *o = (struct fwsh_bridge_opts)FWSH_BRIDGE_OPTS_INIT;
        if (lua_isnoneornil(L, t))
                return;
        rows = fwsh_bridge_opt_rows(&n);
        for (size_t i = 0; i < n; i++) {
                int64_t v = lfwsh_opt_row(L, t, &rows[i]);

                if (v >= 0)
                        fwsh_bridge_opt_put(o, i, (uint32_t)v);
        }
}
