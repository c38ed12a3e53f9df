/* internal.h - what core/host/'s files share. Host setup changes the host, not
 * a namespace's network objects: it may use core/change/ (a sysctl is a
 * change, rolled back like any) and core/base/, never core/net/ or core/lab/. */
#ifndef FWSH_HOST_INTERNAL_H
#define FWSH_HOST_INTERNAL_H

#include "change/internal.h"
#include "host/fwsh_host.h"

#endif
