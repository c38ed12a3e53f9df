-- port-flap.lua - the master's client-side port (eth1, on br1) loses its
-- link for a while and comes back: keepalived puts the sync group in FAULT,
-- the backup takes both virtual IPs; when the link is back, the flapped
-- firewall stays backup (nopreempt), so the next flap hits the other one.
--
-- usage: fwsh --sandbox scripts/lab/scenarios/port-flap.lua [--reps N] [--down SECONDS]
--                                                           [--master fw-2] [--advert 0.1]
--                                                           [--capture FILE [--capture-link br1]]
-- Prints per flap: outage_ms, mac_ms (until br1 learned the VRRP MAC on the
-- backup's port), tcp_stream; then outage_ms: N and tcp_stream: ... lines.
local firewall = require "fwsh.firewall"
local errors = require "fwsh.errors"

firewall.scenario{
  args = { ... },
  title = function(o) return string.format("port flap (eth1 down %.1f s)", o.down or 1.0) end,
  run = function(lab, o, i)
    local down = o.down or 1.0
    local master, backup = lab:master()
    if not master then errors.raise("port-flap", "run " .. i, "no firewall holds the virtual IPs", 0) end
    local traffic = lab:traffic_start()
    lab:hold(0.5)
    local t0 = fwsh.proc.clock()
    master:cut("eth1")
    master:wait_link("eth1", { carrier = false, timeout = 2 })
    local ok = pcall(lab.wait_master, lab, backup.name, down)
    local mac_ms = ok and (fwsh.proc.clock() - t0) * 1000 or nil
    local left = down - (fwsh.proc.clock() - t0)
    if left > 0 then lab:hold(left) end
    master:restore("eth1")
    master:wait_link("eth1", { carrier = true, timeout = 2 })
    lab:hold(2)
    local r = lab:traffic_stop(traffic)
    r.from, r.to, r.mac_ms = master.name, ok and backup.name or master.name, mac_ms
    io.stderr:write(string.format("flap %d: %s eth1 down %.1f s: outage %.1f ms, stream %s\n",
                                  i, master.name, down, r.outage_ms or -1, r.stream))
    return r
  end,
  survive = "the TCP stream did not survive every flap",
}
