/* link.c - fwsh.link: any link, by name or handle. See ip-link(8). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwsh_lua.h"

#include "net/show.h"

/*** fwsh.link.get(name) -> link handle; raises if there is no such link. */
static int l_get(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_link l;

        lfwsh_check(L, ctx, fwsh_link_get(ctx, name, &l), "link.get", name);
        lfwsh_push_link(L, ctx, &l);
        return 1;
}

/*** fwsh.link.exists(name) -> boolean */
static int l_exists(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        int r = fwsh_link_index(ctx, name); /* one ioctl, not a GETLINK and its parse */

        if (r < 0 && r != -ENODEV && r != -EINVAL)
                lfwsh_fail(L, ctx, r, "link.exists", name);
        lua_pushboolean(L, r > 0);
        return 1;
}

/*** fwsh.link.delete_made(name, ifindex) -> deleted: deletes the link this
 * run made as ifindex (node.made keeps both), if it still is that link: name
 * at that ifindex, with the lab's tag. false, and nothing done, if it is gone
 * or someone else's (one made under the name since, its tag taken off). */
static int l_delete_made(lua_State *L)
{
        const char *name = lfwsh_check_str(L, 1);
        lua_Integer ifindex = luaL_checkinteger(L, 2);
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        int r;

        luaL_argcheck(L, ifindex > 0 && ifindex <= INT32_MAX, 2, "an ifindex, 1 or more");
        r = fwsh_link_delete_made(ctx, name, (int)ifindex);
        lfwsh_check(L, ctx, r < 0 ? r : 0, "link.delete_made", name);
        lua_pushboolean(L, r > 0);
        return 1;
}

void lfwsh_push_link_list(lua_State *L, struct fwsh_ctx *ctx, const struct fwsh_link *links, size_t n)
{
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
                lfwsh_push_link(L, ctx, &links[i]);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
}

int lfwsh_push_links_of_kind(lua_State *L, const char *kind, const char *op)
{
        struct fwsh_ctx *ctx = lfwsh_ctx(L);
        struct fwsh_link *links = NULL;
        size_t n = 0, k = 0;

        lfwsh_check(L, ctx, fwsh_link_list(ctx, &links, &n), op, "*");
        for (size_t i = 0; i < n; i++)
                if (!kind || strcmp(links[i].kind, kind) == 0)
                        links[k++] = links[i];
        lfwsh_push_link_list(L, ctx, links, k);
        free(links);
        return 1;
}

const char *lfwsh_check_kind(lua_State *L, int idx, const char *kind, const char *op,
                             struct fwsh_ctx **ret_ctx, struct fwsh_link *ret)
{
        const char *name = lfwsh_link_arg(L, idx, op, ret_ctx);

        lfwsh_check(L, *ret_ctx, fwsh_link_get(*ret_ctx, name, ret), op, name);
        if (kind && strcmp(ret->kind, kind) != 0)
                lfwsh_fail_detail(L, -EINVAL, op, name,
                                  lua_pushfstring(L, "a %s, not a %s",
                                                  ret->kind[0] ? ret->kind : "plain link", kind));
        return name;
}

/*** fwsh.link.list([kind]) -> { link handle, ... } in ifindex order, only of kind if given */
static int l_list(lua_State *L)
{
        return lfwsh_push_links_of_kind(L, lfwsh_opt_str(L, 1, NULL), "link.list");
}

/*** link:info() -> table: name, ifindex, kind ("link" for one of no kind), up,
 * carrier, operstate, mtu, mac, alias, lab, master, port_state, addresses = {...},
 * impair = {...}, and its kind's fields: bridge = {id, stp, ...}, tap = {owner,
 * open, ...}, a veth's peer (or peer_ifindex and peer_netnsid); the same entry
 * as that link's in fwsh.state() and `show --json` */
static int l_info(lua_State *L)
{
        struct fwsh_ctx *ctx;
        const char *name = lfwsh_link_arg(L, 1, "link.info", &ctx);

        show_push_link(L, ctx, "link.info", name);
        return 1;
}

static int set_link(lua_State *L, const char *op, const struct fwsh_link_set *set)
{
        struct fwsh_ctx *ctx;
        const char *name = lfwsh_link_arg(L, 1, op, &ctx);

        lfwsh_check(L, ctx, fwsh_link_set(ctx, name, set), op, name);
        lua_settop(L, 1);
        return 1;
}

/*** link:up() -> link */
static int l_up(lua_State *L)
{
        struct fwsh_link_set set = FWSH_LINK_SET_INIT;

        set.up = 1;
        return set_link(L, "link.up", &set);
}

/*** link:down() -> link */
static int l_down(lua_State *L)
{
        struct fwsh_link_set set = FWSH_LINK_SET_INIT;

        set.up = 0;
        return set_link(L, "link.down", &set);
}

