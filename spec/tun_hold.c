/* tun_hold.c - opens the tap NAME as qemu does (-netdev tap,ifname=NAME):
 * /dev/net/tun and TUNSETIFF with IFF_TAP | IFF_NO_PI. Prints "open", or
 * "error: REASON" and exits 1; then holds the queue until standard input
 * closes. Built and used by spec/tap_spec.lua.
 *
 *   tun_hold NAME [multi_queue] [vnet_hdr] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>

int main(int argc, char **argv)
{
        struct ifreq ifr = { 0 };
        char buf[64];
        int fd;

        if (argc < 2) {
                fputs("usage: tun_hold NAME [multi_queue] [vnet_hdr]\n", stderr);
                return 2;
        }
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "multi_queue") == 0)
                        ifr.ifr_flags |= IFF_MULTI_QUEUE;
                else if (strcmp(argv[i], "vnet_hdr") == 0)
                        ifr.ifr_flags |= IFF_VNET_HDR;
        }
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
        fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
                printf("error: %s\n", strerror(errno));
                return 1;
        }
        printf("open\n");
        fflush(stdout);
        while (read(0, buf, sizeof(buf)) > 0)
                ;
        close(fd);
        return 0;
}
