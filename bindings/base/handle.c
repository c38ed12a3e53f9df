/* handle.c - link handles, after liolib's file handles: made closed, opened
 * once the kernel said yes; one metatable per kind, each named once. __gc only
 * lets go of the handle: the kernel object outlives the script. __close (a
 * `local x <close>`) deletes the object if this run made it (add, or an ensure
 * that created it): scoped links for experiments; on a link it found (get,
 * list, an ensure that accepted one) it lets go, as __gc does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if.h>
#include <linux/if_bridge.h>

#include "fwsh_lua.h"

static const char *type_of(const char *kind)
{
        return fwsh_link_kind_type(kind);
}

/* Every link type's metatable has this key: one lookup tells a link handle,
 * where luaL_testudata would look each of the five type names up. */
static const char LINK_TYPE = 'l';

struct lfwsh_link *lfwsh_to_link(lua_State *L, int idx)
{
        void *p = lua_touserdata(L, idx);
        bool link;

        if (!p || !lua_getmetatable(L, idx))
                return NULL;
        link = lua_rawgetp(L, -1, &LINK_TYPE) == LUA_TBOOLEAN;
        lua_pop(L, 2);
        return link ? p : NULL;
}

/* Handles on links queued in an open batch (ifindex 0): the registry keeps a
 * list of them while fwsh.batch runs, which gives each its ifindex after. */
static const char HELD = 'h';

static void hold(lua_State *L, int idx)
{
        idx = lua_absindex(L, idx);
        if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HELD) == LUA_TTABLE) {
                lua_pushvalue(L, idx);
                lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
        lua_pop(L, 1);
}

void lfwsh_hold_release(lua_State *L, int held, struct fwsh_ctx *ctx, bool made)
{
        for (lua_Integer i = 1; lua_rawgeti(L, held, i) != LUA_TNIL; i++) {
                struct lfwsh_link *h = lfwsh_to_link(L, -1);
                int r = made && h ? fwsh_link_index(ctx, h->name) : -ENODEV;

                if (h && r > 0)
                        h->ifindex = r;
                else
                        lfwsh_mark_deleted(L, -1);
                lua_pop(L, 1);
        }
        lua_pop(L, 1);
}

void lfwsh_hold_begin(lua_State *L)
{
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &HELD);
}

void lfwsh_hold_end(lua_State *L)
{
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &HELD);
}

void lfwsh_push_link(lua_State *L, struct fwsh_ctx *ctx, const struct fwsh_link *l)
{
        struct lfwsh_link *h = lua_newuserdatauv(L, sizeof(*h), 0);

        memset(h, 0, sizeof(*h)); /* closed until filled */
        luaL_setmetatable(L, type_of(l->kind));
        h->ifindex = l->ifindex;
        memcpy(h->name, l->name, sizeof(h->name));
        fwsh_strcpy(h->kind, sizeof(h->kind), l->kind);
        h->ctx = fwsh_ctx_ref(ctx);
        if (h->ifindex == 0)
                hold(L, -1);
}

/* Says the handle at idx is on a link this run made: its __close deletes it. */
static void set_made(lua_State *L, int idx)
{
        struct lfwsh_link *h = lfwsh_to_link(L, idx);

        if (h)
                h->made = true;
}

int lfwsh_return_new_link(lua_State *L, struct fwsh_ctx *ctx, const char *name, const char *kind,
                          const char *op, bool ensure, int r)
{
        struct fwsh_link l = { 0 };
        int ifindex = fwsh_batch_is_open(ctx) ? 0 : fwsh_link_index(ctx, name);

        if (ifindex < 0)
                lfwsh_fail(L, ctx, ifindex, op, name);
        l.ifindex = ifindex;
        fwsh_strcpy(l.name, sizeof(l.name), name);
        fwsh_strcpy(l.kind, sizeof(l.kind), kind);
        lfwsh_push_link(L, ctx, &l);
        if (!ensure || r == 1)
                set_made(L, -1);
        if (!ensure)
                return 1;
        lua_pushboolean(L, r == 1);
        return 2;
}

const char *lfwsh_kind_word(const char *kind)
{
        return kind[0] ? kind : "link";
}

const char *lfwsh_link_arg(lua_State *L, int idx, const char *op, struct fwsh_ctx **ret_ctx)
{
        struct lfwsh_link *h = lfwsh_to_link(L, idx);
        char now[FWSH_NAME_MAX + 1];
        int r;

        if (!h) {
                const char *name = lfwsh_check_str(L, idx);
                *ret_ctx = lfwsh_ctx(L);
                return name;
        }
        if (h->deleted || !h->ctx)
                luaL_error(L, "attempt to use a deleted %s", lfwsh_kind_word(h->kind));
        if (h->ifindex == 0)
                luaL_error(L, "%s %s is made when its fwsh.batch ends: use it after", lfwsh_kind_word(h->kind),
                           h->name);
        lfwsh_use(L, h->ctx);
        /* The handle follows the ifindex, so a rename does not lose it. */
        r = fwsh_link_name(h->ctx, h->ifindex, now);
        if (r < 0)
                lfwsh_fail(L, h->ctx, r, op, h->name);
        memcpy(h->name, now, sizeof(h->name));
        *ret_ctx = h->ctx;
        return h->name;
}

