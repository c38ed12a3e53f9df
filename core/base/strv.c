/* strv.c - NULL-less string vectors with a count, as every group passes them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char **fwsh_strv_free(char **v, size_t n)
{
        if (v)
                for (size_t i = 0; i < n; i++)
                        free(v[i]);
        free(v);
        return NULL;
}

int strv_push(char ***v, size_t *n, const char *s, size_t len)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(**v));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strndup(s, len);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}