/*** link:set{up=, mtu=, mac=, name=, alias=, netns=, and for bridges grounding= and the bridge
 * options} -> link; all or
 * nothing. grounding=true lets a non-grounding bridge have addresses (IPv6 back
 * on); false makes it non-grounding again (refused while it has an address) */
static int l_set(lua_State *L)
{
        static const char *const own[] = { "up", "mtu", "mac", "name", "alias", "netns", "grounding",
                                            NULL };
        const char *known[LFWSH_KIND_FIELDS_MAX];
        struct fwsh_link_set set = FWSH_LINK_SET_INIT;
        const char *mac, *name, *netns;
        struct lfwsh_atomic at;
        struct fwsh_ctx *ctx;
        const char *link;
        int r, grounding = -1;

        luaL_checktype(L, 2, LUA_TTABLE);
        lfwsh_check_fields(L, 2, lfwsh_kind_fields("bridge", own, known));
        link = lfwsh_link_arg(L, 1, "link.set", &ctx);
        lua_getfield(L, 2, "up");
        if (!lua_isnil(L, -1))
                set.up = lfwsh_opt_bool(L, 2, "up", false);
        lua_pop(L, 1);
        set.mtu = lfwsh_opt_range(L, 2, "mtu", -1, 0, UINT32_MAX);
        mac = lfwsh_opt_string(L, 2, "mac", NULL);
        if (mac && fwsh_mac_parse(mac, set.mac) < 0)
                luaL_argerror(L, 2, lua_pushfstring(L, "field 'mac': '%s' is not a MAC address", mac));
        set.set_mac = mac != NULL;
        name = lfwsh_opt_string(L, 2, "name", NULL);
        if (name) {
                r = fwsh_name_check(ctx, name);
                if (r < 0)
                        lfwsh_fail_detail(L, r, "link.set", link,
                                          lua_pushfstring(L, "new name '%s': %s", name,
                                                          fwsh_ctx_detail(ctx)));
                snprintf(set.name, sizeof(set.name), "%s", name);
        }
        lua_getfield(L, 2, "grounding");
        if (!lua_isnil(L, -1))
                grounding = lfwsh_opt_bool(L, 2, "grounding", true);
        lua_pop(L, 1);
        set.alias = lfwsh_opt_string(L, 2, "alias", NULL);
        /* What fwsh keeps of an alias (struct change, struct fwsh_link): no silent cut. */
        luaL_argcheck(L, !set.alias || strlen(set.alias) < sizeof(((struct fwsh_link *)0)->alias), 2,
                      "field 'alias': 127 bytes at most");
        lfwsh_kind_opts(L, 2, "bridge", &set.opts);
        netns = lfwsh_opt_string(L, 2, "netns", NULL);
        set.netns = netns;
        /* The link's settings and its grounding stand or fall together. */
        lfwsh_atomic_begin(L, &at);
        r = fwsh_link_set(ctx, link, &set);
        if (r >= 0 && grounding >= 0)
                r = fwsh_bridge_set_grounding(ctx, set.name[0] ? set.name : link, grounding);
        if (r >= 0)
                r = lfwsh_atomic_commit(L, &at);
        if (r < 0) {
                char detail[FWSH_DETAIL_MAX];
                snprintf(detail, sizeof(detail), "%s", fwsh_ctx_detail(ctx));
                lfwsh_atomic_abort(L, &at);
                lfwsh_fail_detail(L, r, "link.set", link, detail);
        }
        if (netns)
                lfwsh_mark_deleted(L, 1); /* it lives in another namespace now */
        lua_settop(L, 1);
        return 1;
}

/*** link:delete() -> true; the handle is dead after it */
static int l_delete(lua_State *L)
{
        struct fwsh_ctx *ctx;
        const char *name = lfwsh_link_arg(L, 1, "link.delete", &ctx);

        lfwsh_check(L, ctx, fwsh_link_delete(ctx, name), "link.delete", name);
        lfwsh_mark_deleted(L, 1);
        lua_pushboolean(L, 1);
        return 1;
}

/*** link:detach() -> link; takes it off its bridge (brctl delif) */
static int l_detach(lua_State *L)
{
        lfwsh_port_detach(L, 1, "port.detach", NULL, NULL);
        lua_settop(L, 1);
        return 1;
}

const luaL_Reg lfwsh_link_methods[] = {
        { "info", l_info },     { "up", l_up },         { "down", l_down },
        { "set", l_set },       { "delete", l_delete }, { "detach", l_detach },
        { "impair", lfwsh_link_impair }, { "clear_impairment", lfwsh_link_clear_impairment },
        { NULL, NULL },
};

static const luaL_Reg fns[] = {
        { "get", l_get }, { "exists", l_exists }, { "list", l_list },
        { "delete_made", l_delete_made }, { NULL, NULL },
};

const struct lfwsh_part lfwsh_part_link = { .field = "link", .fns = fns, .kind = "" };
