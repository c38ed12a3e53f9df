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

int lfwsh_open(lua_State *L)
{
        static const struct {
                const char *name;
                int (*open)(lua_State *L);
        } parts[] = {
                { "link", lfwsh_open_link },     { "bridge", lfwsh_open_bridge },
                { "tap", lfwsh_open_tap },       { "veth", lfwsh_open_veth },
                { "vxlan", lfwsh_open_vxlan },
                { "port", lfwsh_open_port },     { "addr", lfwsh_open_addr },
                { "route", lfwsh_open_route },   { "netns", lfwsh_open_netns },
                { "transaction", lfwsh_open_transaction }, { "show", lfwsh_open_show },
                { "keep", lfwsh_open_keep },
                { "batch", lfwsh_open_batch },
                { "state", lfwsh_open_state },
                { "labs", lfwsh_open_lab },     { "down", lfwsh_open_down },
                { "lab_dir", lfwsh_open_lab_dir },
                { "lab_dir_find", lfwsh_open_lab_dir_find },
                { "lab_dir_remove", lfwsh_open_lab_dir_remove },
                { "lab_dir_labs", lfwsh_open_lab_dir_labs },
                { "mode", lfwsh_open_mode },
                { "host", lfwsh_open_host },
                { "explain", lfwsh_open_explain },
                { "module", lfwsh_open_module },
                { "boot", lfwsh_open_boot },
                { "brnf", lfwsh_open_brnf },
                { "firewalld", lfwsh_open_firewalld },
                { "proc", lfwsh_open_proc },
                { "wait", lfwsh_open_wait },
                { "nft", lfwsh_open_nft },
                { "capture", lfwsh_open_capture },
        };

        lfwsh_state(L);
        lua_createtable(L, 0, (int)FWSH_N(parts) + 3);
        for (size_t i = 0; i < FWSH_N(parts); i++) {
                parts[i].open(L);
                lua_setfield(L, -2, parts[i].name);
        }
        lua_pushcfunction(L, l_lab);
        lua_setfield(L, -2, "lab");
        lua_pushstring(L, FWSH_VERSION);
        lua_setfield(L, -2, "version");
        /* where `cmake --install` put the lab's tools (fwsh-probe, ...) */
        lua_pushstring(L, FWSH_INSTALL_TOOLS_DIR);
        lua_setfield(L, -2, "tools_dir");
        return 1;
}
