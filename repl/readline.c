/* readline.c - GNU readline, loaded when the shell starts on a terminal. A
 * script never reads a line through it: linked, it and libtinfo were 2 of
 * the 9 libraries loaded at every start, about 0.9 ms and 25 page faults of
 * each run (bench/README.md). As core/base/dlib.c does for libkmod. */
#include <dlfcn.h>
#include <stdio.h>

#include "fwsh.h"
#include "readline.h"

#define READLINE_DEFINE(s) __typeof__(s) *sym_##s;
READLINE_SYMBOLS(READLINE_DEFINE)

#define READLINE_SLOT(s) { #s, (void **)&sym_##s },
static const struct {
        const char *name;
        void **slot;
} SYMS[] = { READLINE_SYMBOLS(READLINE_SLOT) };

int repl_readline_load(void)
{
        static void *lib;

        if (lib)
                return 0;
        /* NODELETE: readline's terminal state outlives any dlclose. */
        lib = dlopen("libreadline.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        for (size_t i = 0; lib && i < FWSH_N(SYMS); i++)
                if (!(*SYMS[i].slot = dlsym(lib, SYMS[i].name))) {
                        dlclose(lib);
                        lib = NULL;
                }
        if (!lib)
                fprintf(stderr, "fwsh: no line editing, history or completion: %s\n", dlerror());
        return lib ? 0 : -1;
}
