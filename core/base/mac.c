/* mac.c - Ethernet addresses as text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int fwsh_mac_parse(const char *text, uint8_t ret_mac[6])
{
        unsigned b[6];
        char sep[5], end;
        uint8_t mac[6];

        if (strlen(text) != 17 ||
            sscanf(text, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &b[0], &sep[0], &b[1], &sep[1], &b[2],
                   &sep[2], &b[3], &sep[3], &b[4], &sep[4], &b[5], &end) != 11)
                return -EINVAL;
        for (int i = 0; i < 5; i++)
                if (sep[i] != sep[0] || (sep[i] != ':' && sep[i] != '-'))
                        return -EINVAL;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)b[i];
        memcpy(ret_mac, mac, 6);
        return 0;
}

const char *fwsh_mac_format(const uint8_t mac[6], char *buf)
{
        snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                 mac[5]);
        return buf;
}
