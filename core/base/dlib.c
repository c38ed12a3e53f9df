/* dlib.c - libkmod, libdbus, libnftables, libpcap and zlib, loaded when a script
 * first asks for modules, firewalld, nftables or a capture rather than at
 * every start. With the
 * fifteen libraries they pull in (libcrypto, libsystemd, libgcrypt, ...), they
 * were most of fwsh's start-up: 107 mmap calls and the relocations of 24
 * libraries before the first line of a script (bench/README.md). fwsh also
 * runs where they are not installed, and says which one is missing when it is
 * needed. As systemd does with its dlopen_many_sym_or_warn(). */
#include <dlfcn.h>
#include <errno.h>

#include "dlib.h"

int dlib_open(struct fwsh_ctx *ctx, struct dlib *lib)
{
        const struct dlib_sym *s;
        void *h;

        if (lib->handle)
                return 0;
        /* NODELETE: what libdbus keeps process-wide must outlive any dlclose. */
        h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h)
                return ctx_fail(ctx, -ELIBACC, "cannot load %s: %s", lib->soname, dlerror());
        for (s = lib->syms; s->name; s++) {
                void *p = dlsym(h, s->name);

                if (!p) {
                        for (const struct dlib_sym *t = lib->syms; t != s; t++)
                                *t->slot = NULL;
                        dlclose(h);
                        return ctx_fail(ctx, -ELIBACC, "%s has no %s", lib->soname, s->name);
                }
                *s->slot = p;
        }
        lib->handle = h;
        return 0;
}
