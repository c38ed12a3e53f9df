/* dlib.h - a shared library loaded on first use (see dlib.c).
 *
 *     #define KMOD_SYMBOLS(X) X(kmod_new) X(kmod_unref)
 *     KMOD_SYMBOLS(DLIB_SYM)                 declares sym_kmod_new, sym_kmod_unref
 *     static const struct dlib_sym SYMS[] = { KMOD_SYMBOLS(DLIB_ARG) { NULL, NULL } };
 *     static struct dlib kmod = { "libkmod.so.2", SYMS, NULL };
 *     if ((r = dlib_open(ctx, &kmod)) < 0) return r;    then sym_kmod_new(...)
 *
 * The header of the library gives each pointer its type, so a call through
 * it is checked as a direct call would be. */
#ifndef FWSH_DLIB_H
#define FWSH_DLIB_H

#include "base/internal.h"

#define DLIB_SYM(f) static __typeof__(f) *sym_##f;
#define DLIB_ARG(f) { #f, (void **)&sym_##f },

struct dlib_sym {
        const char *name;
        void **slot;
};

struct dlib {
        const char *soname;
        const struct dlib_sym *syms;  /* ends with { NULL, NULL } */
        void *handle;                 /* NULL until loaded; never unloaded */
};

/* Loads lib and fills every slot, or fills none and fails with -ELIBACC. */
int dlib_open(struct fwsh_ctx *ctx, struct dlib *lib);

#endif
