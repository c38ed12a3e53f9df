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

firewall.scenario{
  args = { ... },
  title = function(o)
    return string.format("failover: %s, %s master first, adverts every %g s", o.mode or "power", o.master or "fw-1",
                         o.advert_int or firewall.advert_int[o.backend or "netns"])
  end,
  run = function(lab, o, i)
    local mode = o.mode or "power"
    local r = lab:failover(mode, { down = o.down })
    io.stderr:write(string.format("run %d: %s, %s -> %s: outage %.1f ms, stream %s\n", i, mode, r.from,
                                  r.to, r.outage_ms or -1, r.stream))
    return r
  end,
  survive = "the TCP stream did not survive every run",
}
