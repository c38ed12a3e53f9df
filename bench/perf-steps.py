#!/usr/bin/env python3
"""perf-steps.py PERF-SCRIPT-OUTPUT - splits fwsh's CPU samples by the step of
core it was in: a lookup (RTM_GETLINK), a create or change (RTM_NEWLINK), the
tap ioctls, and the rest; and how much of each was spent waiting for the RTNL
mutex. Input: `perf script -F comm,tid,time,ip,sym` of a
`perf record --call-graph dwarf` run of fwsh."""
import collections
import sys

# The innermost of these on a sample's stack names its step.
STEPS = [
    ("tap_tun_create", "tap: open + TUNSETIFF + TUNSETPERSIST + close"),
    ("ctx_enter", "tap: ctx_enter (stat of /proc/thread-self/ns/net)"),
    ("sysctl_kernel", "sysctl write (non-grounding bridge)"),
    ("get_link", "lookup: RTM_GETLINK round trip"),
    ("fwsh_link_list", "dump: RTM_GETLINK NLM_F_DUMP"),
    ("link_request", "create/change: RTM_NEWLINK round trip"),
    ("nl_query_batch", "create/change: RTM_NEWLINKs, many to a sendmsg (fwsh.batch)"),
    ("link_kernel_del", "delete: RTM_DELLINK round trip"),
    ("addr_kernel", "address: RTM_NEWADDR round trip"),
    ("_dl_start", "process start: dynamic loader"),
    ("luaL_openlibs", "process start: Lua libraries"),
]
OTHER = "the rest: Lua, bindings, libnl, start and exit"


def samples(path):
    stack = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if stack:
                    yield stack
                stack = []
            elif line[0] in " \t":
                parts = line.split(None, 1)
                stack.append((parts[0], parts[1].strip() if len(parts) > 1 else "?"))
    if stack:
        yield stack


def main():
    total = collections.Counter()
    kernel = collections.Counter()
    rtnl = collections.Counter()
    n = 0
    for stack in samples(sys.argv[1]):
        n += 1
        syms = [s for _, s in stack]
        step = OTHER
        for key, label in STEPS:
            if any(s.startswith(key) for s in syms):
                step = label
                break
        total[step] += 1
        if stack[0][0].startswith("ffffffff"):
            kernel[step] += 1
        # rtnl_lock() is taken in rtnetlink_rcv_msg (RTM_GETLINK on this
        # kernel), in rtnl_newlink itself, or in the tun ioctls.
        for i, s in enumerate(syms[:-1]):
            if s.startswith("__mutex_lock") and syms[i + 1].split()[0] in (
                    "rtnetlink_rcv_msg", "rtnl_newlink", "rtnl_lock", "__tun_chr_ioctl"):
                rtnl[step] += 1
                break
    if n == 0:
        sys.exit("perf-steps: no samples")
    print(f"{n} samples")
    print(f"| {'step':52s} | {'all':>6s} | {'kernel':>6s} | {'RTNL wait':>9s} |")
    print(f"|{'-' * 54}|{'-' * 8}|{'-' * 8}|{'-' * 11}|")
    for step, c in total.most_common():
        print(f"| {step:52s} | {100 * c / n:5.1f}% | {100 * kernel[step] / n:5.1f}% |"
              f" {100 * rtnl[step] / n:8.1f}% |")


main()
