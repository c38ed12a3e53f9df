/* floor.c - the floor the benchmark compares with: the least work that builds N bridges and
 * N x T taps (each up and a port of its bridge) in the network namespace it
 * runs in. Plain sockets, no libnl: rtnetlink requests go out many to one
 * sendmsg, and their acks are read after. Only the tap ioctls, which have no
 * rtnetlink form, go one by one.
 *
 *   floor [-n NETNS] [-a ALIAS [-k]] [-d] [-s] [-i] N T
 *
 *   -n NETNS   work in /run/netns/NETNS (as `ip -n` does)
 *   -a ALIAS   tag every link with this ifalias too, as fwsh does ("fwsh:LAB")
 *   -k         and make the links as fwsh does, so that a SIGKILL at any
 *              instant leaves no link of the lab untagged: a link group in
 *              every bridge's create, and each tap tagged (alias and group)
 *              while held, before TUNSETPERSIST, in windows of 32 (one
 *              sendmsg for a window's tags); up and attached after
 *   -d         delete them instead: one RTM_DELLINK each, all batched
 *   -s         serial: one request per sendmsg, its ack read before the next
 *              (fwsh's way today, less its lookups)
 *   -i         interleaved, in the order a script goes: a bridge, then its
 *              taps, each made and attached before the next (as fwsh and
 *              `ip -batch` do); without it, each kind of request in a run of
 *              its own: all bridges, all taps, all attachments
 *
 * Names as bench/gen.sh makes them: bridges br000.., taps t000-0... Exits 0
 * when every request was acked, 1 with the kernel's reason otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* A batch of requests for one sendmsg. 32 KiB keeps each send one small skb
 * in the kernel; the acks of one batch fit the receive buffer set below. */
#define BATCH_BYTES (32 * 1024)

struct batch {
        char buf[BATCH_BYTES];
        size_t len;
        unsigned count;        /* requests in buf, each asks for an ack */
};

static int sk = -1;
static uint32_t seq;
static bool serial;            /* -s: a round trip per request */
static bool interleaved;       /* -i: in a script's order */
static bool kill_safe;         /* -k: tagged before persistent, as fwsh */
static const uint32_t group = 0x40000001; /* -k: the lab's link group */
static int *bridge_index;      /* filled from the echoed RTM_NEWLINK */
static int nbridges;

/* The names bench/gen.sh gives: br000.. and t000-0.. (N <= 99999, T <= 99). */
static void bridge_name(char buf[IFNAMSIZ], int i)
{
        snprintf(buf, IFNAMSIZ, "br%03d", i % 100000);
}

static void tap_name(char buf[IFNAMSIZ], int i, int k)
{
        snprintf(buf, IFNAMSIZ, "t%03d-%d", i % 100000, k % 100);
}

static void die(const char *what, int err)
{
        fprintf(stderr, "floor: %s: %s\n", what, strerror(err));
        exit(1);
}

static void put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
        struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

        a->rta_type = type;
        a->rta_len = (unsigned short)RTA_LENGTH(len);
        memcpy(RTA_DATA(a), data, len);
        h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static struct rtattr *nest_start(struct nlmsghdr *h, unsigned short type)
{
        struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

        put_attr(h, type, NULL, 0);
        return a;
}

static void nest_end(struct nlmsghdr *h, struct rtattr *a)
{
        a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

/* Reads replies until every request of the batch was answered. An echoed
 * RTM_NEWLINK tells a new bridge's ifindex; any error ends the program. */
static void collect(unsigned want)
{
        static char buf[64 * 1024];

        while (want > 0) {
                ssize_t n = recv(sk, buf, sizeof(buf), 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        die("recv", errno);
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                struct nlmsgerr *e = NLMSG_DATA(h);
                                if (e->error)
                                        die("request", -e->error);
                                want--;
                        } else if (h->nlmsg_type == RTM_NEWLINK) {
                                struct ifinfomsg *ifi = NLMSG_DATA(h);
                                int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

                                for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len);
                                     a = RTA_NEXT(a, len)) {
                                        int i;
                                        if (a->rta_type == IFLA_IFNAME &&
                                            sscanf(RTA_DATA(a), "br%d", &i) == 1 && i >= 0 &&
                                            i < nbridges)
                                                bridge_index[i] = ifi->ifi_index;
                                }
                        }
                }
        }
}

