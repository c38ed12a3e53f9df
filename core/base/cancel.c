/* cancel.c - a signal's request to stop the blocking call in progress. The
 * program's handler calls fwsh_cancel() (async-signal-safe: it sets a flag);
 * every wait in core that can block (monitor, processes) looks at it at least
 * every CANCEL_SLICE_MS and returns -EINTR, taking the request: it is
 * delivered once, so that the cleanup which follows (stopping daemons, rolling
 * back) waits as it should. fwsh_cancel_clear() drops a request the program
 * delivered itself (between two blocking calls). */
#include <signal.h>

#include "internal.h"

static volatile sig_atomic_t requested;

void fwsh_cancel(void)
{
        requested = 1;
}

void fwsh_cancel_clear(void)
{
        requested = 0;
}

bool cancel_take(void)
{
        if (!requested)
                return false;
        requested = 0;
        return true;
}
