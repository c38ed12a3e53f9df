/* show_dot.c - fwsh.show{dot=true}: the topology that fwsh.show walks, as a
 * Graphviz graph: a bridge is a box (grounding: filled, with its addresses;
 * non-grounding: dashed), each port an ellipse joined to its bridge (a veth
 * whose other end is in another namespace says so), other links apart, the
 * named namespaces as notes; a port where the bridge learned a VRRP virtual
 * MAC (00:00:5e:00:01:VRID, read from its FDB now) is where a VRRP master
 * is: drawn red, bold, with the VRID. `dot -Tsvg` draws it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "net/show.h"

/* A string as a DOT quoted string's content: '"' and '\' escaped. */
static void quoted(luaL_Buffer *b, const char *s)
{
        luaL_addchar(b, '"');
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        luaL_addchar(b, '\\');
                if (*s == '\n')
                        luaL_addstring(b, "\\n");
                else
                        luaL_addchar(b, *s);
        }
        luaL_addchar(b, '"');
}

/* The link's addresses, one per line after its name ("" if none): grounding. */
static bool addresses(const struct topology *t, int ifindex, char *buf, size_t size)
{
        size_t n = 0;
        bool any = false;

        buf[0] = '\0';
        for (size_t i = 0; i < t->naddrs; i++) {
                const struct fwsh_addr *a = &t->addrs[i];
                if (a->ifindex != ifindex || (a->family == AF_INET6 && a->scope == RT_SCOPE_LINK))
                        continue;
                n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "\n%s", a->text);
                any = true;
        }
        return any;
}

/* The VRID of a VRRP virtual MAC that bridge br learned on port ifindex, 0 if none. */
static int vrrp_on(const struct fwsh_fdb *fdb, size_t n, int ifindex)
{
        for (size_t i = 0; i < n; i++) {
                const uint8_t *m = fdb[i].mac;
                if (fdb[i].ifindex == ifindex && !fdb[i].local && m[0] == 0x00 && m[1] == 0x00 &&
                    m[2] == 0x5e && m[3] == 0x00 && m[4] == 0x01)
                        return m[5];
        }
        return 0;
}

static void node(luaL_Buffer *b, const struct topology *t, const struct fwsh_link *l, int vrid)
{
        char label[512], extra[64] = "";
        const struct fwsh_impair *im = show_impairment(t, l->ifindex);

        if ((fwsh_link_kind_flags(l->kind) & FWSH_KIND_PAIR) && l->link_netnsid >= 0)
                snprintf(extra, sizeof(extra), "\nveth, peer in another namespace");
        else
                snprintf(extra, sizeof(extra), "\n%s%s", lfwsh_kind_word(l->kind), l->up ? "" : ", down");
        snprintf(label, sizeof(label), "%s%s%s%s", l->name, extra, im ? "\nimpaired" : "",
                 vrid ? "\nVRRP master here" : "");
        luaL_addstring(b, "  ");
        quoted(b, l->name);
        luaL_addstring(b, " [shape=ellipse, label=");
        if (vrid)
                snprintf(label + strlen(label), sizeof(label) - strlen(label), " (VRID %d)", vrid);
        quoted(b, label);
        if (vrid)
                luaL_addstring(b, ", color=\"#c00000\", fontcolor=\"#c00000\", penwidth=2.5");
        else if (!l->up)
                luaL_addstring(b, ", color=gray50, fontcolor=gray50");
        luaL_addstring(b, "];\n");
}

