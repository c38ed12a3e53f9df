/* merge.c - fwsh-flows merge: the two sides' reports joined by (proto, id).
 * A connection counts in the worst class either side gave it (reset, then
 * lost bytes, stalled, failed, survived); one the server has no line for
 * failed; its gap is the longer of the two sides'. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows.h"


struct side_row {
        signed char cls;        /* -1: no line */
        float gap;
};

/* Splits line at tabs into at most max fields; returns how many. */
static int fields(char *line, char **f, int max)
{
        int n = 0;

        line[strcspn(line, "\n")] = 0;
        char *save = NULL;

        for (char *t = strtok_r(line, "\t", &save); t && n < max; t = strtok_r(NULL, "\t", &save))
                f[n++] = t;
        return n;
}

static int class_of(const char *name)
{
        for (int i = 0; i < CL_N; i++)
                if (strcmp(name, flows_class_names[i]) == 0)
                        return i;
        return CL_FAILED;
}

int flows_merge(const char *client, const char *server, const char *out_path)
{
        struct side_row *rows[2] = { calloc(FLOWS_MAX, sizeof(**rows)), calloc(UDP_MAX, sizeof(**rows)) };
        FILE *in = fopen(server, "r"), *out = NULL;
        long cls[CL_N] = { 0 }, total = 0;
        float *gaps = malloc(FLOWS_MAX * sizeof(*gaps));
        char line[1024], *f[17];
        int r = 1;

        if (!rows[0] || !rows[1] || !gaps)
                goto done;
        if (!in) {
                fprintf(stderr, "fwsh-flows: merge %s: %s\n", server, strerror(errno));
                goto done;
        }
        memset(rows[0], 0xff, FLOWS_MAX * sizeof(**rows));
        memset(rows[1], 0xff, UDP_MAX * sizeof(**rows));
        while (fgets(line, sizeof(line), in)) {
                unsigned long id;
                int udp;
                if (line[0] == '#' || fields(line, f, 17) != 17 || strcmp(f[0], "proto") == 0)
                        continue;
                udp = strcmp(f[0], "udp") == 0;
                id = strtoul(f[1], NULL, 10);
                if (id < (udp ? UDP_MAX : FLOWS_MAX)) {
                        struct side_row *s = &rows[udp][id];
                        int c = class_of(f[16]);
                        if (s->cls < 0 || c < s->cls)
                                s->cls = (signed char)c;
                        s->gap = strtof(f[11], NULL) > s->gap ? strtof(f[11], NULL) : s->gap;
                }
        }
        fclose(in);
        if (!(in = fopen(client, "r")) || (out_path && !(out = fopen(out_path, "w")))) {
                fprintf(stderr, "fwsh-flows: merge %s: %s\n", in ? out_path : client, strerror(errno));
                goto done;
        }
        if (out)
                fputs("proto\tid\tclient\tserver\tclass\tmax_gap_ms\n", out);
        while (fgets(line, sizeof(line), in)) {
                unsigned long id;
                int udp, c, sc = -1;
                float gap;
                if (line[0] == '#' || fields(line, f, 17) != 17 || strcmp(f[0], "proto") == 0)
                        continue;
                udp = strcmp(f[0], "udp") == 0;
                id = strtoul(f[1], NULL, 10);
                c = class_of(f[16]);
                gap = strtof(f[11], NULL);
                if (id < (udp ? UDP_MAX : FLOWS_MAX) && rows[udp][id].cls >= 0) {
                        sc = rows[udp][id].cls;
                        gap = rows[udp][id].gap > gap ? rows[udp][id].gap : gap;
                }
                int both = sc < 0 ? (c < CL_FAILED ? c : CL_FAILED) : sc < c ? sc : c;
                if (out)
                        fprintf(out, "%s\t%lu\t%s\t%s\t%s\t%.1f\n", f[0], id, flows_class_names[c],
                                sc < 0 ? "-" : flows_class_names[sc], flows_class_names[both], gap);
                if (udp)
                        continue;
                cls[both]++;
                if (total < FLOWS_MAX)
                        gaps[total] = gap;
                total++;
        }
        puts("side merged");
        flows_outcome(cls, total, gaps, total < FLOWS_MAX ? total : FLOWS_MAX);
        r = cls[CL_SURVIVED] == total ? 0 : 1;
done:
        if (in)
                fclose(in);
        if (out && fclose(out) != 0)
                r = 1;
        free(rows[0]);
        free(rows[1]);
        free(gaps);
        return r;
}
