-- timeline.lua - a scenario that is a fault timeline: the steps of FILE
-- applied to the lab at their times, with the probe and the TCP stream
-- running, every fault undone at the end; then what each step measured and
-- the verdict on each step's expectations. FILE is Lua and returns its
-- steps (or { steps = ..., verbs = ..., seed = N, title = TEXT }):
--
--   return {
--     { at = 0.5, fail = "fw-1", mode = "hang" },
--     { at = 0.5, ["wait-master"] = "fw-2", expect{ takeover_ms = "< 100" } },
--     { at = { 0.8, 1.2 }, impair = "fw-2:eth2", rate = 1e6 },   -- a time drawn from the seed
--     { at = 3, heal = "fw-1", expect{ outage_ms = "< 100", connections = "all survive", resets = 0 } },
--   }
--
-- Verbs (fwsh.firewall.timeline_verbs): fail (mode power, hang,
-- client-cable, server-cable, sync-cut), heal, impair (NODE:PORT; delay,
-- loss... need the kernel's sch_netem, rate a tbf), clear, wait-master,
-- wait-ready, mark. Each run prints a row per step (planned_ms, applied_ms,
-- error_ms: how late it was applied), and the error's p50/p99/max with the
-- seed; the same seed replays the same times in the same order.
--
-- usage: fwsh --sandbox scripts/lab/scenarios/timeline.lua --timeline FILE.lua [--seed N]
--            [--reps K] [--expect EXPR] [--json FILE] [--junit FILE] [--plot FILE.svg]
--            (and the lab's options: --master fw-2, --advert S, --backend qemu, --nat...)
local firewall = require "fwsh.firewall"
local errors = require "fwsh.errors"

local args, file, seed = {}, nil, nil
do
  local a, i = { ... }, 1
  while a[i] do
    if a[i] == "--timeline" then
      file = a[i + 1] or errors.raise("timeline.lua", "--timeline", "needs a file", 0); i = i + 2
    elseif a[i] == "--seed" then
      seed = math.tointeger(tonumber(a[i + 1])) or errors.raise("timeline.lua", "--seed", "needs an integer", 0)
      i = i + 2
    else
      args[#args + 1] = a[i]; i = i + 1
    end
  end
end
if not file then errors.raise("timeline.lua", nil, "--timeline FILE.lua is needed (the steps)", 0) end

local t = firewall.timeline_load(file)
seed = seed or t.seed or 1
firewall.scenario{
  args = args,
  title = t.title or string.format("timeline %s (seed %d)", file:match("[^/]*$"), seed),
  timeline = t.steps, verbs = t.verbs, seed = seed,
}
