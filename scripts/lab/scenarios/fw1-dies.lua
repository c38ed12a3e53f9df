-- fw1-dies.lua - the master firewall dies, the backup takes over; then the
-- dead one comes back, as backup (nopreempt), so that the next run kills the
-- other one: the master alternates. Two kinds of death (--fail):
--   power (default): its daemons are killed with SIGKILL and its ports lose
--     carrier, as a machine that loses power: br1 and br0 flush its FDB
--     entries and flood frames for the virtual MACs until a new master is
--     learned (a VM: qemu is killed)
--   hang: its daemons are killed with SIGKILL and it stops forwarding
--     (ip_forward=0), links up: frames still go to it until the new
--     master's gratuitous ARPs move the virtual MACs (a VM: QMP stop, the
--     whole machine frozen; it comes back reset, as by a watchdog)
--
-- usage: fwsh --sandbox scripts/lab/scenarios/fw1-dies.lua [--reps N] [--master fw-2]
--            [--fail power|hang] [--advert 0.01] [--version 3] [--loose] [--nat] [--backend qemu]
--            [--plot FILE.svg]   (each run's outage timeline: fwsh.plot)
--            [--capture FILE [--capture-link br1]]
-- Each run measures, with a 10 ms UDP probe and a counted TCP stream from the
-- client to the server (both running before, during and after the failover):
--   outage_ms   the largest gap between two probe replies
--   mac_ms      from the failure until br1 learned the VRRP MAC on the new master's port
--   tcp_stream  survived (no reset, every byte received, checked at both ends) / reset / lost N bytes
--   dropped_forward  packets the firewalls' forward chains dropped during the runs (lab:dropped())
local firewall = require "fwsh.firewall"
local errors = require "fwsh.errors"

firewall.scenario{
  args = { ... },
  title = function(o) return string.format("fw-1 dies (%s, %s master first)", o.fail or "power", o.master or "fw-1") end,
  run = function(lab, o, i)
    local master, backup = lab:master()
    if not master then errors.raise("fw1-dies", "run " .. i, "no firewall holds the virtual IPs", 0) end
    local dropped0 = lab:dropped()
    local traffic = lab:traffic_start()
    lab:hold(0.5)                               -- steady state before the failure
    local t0 = fwsh.proc.clock()
    master:fail(o.fail or "power")
    lab:wait_master(backup.name, 10)
    local mac_ms = (fwsh.proc.clock() - t0) * 1000
    lab:wait_master_server(backup.name, 10)
    local mac0_ms = (fwsh.proc.clock() - t0) * 1000
    lab:hold(2)                                 -- traffic goes on through the new master
    local dropped = firewall.dropped_since(dropped0, lab:dropped())
    local r = lab:traffic_stop(traffic)
    r.dropped = dropped
    r.mode = o.fail or "power"
    if r.started then r.fault_ms = (t0 - r.started) * 1000; r.takeover_ms = r.fault_ms + mac_ms end
    r.from, r.to, r.mac_ms, r.mac0_ms = master.name, backup.name, mac_ms, mac0_ms
    io.stderr:write(string.format("run %d: %s -> %s outage %.1f ms, MAC moved after %.1f ms, stream %s\n",
                                  i, master.name, backup.name, r.outage_ms or -1, mac_ms, r.stream))
    master:start()                              -- back, as backup
    lab:wait_ready(master.name)
    return r
  end,
  survive = "the TCP stream did not survive every failover",
}
