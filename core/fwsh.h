/* fwsh.h - the fwsh core, whole: what the bindings, the program and a C user
 * include. Each group of core/ has its own public face, in the order they
 * may call each other (each only the ones above it in this list):
 *   base/    contexts, names, netlink transport, small helpers
 *   change/  the one path every change takes: backend, journal, transactions
 *   net/     the kernel's network objects, their kernel and plan backends
 *   host/    kernel modules, boot persistence, br_netfilter, firewalld
 *   lab/     a lab's runtime: tags and teardown, processes, nftables
 * The conventions every function keeps are in base/fwsh_base.h. */
#ifndef FWSH_H
#define FWSH_H

#include "base/fwsh_base.h"
#include "change/fwsh_change.h"
#include "net/fwsh_net.h"
#include "host/fwsh_host.h"
#include "lab/fwsh_lab.h"

#endif
