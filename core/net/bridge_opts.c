/* bridge_opts.c - the bridge kind's own attributes (IFLA_BR_*), as a link of
 * that kind is made or changed (link.c); bridge.c, above link.c, makes bridges.
 * See ip-link(8) "type bridge". */
#include <errno.h>

#include <linux/if_link.h>
#include <netlink/attr.h>

#include "internal.h"

bool bridge_opts_any(const struct fwsh_bridge_opts *o)
{
        return o->stp >= 0 || o->vlan_filtering >= 0 || o->mcast_snooping >= 0 ||
               o->forward_delay_cs >= 0 || o->ageing_time_cs >= 0;
}

int bridge_put_opts(struct nl_msg *msg, const struct fwsh_bridge_opts *o)
{
        if (o->stp >= 0 && nla_put_u32(msg, IFLA_BR_STP_STATE, (uint32_t)o->stp) < 0)
                return -ENOMEM;
        if (o->forward_delay_cs >= 0 &&
            nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, (uint32_t)o->forward_delay_cs) < 0)
                return -ENOMEM;
        if (o->ageing_time_cs >= 0 &&
            nla_put_u32(msg, IFLA_BR_AGEING_TIME, (uint32_t)o->ageing_time_cs) < 0)
                return -ENOMEM;
        if (o->vlan_filtering >= 0 &&
            nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, (uint8_t)o->vlan_filtering) < 0)
                return -ENOMEM;
        if (o->mcast_snooping >= 0 &&
            nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, (uint8_t)o->mcast_snooping) < 0)
                return -ENOMEM;
        return 0;
}