static void flush(struct batch *b)
{
        if (b->len == 0)
                return;
        while (send(sk, b->buf, b->len, 0) < 0)
                if (errno != EINTR)
                        die("send", errno);
        collect(b->count);
        b->len = 0;
        b->count = 0;
}

/* A new request at the end of b, room for its attributes included. */
static struct nlmsghdr *request(struct batch *b, uint16_t type, uint16_t flags)
{
        struct nlmsghdr *h;

        if (b->len + 512 > sizeof(b->buf))
                flush(b);
        h = (struct nlmsghdr *)(b->buf + b->len);
        memset(h, 0, NLMSG_LENGTH(sizeof(struct ifinfomsg)));
        h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
        h->nlmsg_type = type;
        h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        h->nlmsg_seq = ++seq;
        ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_family = AF_UNSPEC;
        return h;
}

static void done(struct batch *b, struct nlmsghdr *h)
{
        b->len += NLMSG_ALIGN(h->nlmsg_len);
        b->count++;
        if (serial)
                flush(b);
}

static void put_name(struct nlmsghdr *h, const char *name)
{
        put_attr(h, IFLA_IFNAME, name, strlen(name) + 1);
}

static void set_alias(struct batch *b, const char *name, const char *alias)
{
        struct nlmsghdr *h = request(b, RTM_NEWLINK, 0);

        put_name(h, name);
        put_attr(h, IFLA_IFALIAS, alias, strlen(alias));
        done(b, h);
}

/* TUNSETIFF makes the tap (IFF_TUN_EXCL: fail rather than attach to a tap
 * that exists); it lives while fd is open. */
static int open_tap(const char *name)
{
        struct ifreq ifr = { 0 };
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

        if (fd < 0)
                die("/dev/net/tun", errno);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                die(name, errno);
        return fd;
}

/* TUNSETPERSIST keeps the tap after close. */
static void persist_tap(int fd, const char *name)
{
        if (ioctl(fd, TUNSETPERSIST, 1UL) < 0)
                die(name, errno);
        close(fd);
}

static void make_tap(const char *name)
{
        persist_tap(open_tap(name), name);
}

