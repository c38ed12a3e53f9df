-- failover.lua - the firewall pair under one kind of failure, N times, the
-- master alternating (the failed one comes back as backup):
--   --mode power         the master loses power (links drop)
--   --mode hang          it hangs with its links up (daemons dead, no forwarding; a VM frozen)
--   --mode client-cable  its cable to br1 is pulled for --down seconds (default 1)
--   --mode server-cable  its cable to br0, the same
--   --mode sync-cut      its cable to br2 (conntrackd's sync link), the same:
--                        nobody takes over, and traffic must not notice
--
-- usage: fwsh --sandbox scripts/lab/scenarios/failover.lua --mode hang [--reps N] [--master fw-2]
--            [--advert 0.01] [--down 1] [--nat] [--backend qemu] [--capture FILE [--capture-link br1]]
-- Each run measures, with a 10 ms UDP probe and a counted TCP stream from the
-- client to the server, running before, during and after the failure:
-- outage_ms (the largest gap between probe replies), the moves of the VRRP
-- MACs, and whether the stream survived with every byte. The last lines:
-- min/median/p95/max, outage_ms (the largest), tcp_stream.
local firewall = require "fwsh.firewall"

local o = firewall.args({ ... })
local mode = o.mode or "power"
local lab <close> = firewall.build(o)
local results = {}
local capture = firewall.capture(lab, o) -- --capture FILE: br2's (--capture-link's) packets, kept as evidence

for i = 1, o.reps or 1 do
  local r = lab:failover(mode, { down = o.down })
  results[i] = r
  io.stderr:write(string.format("run %d: %s, %s -> %s: outage %.1f ms, stream %s\n", i, mode, r.from,
                                r.to, r.outage_ms or -1, r.stream))
end

firewall.capture_done(capture, o)
if o.plot then firewall.plot(results, o.plot) end
if not firewall.report(string.format("failover: %s, %s master first, adverts every %g s", mode,
                                     o.master or "fw-1", o.advert_int or firewall.advert_int[o.backend or "netns"]), results) then
  error("the TCP stream did not survive every run", 0)
end
