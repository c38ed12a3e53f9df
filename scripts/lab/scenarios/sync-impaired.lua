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

local replicated = {}
local function impairment(o) return { loss = o.loss or 5, delay = o.delay or 20 } end

firewall.scenario{
  args = { ... },
  options = { ["--loss"] = "loss", ["--delay"] = "delay" },
  title = function(o)
    local impair = impairment(o)
    return string.format("the master fails, the sync link impaired (delay %g ms, loss %g %%)", impair.delay,
                         impair.loss)
  end,
  setup = function(lab, o)
    for _, fw in ipairs({ "fw-1", "fw-2" }) do lab.nodes[fw]:impair("eth2", impairment(o)) end
  end,
  run = function(lab, o, run)
    local r = lab:failover("power")
    replicated[#replicated + 1] = r.replicated_ms
    io.stderr:write(string.format("run %d: %s -> %s outage %.1f ms, replicated after %.0f ms, stream %s\n", run,
                                  r.from, r.to, r.outage_ms or -1, r.replicated_ms or -1, r.stream))
    -- the restarted firewall's eth2 is a new link in a VM: impaired again
    lab.nodes[r.from]:impair("eth2", impairment(o))
    return r
  end,
  after = function(_, o)
    local impair = impairment(o)
    print(string.format("sync_impairment: delay %g ms, loss %g %% on both firewalls' eth2", impair.delay,
                        impair.loss))
    print("replicated_ms min/median/p95/max: " .. firewall.stats(replicated))
  end,
  survive = "the TCP stream did not survive every failover",
}
