-- split-brain.lua - the sync link (br2) is cut between the firewalls.
-- VRRP runs on the client and server sides, so both firewalls still agree on
-- one master: new connections keep working. What breaks is conntrackd's
-- replication. The scenario reports what happens, in two phases:
--   1. sync cut: a new connection through the master; is it replicated to
--      the backup? then the master dies: does the connection survive?
--   2. sync healed: the same again, as the control.
--
-- usage: fwsh --sandbox scripts/lab/scenarios/split-brain.lua [--master fw-2] [--loose]
--            [--capture FILE [--capture-link br1]]
local firewall = require "fwsh.firewall"
local errors = require "fwsh.errors"

local function phase(lab, label, replicated)
  local master, backup = lab:master()
  if not master then errors.raise("split-brain", label, "no firewall holds the virtual IPs", 0) end
  local traffic = lab:traffic_start{ replicated = replicated }
  lab:hold(0.5)
  local new_ok = pcall(lab.nodes.client.wait_run, lab.nodes.client,
                       { "ping", "-c1", "-W1", firewall.server }, 3)
  local has = lab:has_replica(backup.name, firewall.stream_port)
  local t0 = fwsh.proc.clock()
  master:stop()
  lab:wait_master(backup.name, 10)
  local mac_ms = (fwsh.proc.clock() - t0) * 1000
  lab:wait_master_server(backup.name, 10)
  local mac0_ms = (fwsh.proc.clock() - t0) * 1000
  lab:hold(2)
  local r = lab:traffic_stop(traffic)
  r.from, r.to, r.mac_ms, r.mac0_ms = master.name, backup.name, mac_ms, mac0_ms
  print(string.format("%s: new connections through %s: %s; stream replicated to %s before the failover: %s; after it: %s",
                      label, master.name, new_ok and "ok" or "FAILED", backup.name, has and "yes" or "no",
                      r.stream))
  master:start()
  lab:wait_ready(master.name)
  return r
end

-- two runs: the first with br2 cut on the master, the second once it healed
local cut_node
firewall.scenario{
  args = { ... },
  title = "split brain on br2 (1: sync cut, 2: healed)",
  reps = 2,
  run = function(lab, _, i)
    if i == 1 then
      local m = lab:master()
      m:cut("eth2")
      m:wait_link("eth2", { carrier = false, timeout = 2 })
      cut_node = lab.nodes[m.name]
      return phase(lab, "sync cut", false)
    end
    cut_node:restore("eth2")
    cut_node:wait_link("eth2", { carrier = true, timeout = 2 })
    return phase(lab, "sync healed", true)
  end,
}