static void bridge(luaL_Buffer *b, struct fwsh_ctx *ctx, const struct topology *t, const struct fwsh_link *br)
{
        char addrs[1024], label[1200];
        bool grounding = addresses(t, br->ifindex, addrs, sizeof(addrs));
        struct fwsh_fdb *fdb = NULL;
        size_t nfdb = 0;

        snprintf(label, sizeof(label), "%s%s", br->name, grounding ? addrs : "\nnon-grounding");
        luaL_addstring(b, "  ");
        quoted(b, br->name);
        luaL_addstring(b, " [shape=box, label=");
        quoted(b, label);
        luaL_addstring(b, grounding ? ", style=\"filled,bold\", fillcolor=\"#cfe2ff\"]" : ", style=dashed]");
        luaL_addstring(b, ";\n");
        if (fwsh_fdb_list(ctx, br->name, &fdb, &nfdb) < 0)
                nfdb = 0; /* no FDB, no mark: the picture is still right */
        for (size_t i = 0; i < t->nlinks; i++) {
                const struct fwsh_link *p = &t->links[i];
                if (p->master != br->ifindex)
                        continue;
                node(b, t, p, vrrp_on(fdb, nfdb, p->ifindex));
                luaL_addstring(b, "  ");
                quoted(b, p->name);
                luaL_addstring(b, " -- ");
                quoted(b, br->name);
                luaL_addstring(b, ";\n");
        }
        free(fdb);
}

void show_dot(lua_State *L, struct fwsh_ctx *ctx, const struct topology *t)
{
        luaL_Buffer b;

        luaL_buffinit(L, &b);
        luaL_addstring(&b, "graph fwsh {\n"
                           "  graph [rankdir=LR, fontname=\"sans-serif\", labelloc=t, "
                           "label=\"fwsh show: bridges, their ports, the other links, the namespaces\"];\n"
                           "  node [fontname=\"sans-serif\", fontsize=10];\n"
                           "  edge [color=gray40];\n");
        for (size_t i = 0; i < t->nlinks; i++)
                if (show_is_bridge(&t->links[i]))
                        bridge(&b, ctx, t, &t->links[i]);
        /* the links that are neither a bridge nor a bridge's port (lo aside) */
        for (size_t i = 0; i < t->nlinks; i++) {
                const struct fwsh_link *l = &t->links[i];
                char addrs[1024], label[1200];
                if (show_is_bridge(l) || show_is_bridge(show_link(t, l->master)) || strcmp(l->name, "lo") == 0)
                        continue;
                addresses(t, l->ifindex, addrs, sizeof(addrs));
                snprintf(label, sizeof(label), "%s\n%s%s", l->name, lfwsh_kind_word(l->kind), addrs);
                luaL_addstring(&b, "  ");
                quoted(&b, l->name);
                luaL_addstring(&b, " [shape=ellipse, style=dotted, label=");
                quoted(&b, label);
                luaL_addstring(&b, "];\n");
        }
        if (t->nnetns) {
                luaL_addstring(&b, "  subgraph cluster_netns {\n    label=\"network namespaces\"; style=rounded;\n");
                for (size_t i = 0; i < t->nnetns; i++) {
                        luaL_addstring(&b, "    ");
                        char id[FWSH_NETNS_NAME_MAX + 8];
                        snprintf(id, sizeof(id), "netns:%s", t->netns[i]);
                        quoted(&b, id);
                        luaL_addstring(&b, " [shape=note, label=");
                        quoted(&b, t->netns[i]);
                        luaL_addstring(&b, "];\n");
                }
                luaL_addstring(&b, "  }\n");
        }
        luaL_addstring(&b, "  subgraph cluster_legend {\n    label=\"legend\"; style=rounded; fontsize=10;\n"
                      "    \"legend:g\" [shape=box, style=\"filled,bold\", fillcolor=\"#cfe2ff\", "
                      "label=\"grounding bridge\\n(addressed)\"];\n"
                      "    \"legend:n\" [shape=box, style=dashed, label=\"non-grounding bridge\\n(no address, "
                      "no route, no IPv6 link-local)\"];\n"
                      "    \"legend:m\" [shape=ellipse, color=\"#c00000\", fontcolor=\"#c00000\", penwidth=2.5, "
                      "label=\"port where a VRRP\\nmaster's MAC was learned\"];\n  }\n");
        luaL_addstring(&b, "}\n");
        luaL_pushresult(&b);
}
