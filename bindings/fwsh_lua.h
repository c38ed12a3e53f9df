/* fwsh_lua.h - what the binding files share, grouped by the file each comes
 * from (as luv's private.h): every file depends only on the files of its own
 * group and the groups below it (tools/layers checks it). */
#ifndef FWSH_LUA_H
#define FWSH_LUA_H

#include <lauxlib.h>
#include <lua.h>

#include "fwsh.h"

#define LFWSH_ERROR_MT "fwsh.error"

/* ---- from base/state.c ---------------------------------------------------------- */

/* The session of one Lua state: the context of the namespace it works in now
 * (changed by fwsh.netns.run), the open transaction, the lab name. */
struct lfwsh_state {
        struct fwsh_ctx *ctx;
        struct fwsh_journal *journal;
        char lab[FWSH_LAB_MAX + 1];
        bool lab_pinned;                            /* fwsh --lab NAME: fwsh.lab(x) keeps it */
        bool plan;                                  /* a dry run: see lfwsh_set_mode */
        void (*explain)(void *arg, const char *lines);
        void *explain_arg;
        int batches;                                /* fwsh.batch calls running now */
        bool ended;                                 /* the run is over: no more changes */
};

struct lfwsh_state *lfwsh_state(lua_State *L);
/* Sets how the session makes changes, before it makes any: for real, or (plan)
 * on a model of the namespaces it works in; and whether each change is also
 * given to explain as the command lines that make it. */
void lfwsh_set_mode(lua_State *L, bool plan, void (*explain)(void *arg, const char *lines), void *arg);
/* Opens a context for the namespace the thread is in now, in the session's
 * mode (planned from scratch if empty), named name for explained lines
 * (NULL: none). 0 or -errno; on failure *ret_ctx is NULL or has the reason. */
int lfwsh_open_ctx(lua_State *L, const char *name, bool empty, struct fwsh_ctx **ret_ctx);
/* The context to work through now, with the session's journal and lab on it.
 * Raises an fwsh error if it cannot be opened. */
struct fwsh_ctx *lfwsh_ctx(lua_State *L);
/* Puts the session's journal and lab on ctx (one a handle holds) and returns it.
 * Raises once the program has ended the run (ended: its final rollback done). */
struct fwsh_ctx *lfwsh_use(lua_State *L, struct fwsh_ctx *ctx);

/* ---- from base/error.c ---------------------------------------------------------- */

/* Raises the fwsh error for err (< 0) from op on object: a table with op,
 * object, errno, code ("EEXIST"), reason, detail and message fields, whose
 * tostring is "FILE:LINE: op object: reason: detail". Never returns. */
int lfwsh_fail(lua_State *L, struct fwsh_ctx *ctx, int err, const char *op, const char *object);
/* The same with the detail given (NULL or "" for none). */
int lfwsh_fail_detail(lua_State *L, int err, const char *op, const char *object, const char *detail);
/* Raises err unless it is >= 0, which it returns. */
int lfwsh_check(lua_State *L, struct fwsh_ctx *ctx, int err, const char *op, const char *object);

/* ---- from base/handle.c: link handles (fwsh.link, fwsh.bridge, fwsh.tap, ...) -- */

struct lfwsh_link {
        struct fwsh_ctx *ctx;     /* the namespace it lives in (a reference), NULL: closed */
        int ifindex;
        char name[FWSH_NAME_MAX + 1];
        char kind[16];
        bool deleted;
        bool made;                /* this run made it: only then does __close delete it */
};

/* While fwsh.batch runs fn: hold_begin pushes the list where every handle
 * pushed on a queued link (ifindex 0) is kept, hold_end stops keeping them,
 * and hold_release gives each held handle (the list at index held, popped)
 * its link's ifindex if made, or marks it deleted. */
void lfwsh_hold_begin(lua_State *L);
void lfwsh_hold_end(lua_State *L);
void lfwsh_hold_release(lua_State *L, int held, struct fwsh_ctx *ctx, bool made);

/* Pushes a handle on the link l in ctx; its type follows l's kind (ifindex 0:
 * queued in the open batch). */
void lfwsh_push_link(lua_State *L, struct fwsh_ctx *ctx, const struct fwsh_link *l);
/* What KIND.add and KIND.ensure (op) return once core's r, checked, says the
 * link called name, of kind, is there: its handle (marked made, so that its
 * __close deletes it, unless ensure found it there: r == 1 means ensure made
 * it), and for ensure whether it made it. Raises if the link is gone. */