void lfwsh_mark_deleted(lua_State *L, int idx)
{
        struct lfwsh_link *h = lfwsh_to_link(L, idx);

        if (h) {
                h->deleted = true;
                h->ctx = fwsh_ctx_unref(h->ctx);
        }
}

/* ---- metamethods, shared by every link type --------------------------------------- */

static struct lfwsh_link *check_handle(lua_State *L, int idx)
{
        struct lfwsh_link *h = lfwsh_to_link(L, idx);

        if (!h)
                luaL_typeerror(L, idx, "fwsh link");
        return h;
}

static int handle_gc(lua_State *L)
{
        struct lfwsh_link *h = check_handle(L, 1);

        h->ctx = fwsh_ctx_unref(h->ctx);
        return 0;
}

static int handle_close(lua_State *L)
{
        struct lfwsh_link *h = check_handle(L, 1);
        int r;

        /* Only what this run made: a handle from get, list or an ensure that
         * found the link there lets go of it, as __gc does. And only while
         * the name is still on that link (ifindex) with the lab's tag: not
         * on one made since. */
        if (h->deleted || !h->ctx || !h->made)
                return 0;
        lfwsh_use(L, h->ctx);
        r = h->ifindex > 0 ? fwsh_link_delete_made(h->ctx, h->name, h->ifindex) : 0;
        if (r < 0 && r != -ENODEV)
                lfwsh_fail(L, h->ctx, r, "link.delete", h->name);
        lfwsh_mark_deleted(L, 1);
        return 0;
}

static int handle_tostring(lua_State *L)
{
        struct lfwsh_link *h = check_handle(L, 1);
        const char *kind = lfwsh_kind_word(h->kind);
        struct fwsh_link l;
        luaL_Buffer b;

        if (h->deleted || !h->ctx)
                return lua_pushfstring(L, "%s %s (deleted)", kind, h->name), 1;
        if (h->ifindex == 0)
                return lua_pushfstring(L, "%s %s (queued in a batch)", kind, h->name), 1;
        if (fwsh_link_get_index(h->ctx, h->ifindex, &l) < 0)
                return lua_pushfstring(L, "%s %s (gone)", kind, h->name), 1;
        luaL_buffinit(L, &b);
        lua_pushfstring(L, "%s %s (%s", kind, l.name, l.up ? "up" : "down");
        luaL_addvalue(&b);
        if (fwsh_link_kind_flags(l.kind) & FWSH_KIND_PORTS) {
                int *ports = NULL;
                size_t n = 0;
                if (fwsh_bridge_ports(h->ctx, l.name, &ports, &n) == 0) {
                        lua_pushfstring(L, ", %d port%s", (int)n, n == 1 ? "" : "s");
                        luaL_addvalue(&b);
                }
                free(ports);
        } else {
                struct fwsh_link m;
                if (l.master && fwsh_link_get_index(h->ctx, l.master, &m) == 0) {
                        lua_pushfstring(L, ", port of %s", m.name);
                        luaL_addvalue(&b);
                }
                luaL_addstring(&b, l.carrier ? ", carrier" : ", no carrier");
        }
        luaL_addchar(&b, ')');
        luaL_pushresult(&b);
        return 1;
}

static int handle_eq(lua_State *L)
{
        struct lfwsh_link *a = lfwsh_to_link(L, 1), *b = lfwsh_to_link(L, 2);

        /* Two handles of one queued link are one userdata: rawequal, not here. */
        lua_pushboolean(L, a && b && a->ifindex == b->ifindex && a->ifindex && a->ctx && b->ctx &&
                                   fwsh_ctx_same_netns(a->ctx, b->ctx));
        return 1;
}

/* name, ifindex and kind read as fields; everything else is a method. */
static int handle_index(lua_State *L)
{
        struct lfwsh_link *h = check_handle(L, 1);
        const char *key = lua_tostring(L, 2);

        if (key && strcmp(key, "name") == 0 && !h->deleted && h->ctx && h->ifindex) {
                struct fwsh_ctx *ctx;
                lua_pushstring(L, lfwsh_link_arg(L, 1, "link.name", &ctx));
                return 1;
        }
        if (key && strcmp(key, "name") == 0)
                return lua_pushstring(L, h->name), 1;
        if (key && strcmp(key, "ifindex") == 0)
                return lua_pushinteger(L, h->ifindex), 1;
        if (key && strcmp(key, "kind") == 0)
                return lua_pushstring(L, lfwsh_kind_word(h->kind)), 1;
        lua_getmetatable(L, 1);
        lua_getfield(L, -1, "methods");
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
        return 1;
}

void lfwsh_new_link_type(lua_State *L, const char *kind, const luaL_Reg *methods,
                         const luaL_Reg *extra)
{
        static const luaL_Reg meta[] = {
                { "__gc", handle_gc },       { "__close", handle_close },
                { "__tostring", handle_tostring }, { "__eq", handle_eq },
                { "__index", handle_index }, { NULL, NULL },
        };

        luaL_newmetatable(L, type_of(kind));
        luaL_setfuncs(L, meta, 0);
        lua_pushboolean(L, 1);
        lua_rawsetp(L, -2, &LINK_TYPE);
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        if (extra)
                luaL_setfuncs(L, extra, 0);
        lua_setfield(L, -2, "methods");
        lua_pop(L, 1);
}
