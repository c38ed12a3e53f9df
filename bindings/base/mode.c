/* mode.c - fwsh.mode, fwsh.explain: how this session makes its changes (for
 * real, or as a plan: --dry-run; explained or not: --explain), and a way for
 * Lua code that makes changes elsewhere (fwsh.hosts: on another host) to
 * give their command lines to the session's plan or explanation. */
#include "fwsh_lua.h"

/*** fwsh.mode() -> "run" | "explain" | "plan": whether changes are made
 * ("run", "explain": and printed as commands, --explain) or only planned
 * ("plan": --dry-run) */
static int l_mode(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);

        lua_pushstring(L, st->plan ? "plan" : st->explain ? "explain" : "run");
        return 1;
}

/*** fwsh.explain(lines) -> boolean: gives lines (commands, one a line) to the
 * plan (--dry-run) or the explanation (--explain) as fwsh's own go; false,
 * and nothing printed, when the session has neither */
static int l_explain(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);
        const char *lines = lfwsh_check_str(L, 1);

        if (st->explain)
                st->explain(st->explain_arg, lines);
        lua_pushboolean(L, st->explain != NULL);
        return 1;
}

static const luaL_Reg fns[] = { { "mode", l_mode }, { "explain", l_explain }, { NULL, NULL } };

const struct lfwsh_part lfwsh_part_mode = { .fns = fns };