int lfwsh_return_new_link(lua_State *L, struct fwsh_ctx *ctx, const char *name, const char *kind,
                          const char *op, bool ensure, int r);
/* The handle at idx, or NULL if it is not one. */
struct lfwsh_link *lfwsh_to_link(lua_State *L, int idx);
/* The word for a kind in messages and data: "link" for a link of no kind. */
const char *lfwsh_kind_word(const char *kind);
/* A link argument, a name or a handle: its current name, and the context to
 * use for it (the handle's, or the session's). Raises on a deleted handle or a
 * value that is neither. */
const char *lfwsh_link_arg(lua_State *L, int idx, const char *op, struct fwsh_ctx **ret_ctx);
/* Makes the metatable for links of kind ("" for any other kind): methods
 * (lfwsh_link_methods) plus extra (may be NULL). */
void lfwsh_new_link_type(lua_State *L, const char *kind, const luaL_Reg *methods,
                         const luaL_Reg *extra);
/* Marks the handle at idx (if one) deleted. */
void lfwsh_mark_deleted(lua_State *L, int idx);

/* ---- from base/opts.c ----------------------------------------------------------- */

/* Option tables: the field's value, or def when absent; raises on a wrong type,
 * naming the field. */
bool lfwsh_opt_bool(lua_State *L, int t, const char *field, bool def);
const char *lfwsh_opt_string(lua_State *L, int t, const char *field, const char *def);
/* The field as an integer from min to max: never wrapped to fit. */
lua_Integer lfwsh_opt_range(lua_State *L, int t, const char *field, lua_Integer def,
                            lua_Integer min, lua_Integer max);
/* The field of an option row, by its unit (a boolean; an integer up to the
 * row's max; seconds in whole hundredths), in the kernel's unit; -1 when
 * absent. lfwsh_push_row pushes such a value back (-1: unknown) in the row's unit. */
int64_t lfwsh_opt_row(lua_State *L, int t, const struct fwsh_opt_row *r);
void lfwsh_push_row(lua_State *L, const struct fwsh_opt_row *r, int64_t v);
/* Seconds, from a field or the argument at idx: a finite number from 0 to
 * INT_MAX / 1000 (def when absent); lfwsh_ms gives them in ms, rounded up. */
double lfwsh_opt_seconds(lua_State *L, int t, const char *field, double def);
double lfwsh_check_seconds(lua_State *L, int idx, double def);
int lfwsh_ms(double seconds);
/* A string argument with no zero byte inside (luaL_checkstring would pass one
 * on, and the kernel would read a shorter name); lfwsh_opt_str: def if absent.
 * lfwsh_to_str: the string at idx (a list's item), what names it for argument arg. */
const char *lfwsh_check_str(lua_State *L, int idx);
const char *lfwsh_opt_str(lua_State *L, int idx, const char *def);
const char *lfwsh_to_str(lua_State *L, int idx, int arg, const char *what);
/* The string at idx as the value of field of the option table at t (raises
 * naming the field on another type or a zero byte). */
const char *lfwsh_field_str(lua_State *L, int idx, int t, const char *field);
/* Raises if the table at t has a field that is not in known (NULL-ended). */
void lfwsh_check_fields(lua_State *L, int t, const char *const known[]);
/* uid or gid: a number or a user/group name. -1 when absent. */
lua_Integer lfwsh_opt_id(lua_State *L, int t, const char *field, bool group);

/* ---- from base/push.c ----------------------------------------------------------- */

/* Pushes v[0..n) as a list of strings (v stays the caller's). */
void lfwsh_push_strv(lua_State *L, char *const *v, size_t n);

/* ---- from net/port.c ------------------------------------------------------------ */

/* Makes the link at idx (a name or a handle) a port of bridge, in ctx (the
 * bridge's); raises as op, naming "PORT to BRIDGE". */
void lfwsh_port_attach(lua_State *L, struct fwsh_ctx *ctx, const char *bridge, int idx, const char *op);
/* Takes the link at idx (a name or a handle) off its bridge; raises as op.
 * With br (a bridge in ctx), only if it is a port of br. */
void lfwsh_port_detach(lua_State *L, int idx, const char *op, struct fwsh_ctx *ctx,
                       const struct fwsh_link *br);

/* ---- from net/link.c ------------------------------------------------------------ */

