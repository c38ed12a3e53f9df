/* fwsh.c - the module table: one field per part, and the session's lab. */
#include <string.h>

#include "fwsh_lua.h"

/*** fwsh.lab([name]) -> the lab name new objects are tagged with ("fwsh:NAME"
 * in their ifalias); sets it first if name is given, unless the program was
 * given --lab, which wins: a script's name is its default */
static int l_lab(lua_State *L)
{
        struct lfwsh_state *st = lfwsh_state(L);

        if (!lua_isnoneornil(L, 1)) {
                const char *lab = lfwsh_check_str(L, 1);
                if (st->lab_pinned) /* --lab: the command line names the lab */
                        return lua_pushstring(L, st->lab), 1;
                struct fwsh_ctx *ctx = lfwsh_ctx(L);
                lfwsh_check(L, ctx, fwsh_ctx_set_lab(ctx, lab), "lab", lab);
                snprintf(st->lab, sizeof(st->lab), "%s", lab);
        }
        lua_pushstring(L, st->lab);
        return 1;
}

static const luaL_Reg fns[] = { { "lab", l_lab }, { NULL, NULL } };

static const struct lfwsh_part root = { .fns = fns };

/* Every binding file's part, in the order of the groups. */
static const struct lfwsh_part *const parts[] = {
        &root,
        &lfwsh_part_link, &lfwsh_part_bridge, &lfwsh_part_tap, &lfwsh_part_veth,
        &lfwsh_part_vxlan, &lfwsh_part_port, &lfwsh_part_addr, &lfwsh_part_route,
        &lfwsh_part_netns, &lfwsh_part_batch, &lfwsh_part_show,
        &lfwsh_part_transaction, &lfwsh_part_mode,
        &lfwsh_part_lab, &lfwsh_part_host, &lfwsh_part_proc, &lfwsh_part_wait,
        &lfwsh_part_nft, &lfwsh_part_capture,
        &lfwsh_part_module, &lfwsh_part_boot, &lfwsh_part_brnf, &lfwsh_part_firewalld,
};

static void open_part(lua_State *L, const struct lfwsh_part *p)
{
        if (p->init)
                p->init(L);
        if (p->kind)
                lfwsh_new_link_type(L, p->kind, lfwsh_link_methods, p->methods);
        if (p->field)
                lua_newtable(L);
        luaL_setfuncs(L, p->fns, 0);
        if (p->kind) {
                luaL_setfuncs(L, lfwsh_link_methods, 0);
                if (p->methods)
                        luaL_setfuncs(L, p->methods, 0);
        }
        if (p->field)
                lua_setfield(L, -2, p->field);
}

int lfwsh_open(lua_State *L)
{
        lfwsh_state(L);
        lua_newtable(L);
        for (size_t i = 0; i < FWSH_N(parts); i++)
                open_part(L, parts[i]);
        lua_pushstring(L, FWSH_VERSION);
        lua_setfield(L, -2, "version");
        /* where `cmake --install` put the lab's tools (fwsh-probe, ...) */
        lua_pushstring(L, FWSH_INSTALL_TOOLS_DIR);
        lua_setfield(L, -2, "tools_dir");
        return 1;
}
