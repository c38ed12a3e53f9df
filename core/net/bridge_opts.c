/* bridge_opts.c - the bridge kind's options (IFLA_BR_*), one row each: what
 * the kernel calls it, its width, its unit, its range and its default. Every
 * use of an option (parse, put, undo, ensure, explain, the plan model, the
 * bindings' reader, show, help) reads these rows, so that a new option is a
 * new row. See ip-link(8) "type bridge". */
#include <linux/if_link.h>
#include <netlink/attr.h>

#include "internal.h"

/* The kernel's times are clock_t: hundredths of a second (USER_HZ). Row 0 is
 * stp, the column brctl shows; the order is explain's. Each row: name, ip's
 * word, attribute, width, unit, flags, min, max, default, config, help. */
static const struct fwsh_opt_row ROWS[] = {
        { "stp", "stp_state", IFLA_BR_STP_STATE, NLA_U32, FWSH_OPT_BOOL, 0, 0, 1, 0, NULL,
          "the spanning tree protocol (off)" },
        { "forward_delay", "forward_delay", IFLA_BR_FORWARD_DELAY, NLA_U32, FWSH_OPT_CS, 0, 0, UINT32_MAX,
          1500, NULL, "seconds in listening and learning states (15)" },
        { "ageing_time", "ageing_time", IFLA_BR_AGEING_TIME, NLA_U32, FWSH_OPT_CS, 0, 0, UINT32_MAX,
          30000, NULL, "seconds a learned MAC address is kept (300)" },
        { "vlan_filtering", "vlan_filtering", IFLA_BR_VLAN_FILTERING, NLA_U8, FWSH_OPT_BOOL, 0, 0, 1, 0,
          "CONFIG_BRIDGE_VLAN_FILTERING", "VLAN filtering (off)" },
        { "mcast_snooping", "mcast_snooping", IFLA_BR_MCAST_SNOOPING, NLA_U8, FWSH_OPT_BOOL, 0, 0, 1, 1,
          NULL, "IGMP/MLD snooping (on); off floods multicast" },
        { "priority", "priority", IFLA_BR_PRIORITY, NLA_U16, FWSH_OPT_INT, 0, 0, UINT16_MAX, 32768, NULL,
          "the bridge priority of its id, lower wins the root election (32768)" },
        { "hello_time", "hello_time", IFLA_BR_HELLO_TIME, NLA_U32, FWSH_OPT_CS, 0, 0, UINT32_MAX, 200, NULL,
          "seconds between STP hellos, 1 to 10 (2)" },
        { "max_age", "max_age", IFLA_BR_MAX_AGE, NLA_U32, FWSH_OPT_CS, 0, 0, UINT32_MAX, 2000, NULL,
          "seconds an STP hello is believed, 6 to 40 (20)" },
        { "mcast_querier", "mcast_querier", IFLA_BR_MCAST_QUERIER, NLA_U8, FWSH_OPT_BOOL, 0, 0, 1, 0, NULL,
          "send IGMP/MLD queries when no other querier does (off)" },
};
_Static_assert(FWSH_N(ROWS) <= FWSH_OPTS_MAX, "a value per row");

const struct fwsh_opt_table bridge_opts = { "bridge", ROWS, FWSH_N(ROWS) };
