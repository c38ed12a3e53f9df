/* clock.h - the monotonic clock in milliseconds, for deadlines and gaps.
 *
 * Header-only, so that the lab's small programs (fwsh-probe, fwsh-stream,
 * fwsh-guest and the guest's agent) share it without linking core.
 * clock_gettime needs _POSIX_C_SOURCE, which the build's _GNU_SOURCE gives. */
#ifndef FWSH_CLOCK_H
#define FWSH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Whole milliseconds since an arbitrary point: for deadlines. */
static inline int64_t fwsh_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The same with its fraction: for measuring gaps. */
static inline double fwsh_now_msf(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