/* The methods every link handle has. */
extern const luaL_Reg lfwsh_link_methods[];
/* Two of them, of net/impair.c: link:impair and link:clear_impairment. */
int lfwsh_link_impair(lua_State *L);
int lfwsh_link_clear_impairment(lua_State *L);
/* Pushes an impairment as link:impair() reads it back (net/impair.c). */
void lfwsh_push_impairment(lua_State *L, const struct fwsh_impair *im);
/* Reads the options of the link kind called kind (its rows, fwsh_kind_opts,
 * each by its unit) from the option table at t (net/kind_opts.c). */
void lfwsh_kind_opts(lua_State *L, int t, const char *kind, struct fwsh_opt_values *ret);
/* own's keys, then every option row's of kind, NULL after them, into ret: a
 * list for lfwsh_check_fields (net/kind_opts.c). */
#define LFWSH_KIND_FIELDS_MAX (16 + FWSH_OPTS_MAX + 1)
const char *const *lfwsh_kind_fields(const char *kind, const char *const own[],
                                     const char *ret[LFWSH_KIND_FIELDS_MAX]);
/* Pushes a list of handles for links (ifindexes) in ctx. */
void lfwsh_push_link_list(lua_State *L, struct fwsh_ctx *ctx, const struct fwsh_link *links, size_t n);
/* Pushes handles for every link of kind (NULL: of any) in the session's namespace. */
int lfwsh_push_links_of_kind(lua_State *L, const char *kind, const char *op);
/* The link at idx (a name or a handle) into *ret, with its context; raises
 * unless it is of kind (NULL: any). Returns its name. */
const char *lfwsh_check_kind(lua_State *L, int idx, const char *kind, const char *op,
                             struct fwsh_ctx **ret_ctx, struct fwsh_link *ret);

/* ---- from change/transaction.c -------------------------------------------------- */

/* A few changes that stand or fall together, inside or outside a transaction:
 * begin, make them, then commit, or abort (which undoes them) before raising. */
struct lfwsh_atomic {
        struct fwsh_journal *prev, *j;
};
void lfwsh_atomic_begin(lua_State *L, struct lfwsh_atomic *a);
/* 0, or the error from recording the changes in the outer transaction. */
int lfwsh_atomic_commit(lua_State *L, struct lfwsh_atomic *a);
void lfwsh_atomic_abort(lua_State *L, struct lfwsh_atomic *a);

/* ---- from lab/lab.c ------------------------------------------------------------- */

/* Removes the state directories fwsh.lab_dir made in this session (a script
 * that failed: the fwsh program undoes them with its changes). */
void lfwsh_lab_dirs_undo(lua_State *L);

/* ---- from lab/proc.c ------------------------------------------------------------ */

/* fwsh.proc.run, which fwsh.wait{run=} calls (whatever a script puts in the
 * table's field). */
extern const lua_CFunction lfwsh_proc_run;

/* ---- the parts of the module, one per file: fwsh.c opens them ------------------- */

/* What one binding file adds to the module: its functions (fns), in a table
 * of their own (fwsh.FIELD) or, when field is NULL, as fields of the module
 * itself. A link kind's part also makes the kind's handle type (kind, with
 * methods beside every link's), and its table holds every link method too
 * (fwsh.bridge.delete(br) as br:delete()). init, if any, runs first: the
 * metatables its functions use. */
struct lfwsh_part {
        const char *field;
        const luaL_Reg *fns;
        const char *kind;
        const luaL_Reg *methods;
        void (*init)(lua_State *L);
};

extern const struct lfwsh_part lfwsh_part_link, lfwsh_part_bridge, lfwsh_part_tap,
        lfwsh_part_veth, lfwsh_part_vxlan, lfwsh_part_port, lfwsh_part_addr, lfwsh_part_route,
        lfwsh_part_netns, lfwsh_part_batch, lfwsh_part_show, lfwsh_part_transaction,
        lfwsh_part_mode, lfwsh_part_lab, lfwsh_part_host, lfwsh_part_module, lfwsh_part_boot,
        lfwsh_part_brnf, lfwsh_part_firewalld, lfwsh_part_proc, lfwsh_part_wait, lfwsh_part_nft,
        lfwsh_part_capture;

/* Pushes the module table: fwsh.link, fwsh.bridge, ... (luaopen_fwsh in fwsh.so). */
int lfwsh_open(lua_State *L);
int luaopen_fwsh(lua_State *L);

#endif
