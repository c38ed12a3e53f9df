-- rst-window.lua - keepalived's "master switchover leads to disconnection of
-- TCP connections" (its issues 2254 and 2414) on the namespace firewall lab,
-- without the lab's fix and with it, in one run: each time a fresh lab, N
-- connections flowing through the master (fwsh-flows, 64 bytes every 50 ms
-- each), the master loses power, the backup takes over. The new master has
-- the virtual IPs before its `conntrackd -c` has put the replicated
-- connections into its kernel table; with nf_conntrack_tcp_loose on (the
-- kernel's default) it picks a packet of such a connection up as new, and
-- with NAT translates it anew: a connection the old master had mapped to
-- another port arrives at the server under a port it does not know, and the
-- server resets it. With the fix, the new master drops (never rejects) such
-- packets until the commit is done (nftables' `pending` gate).
--
-- usage: fwsh --sandbox bench/rst-window.lua [--flows 1000] [--no-nat] [--strict] [--fix both|on|off]
--          [--runs 1]
--   --strict  tcp_loose off (the lab's own default): the kernel refuses a
--             mid-stream packet by itself
-- Prints, for each run: the report lines of a failover with many
-- connections (connections:, reset_at:, commit_ms:, ...) under a header
-- "fix: on|off"; the last line sums them: "resets: off N on M".
local firewall = require "fwsh.firewall"
local sync = require "fwsh.firewall.sync"

local o = { flows = 1000, nat = true, loose = true, fix = "both", runs = 1 }
local i = 1
while i <= #arg do
  local k, v = arg[i], arg[i + 1]
  if k == "--flows" and tonumber(v) then o.flows = math.tointeger(tonumber(v)); i = i + 1
  elseif k == "--runs" and tonumber(v) then o.runs = math.tointeger(tonumber(v)); i = i + 1
  elseif k == "--fix" and (v == "on" or v == "off" or v == "both") then o.fix = v; i = i + 1
  elseif k == "--no-nat" then o.nat = false
  elseif k == "--strict" then o.loose = false
  else
    error("usage: fwsh --sandbox bench/rst-window.lua [--flows N] [--no-nat] [--strict] [--fix both|on|off] [--runs K]", 0)
  end
  i = i + 1
end

local function fmt(v) return v and string.format("%.1f", v) or "-" end
local resets = { off = 0, on = 0 }
local fixes = o.fix == "both" and { "off", "on" } or { o.fix }
for run = 1, o.runs do
  for _, fix in ipairs(fixes) do
    -- 100 ms adverts: on a shared machine 10 ms ones let a starved backup
    -- take over for a moment, a second failover in the middle of this one
    local lab <close> = firewall.build{ nat = o.nat, tcp_loose = o.loose, fix = fix, flows = o.flows,
                                        advert_int = 0.1 }
    local r = sync.takeover(lab, { flows = o.flows })
    local c = r.connections
    resets[fix] = resets[fix] + (c.reset or 0)
    print(string.format("run %d fix: %s (nat %s, tcp_loose %s)", run, fix, tostring(o.nat), tostring(o.loose)))
    print(string.format("connections: total %s survived %s stalled %s reset %s lost_bytes %s", c.total, c.survived,
                        c.stalled, c.reset, c.lost_bytes))
    -- who saw the reset: the firewalls' ruleset has no reject rule, so a
    -- reset comes from an end; the client's count is the connections it
    -- lost, the server's those whose reset reached it
    print(string.format("reset_at: client %s server %s", tostring(r.client.reset), tostring(r.server_reset)))
    print(string.format("takeover: %s -> %s mac_ms %s notify_ms %s commit_ms %s gate_open_ms %s gate_dropped %s",
                        r.from, r.to, fmt(r.mac_ms), fmt(r.notify_ms), fmt(r.commit_ms), fmt(r.gate_ms),
                        tostring(r.gate_dropped or "-")))
    print(string.format("commit_ms: %s", fmt(r.commit_ms)))
  end
end
print(string.format("resets: off %s on %s", o.fix ~= "on" and resets.off or "-", o.fix ~= "off" and resets.on or "-"))
