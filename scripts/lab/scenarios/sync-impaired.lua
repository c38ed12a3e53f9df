-- sync-impaired.lua - the sync link (br2, conntrackd's FTFW) delays and
-- drops while the master fails: what does it cost the TCP stream? Both
-- firewalls' eth2 are impaired (link:impair, tc-netem: each side's sent
-- packets), then, run by run, the master loses power with the stream
-- running; the report adds how long the backup took to hold the stream's
-- connection (replicated_ms: conntrackd retransmits what the loss took).
--
-- usage: fwsh --sandbox scripts/lab/scenarios/sync-impaired.lua [--loss PCT] [--delay MS]
--            [--reps N] [--backend qemu] [--nat] [--plot FILE.svg]
-- (netem is a kernel module: a namespace lab needs it in the host's kernel,
-- a VM lab has it in the guest's)
local firewall = require "fwsh.firewall"

local argv, rest, impair = { ... }, {}, { loss = 5, delay = 20 }
local i = 1
while argv[i] do
  if argv[i] == "--loss" or argv[i] == "--delay" then
    local v = tonumber(argv[i + 1])
    if not v then error(argv[i] .. " needs a number", 0) end
    impair[argv[i]:sub(3)] = v
    i = i + 2
  else
    rest[#rest + 1] = argv[i]
    i = i + 1
  end
end
local o = firewall.args(rest)
local lab <close> = firewall.build(o)
for _, fw in ipairs({ "fw-1", "fw-2" }) do lab.nodes[fw]:impair("eth2", impair) end

local results, replicated = {}, {}
for run = 1, o.reps or 1 do
  local r = lab:failover("power")
  results[run] = r
  replicated[#replicated + 1] = r.replicated_ms
  io.stderr:write(string.format("run %d: %s -> %s outage %.1f ms, replicated after %.0f ms, stream %s\n", run,
                                r.from, r.to, r.outage_ms or -1, r.replicated_ms or -1, r.stream))
  -- the restarted firewall's eth2 is a new link in a VM: impaired again
  lab.nodes[r.from]:impair("eth2", impair)
end

print(string.format("sync_impairment: delay %g ms, loss %g %% on both firewalls' eth2", impair.delay, impair.loss))
print("replicated_ms min/median/p95/max: " .. firewall.stats(replicated))
if o.plot then firewall.plot(results, o.plot) end
if not firewall.report(string.format("the master fails, the sync link impaired (delay %g ms, loss %g %%)",
                                     impair.delay, impair.loss), results) then
  error("the TCP stream did not survive every failover", 0)
end
