/* monitor.c - link and neighbour (FDB) events of one namespace: an rtnetlink
 * socket subscribed to RTNLGRP_LINK and RTNLGRP_NEIGH, read with a deadline.
 * Events only say "something changed": whoever waits reads the state it
 * cares about again. When the kernel drops events (ENOBUFS, the socket's
 * buffer overran), the monitor says so, and reading the state by a dump is
 * the resync. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "base/clock.h"
#include "internal.h"

struct fwsh_monitor {
        int fd;
        struct fwsh_monitor_stats stats;
};

int fwsh_monitor_open(struct fwsh_ctx *ctx, struct fwsh_monitor **ret_mon)
{
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
                                  .nl_groups = RTMGRP_LINK | RTMGRP_NEIGH };
        struct fwsh_monitor *m;
        int saved, size = 1 << 20, r;

        ctx_clear(ctx);
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        /* A netlink socket reports the namespace it was made in. */
        r = ctx_enter(ctx, &saved);
        if (r < 0) {
                free(m);
                return ctx_fail(ctx, r, "entering the namespace");
        }
        m->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        r = m->fd < 0 ? -errno : 0;
        ctx_leave(saved);
        if (r == 0) {
                setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
                if (bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                        r = -errno;
        }
        if (r < 0) {
                fwsh_monitor_free(m);
                return ctx_fail(ctx, r, "rtnetlink monitor socket");
        }
        *ret_mon = m;
        return 0;
}

struct fwsh_monitor *fwsh_monitor_free(struct fwsh_monitor *m)
{
        if (m) {
                if (m->fd >= 0)
                        close(m->fd);
                free(m);
        }
        return NULL;
}

/* Reads every pending message. 1 if there was any (or an overrun), 0 if none. */
static int drain(struct fwsh_monitor *m)
{
        char buf[16384];
        int got = 0;

        for (;;) {
                ssize_t n = recv(m->fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS) {
                                /* Events were lost: the caller's dump is the resync. */
                                m->stats.overruns++;
                                got = 1;
                                continue;
                        }
                        return errno == EAGAIN ? got : -errno;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        switch (h->nlmsg_type) {
                        case RTM_NEWLINK:
                        case RTM_DELLINK:
                                m->stats.link_events++;
                                break;
                        case RTM_NEWNEIGH:
                        case RTM_DELNEIGH:
                                m->stats.neigh_events++;
                                break;
                        default:
                                break;
                        }
                        got = 1;
                }
        }
}

int fwsh_monitor_wait(struct fwsh_monitor *m, int timeout_ms)
{
        struct pollfd p = { .fd = m->fd, .events = POLLIN };
        int64_t deadline;
        int r = drain(m);

        if (r != 0)
                return r;
        deadline = fwsh_now_ms() + timeout_ms;
        for (;;) {
                int left = timeout_ms;
                if (timeout_ms >= 0) {
                        left = (int)(deadline - fwsh_now_ms());
                        if (left < 0)
                                left = 0;
                }
                if (cancel_take())
                        return -EINTR;
                /* In slices: a signal that came just before poll is seen after one. */
                r = poll(&p, 1, left < 0 || left > CANCEL_SLICE_MS ? CANCEL_SLICE_MS : left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0) {
                        if (left < 0 || left > CANCEL_SLICE_MS)
                                continue;
                        return 0;
                }
                r = drain(m);
                if (r != 0 || left == 0)
                        return r;
        }
}

void fwsh_monitor_get_stats(const struct fwsh_monitor *m, struct fwsh_monitor_stats *ret)
{
        *ret = m->stats;
}