static void enter_netns(const char *name)
{
        char path[256];
        int fd;

        snprintf(path, sizeof(path), "/run/netns/%s", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                die(path, errno);
        if (setns(fd, CLONE_NEWNET) < 0)
                die("setns", errno);
        close(fd);
}

static void open_socket(void)
{
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int one = 1, size = 8 << 20;

        sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (sk < 0)
                die("socket", errno);
        if (bind(sk, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("bind", errno);
        /* Acks carry only the header of the request, and there is room for them all. */
        setsockopt(sk, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        if (setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Every link of the workload, taps first, one RTM_DELLINK each, batched. Each
 * still pays the kernel's own wait for RCU: the kernel batches only what one
 * request deletes (a group, a namespace). */
static void delete_all(struct batch *b, int n, int t)
{
        for (int i = 0; i < n; i++)
                for (int k = 0; k <= t; k++) {
                        struct nlmsghdr *h = request(b, RTM_DELLINK, 0);
                        char name[IFNAMSIZ];

                        if (k < t)
                                tap_name(name, i, k);
                        else
                                bridge_name(name, i);
                        put_name(h, name);
                        done(b, h);
                }
        flush(b);
}

/* Bridge i, up; NLM_F_ECHO returns its ifindex. The kernel ignores
 * IFLA_IFALIAS when it creates a link: the tag is a request of its own. */
static void add_bridge(struct batch *b, int i, const char *alias)
{
        struct nlmsghdr *h = request(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO);
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        struct rtattr *info;
        char name[IFNAMSIZ];

        bridge_name(name, i);
        ifi->ifi_flags = ifi->ifi_change = IFF_UP;
        put_name(h, name);
        if (kill_safe)
                put_attr(h, IFLA_GROUP, &group, sizeof(group));
        info = nest_start(h, IFLA_LINKINFO);
        put_attr(h, IFLA_INFO_KIND, "bridge", sizeof("bridge"));
        nest_end(h, info);
        done(b, h);
        if (alias)
                set_alias(b, name, alias);
}

/* A kernel before 6.3 does not echo a new link: ask by name. */
static void resolve_bridge(int i)
{
        char name[IFNAMSIZ];

        if (bridge_index[i] != 0)
                return;
        bridge_name(name, i);
        bridge_index[i] = (int)if_nametoindex(name);
        if (bridge_index[i] == 0)
                die(name, errno);
}

/* Tap k of bridge i up and a port of it (and tagged): one request. */
static void attach_tap(struct batch *b, int i, int k, const char *alias)
{
        struct nlmsghdr *h = request(b, RTM_NEWLINK, 0);
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        uint32_t master = (uint32_t)bridge_index[i];
        char name[IFNAMSIZ];

        tap_name(name, i, k);
        ifi->ifi_flags = ifi->ifi_change = IFF_UP;
        put_name(h, name);
        put_attr(h, IFLA_MASTER, &master, sizeof(master));
        if (alias && !kill_safe)
                put_attr(h, IFLA_IFALIAS, alias, strlen(alias));
        done(b, h);
}

/* -k: the taps of bridges 0..n-1, a window of 32 at a time: made, tagged
 * while held (one sendmsg), made persistent. */
static void make_taps_tagged(struct batch *b, int n, int t, const char *alias)
{
        enum { WINDOW = 32 };
        char names[WINDOW][IFNAMSIZ];
        int fds[WINDOW], w = 0;

        for (int j = 0; j < n * t; j++) {
                struct nlmsghdr *h;

                tap_name(names[w], j / t, j % t);
                fds[w] = open_tap(names[w]);
                h = request(b, RTM_NEWLINK, 0);
                put_name(h, names[w]);
                put_attr(h, IFLA_GROUP, &group, sizeof(group));
                put_attr(h, IFLA_IFALIAS, alias, strlen(alias));
                done(b, h);
                if (++w < WINDOW && j + 1 < n * t)
                        continue;
                flush(b);
                for (int k = 0; k < w; k++)
                        persist_tap(fds[k], names[k]);
                w = 0;
        }
}

int main(int argc, char **argv)
{
        static struct batch b;
        const char *alias = NULL;
        bool delete = false;
        int c, n, t;

        while ((c = getopt(argc, argv, "n:a:kdsi")) != -1) {
                switch (c) {
                case 'n': enter_netns(optarg); break;
                case 'a': alias = optarg; break;
                case 'k': kill_safe = true; break;
                case 'd': delete = true; break;
                case 's': serial = true; break;
                case 'i': interleaved = true; break;
                default: goto usage;
                }
        }
        if (argc - optind != 2 || (kill_safe && (!alias || interleaved)))
                goto usage;
        n = atoi(argv[optind]);
        t = atoi(argv[optind + 1]);
        if (n <= 0 || n > 99999 || t < 0 || t > 99)
                goto usage;
        nbridges = n;
        bridge_index = calloc((size_t)n, sizeof(*bridge_index));
        if (!bridge_index)
                die("calloc", ENOMEM);
        open_socket();
        if (delete) {
                delete_all(&b, n, t);
                return 0;
        }

        if (interleaved) {
                /* As a script goes: a bridge, then its taps, each set as it is made. */
                for (int i = 0; i < n; i++) {
                        add_bridge(&b, i, alias);
                        flush(&b);
                        resolve_bridge(i);
                        for (int k = 0; k < t; k++) {
                                char name[IFNAMSIZ];
                                tap_name(name, i, k);
                                make_tap(name);
                                attach_tap(&b, i, k, alias);
                        }
                }
        } else {
                /* 1. The bridges, up, in one batch. */
                for (int i = 0; i < n; i++)
                        add_bridge(&b, i, alias);
                flush(&b);
                for (int i = 0; i < n; i++)
                        resolve_bridge(i);
                /* 2. The taps: ioctls, one tap at a time (-k: tagged while held). */
                if (kill_safe)
                        make_taps_tagged(&b, n, t, alias);
                for (int i = 0; !kill_safe && i < n; i++)
                        for (int k = 0; k < t; k++) {
                                char name[IFNAMSIZ];
                                tap_name(name, i, k);
                                make_tap(name);
                        }
                /* 3. Each tap up and a port of its bridge (and tagged), batched. */
                for (int i = 0; i < n; i++)
                        for (int k = 0; k < t; k++)
                                attach_tap(&b, i, k, alias);
        }
        flush(&b);
        free(bridge_index);
        close(sk);
        return 0;
usage:
        fprintf(stderr, "usage: floor [-n NETNS] [-a ALIAS [-k]] [-d] [-s] [-i] N T   (1 <= N <= 99999, 0 <= T <= 99)\n");
        return 2;
}
