/* wire.h - the guest agent's protocol on its virtio-serial port
 * (org.fwsh.agent), spoken by fwsh-agent in the guest and fwsh-guest on the
 * host. One request, then its reply, per host connection:
 *
 *   request  "FWSQ" id:u32 len:u32, then len bytes: the op and its
 *            arguments, each ended by a zero byte
 *   reply    frames "FWSR" id:u32 type:u8 len:u32, then len bytes of data
 *            type 'o' standard output, 'e' standard error, 'x' the end:
 *            "exit N", "signal N", "timeout" or "error TEXT"
 *
 * Numbers are little-endian. A frame whose id is not the request's is a
 * reply to an earlier request whose host went away; the host skips it.
 *
 * ops: ping                     -> the boot report; exit 0 once booted well
 *      run TIMEOUT_MS ARGV...   -> its output and exit status
 *      spawn OUTFILE ARGV...    -> its pid; it runs on, in its own session
 *      status PID               -> "running", "exit N", "signal N" or "unknown"
 *      kill PID SIGNAL          -> sent to its process group
 *      write PATH VALUE         -> the value written to the file (sysctl)
 */
#ifndef FWSH_GUEST_WIRE_H
#define FWSH_GUEST_WIRE_H

#include <stdint.h>
#include <string.h>

#define WIRE_PORT_NAME "org.fwsh.agent"
#define WIRE_REQ_MAGIC "FWSQ"
#define WIRE_REP_MAGIC "FWSR"
#define WIRE_REQ_HEAD 12
#define WIRE_REP_HEAD 13
#define WIRE_MAX_REQ (64 * 1024)
#define WIRE_MAX_ARGS 64

static inline void wire_put32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
        p[2] = (unsigned char)(v >> 16);
        p[3] = (unsigned char)(v >> 24);
}

static inline uint32_t wire_get32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
