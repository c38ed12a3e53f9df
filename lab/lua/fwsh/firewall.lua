-- firewall.lua - the fault-tolerant firewall lab on the seed topology: the
-- client (on br1) reaches the server side (br0, the host) through fw-1; if
-- fw-1 stops, fw-2 takes over. The firewalls run keepalived (VRRPv3, one
-- instance per side in one sync group, virtual MACs), conntrackd in FTFW mode
-- over br2, and a stateful per-interface nftables ruleset (libnftables).
--
--   br0  grounding, 10.0.0.1/24 = the server     net01 fw-1 eth0   net02 fw-2 eth0
--   br1  client side, 10.1.0.0/24                net11 fw-1 eth1   net12 fw-2 eth1   net13 client eth0
--   br2  sync link, 10.2.0.0/24                  net21 fw-1 eth2   net22 fw-2 eth2
--   virtual IPs: 10.1.0.1 (client's gateway, VRID 51), 10.0.0.254 (host's route to 10.1.0.0/24, VRID 52)
--
-- As a library, from any script (the scenarios, a user's own):
--   local firewall = require "fwsh.firewall"
--   local lab <close> = firewall.build{ master = "fw-1", advert_int = 0.1 }
-- firewall.main(...) is scripts/lab/firewall.lua: build it, show who is master
-- and that the client reaches the server, tear it down.
--
-- The parts, one job each, under fwsh/firewall/: topology (the facts:
-- addresses, virtual IPs, VRIDs, tap<->bridge pairs), build (and
-- build_options: the keys it takes and the checks of their values), lab (a built
-- lab: masters, waits, captures, files, teardown), traffic (the
-- experiments), report (statistics and what scenarios print), cli (the
-- command line and the scenario runner), config (the firewalls'
-- configurations: the lab's own, exported, or the user's, read and checked),
-- timeline_verbs and timeline_run (a scenario as a fault timeline), sync
-- (conntrackd's replication lag and commit time, a takeover with many
-- connections: require "fwsh.firewall.sync"). This module is their one face.
local T = require "fwsh.firewall.topology"
local ftp = require "fwsh.ftp"

local M = {}

for _, k in ipairs({ "server", "advert_int", "probe_port", "stream_port", "sync_port", "ftp_port", "vrid", "vip",
                     "vmac", "vni" }) do
  M[k] = T[k]
end
M.ftp_modes = ftp.modes

local function export(module, names)
  local m = require(module)
  for _, k in ipairs(names) do M[k] = m[k] end
end
export("fwsh.firewall.lab", { "listening", "progress" })
export("fwsh.firewall.traffic", { "dropped_since", "modes" })
export("fwsh.firewall.build", { "build", "node_on_host" })
export("fwsh.firewall.report", { "stats", "plot", "report" })
export("fwsh.firewall.cli", { "args", "capture", "capture_done", "main", "scenario" })
export("fwsh.firewall.config", { "export" })
export("fwsh.firewall.timeline_run", { "expect" })
M.timeline_load = require("fwsh.firewall.timeline_run").load

return M
