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

local argv, down = {}, 1.0
do
  local a = { ... }
  local i = 1
  while a[i] do
    if a[i] == "--down" then down = assert(tonumber(a[i + 1]), "--down SECONDS"); i = i + 2
    else argv[#argv + 1] = a[i]; i = i + 1 end
  end
end
local o = firewall.args(argv)
local lab <close> = firewall.build(o)
local results = {}
local capture = firewall.capture(lab, o) -- --capture FILE: br2's (--capture-link's) packets, kept as evidence

for i = 1, o.reps or 1 do
  local master, backup = lab:master()
  assert(master, "no firewall holds the virtual IPs")
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
  results[i] = r
  io.stderr:write(string.format("flap %d: %s eth1 down %.1f s: outage %.1f ms, stream %s\n",
                                i, master.name, down, r.outage_ms or -1, r.stream))
end

firewall.capture_done(capture, o)
if not firewall.report(string.format("port flap (eth1 down %.1f s)", down), results) then
  error("the TCP stream did not survive every flap", 0)
end
