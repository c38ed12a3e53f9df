-- timeline_lab_run.lua - run by the fwsh program for timeline_lab_spec (the
-- lab's daemons need fwsh as their subreaper: a keepalived killed by a
-- fault leaves its VRRP child for the parent to reap before it can start
-- again): builds the firewall lab, runs a timeline on it, and prints one
-- JSON line of what ip, tc, nft and /proc showed during and after it.
--
-- usage: fwsh timeline_lab_run.lua STEPS.lua SEED
--   STEPS.lua returns { steps = {...}, probe = "NAME" } where the step whose
--   verb is probe reads the state during the run; every verb but the lab's
--   is the spec's: look (the reading; it also makes the file
--   $FWSH_TIMELINE_LOOKED, if set) and boom (a step that fails)
local firewall = require "fwsh.firewall"
local run = require "fwsh.firewall.timeline_run"
local verdict = require "fwsh.verdict"

local file, seed = ...
local t = firewall.timeline_load(file)

local function sh(argv)
  local r = fwsh.proc.run(argv)
  return r.ok and r.out or ""
end

-- The state the spec asserts on, each read by a program of its own.
local function state()
  local s = {}
  s.fw2_eth2 = sh({ "tc", "-n", "fw-2", "-j", "qdisc", "show", "dev", "eth2" })
  s.fw1_eth2 = sh({ "tc", "-n", "fw-1", "-j", "qdisc", "show", "dev", "eth2" })
  s.fw1_tables = sh({ "ip", "netns", "exec", "fw-1", "nft", "list", "tables" })
  s.links = sh({ "ip", "-j", "link", "show" })
  local comms = {}
  for pid in sh({ "ip", "netns", "pids", "fw-1" }):gmatch("%d+") do
    local f = io.open("/proc/" .. pid .. "/comm")
    if f then comms[#comms + 1] = f:read("l"); f:close() end
  end
  table.sort(comms)
  s.fw1_procs = table.concat(comms, " ")
  return s
end

local out = {}
local verbs = {
  look = { apply = function()
    out.during = state()
    -- for a spec that interrupts the run once the faults are in place
    local mark = os.getenv("FWSH_TIMELINE_LOOKED")
    if mark then io.open(mark, "w"):close() end
  end },
  boom = { apply = function() out.boom = state(); error("it broke") end },
}
local lab <close> = firewall.build{}
lab:wait_master("fw-1")
local steps = run.split(t.steps, require("fwsh.firewall.timeline_verbs").actions(verbs))
local ok, r = pcall(lab.timeline, lab, steps, { seed = math.tointeger(tonumber(seed)), verbs = verbs })
out.after = state()
if ok then
  out.sequence = verdict.array and setmetatable({}, verdict.array) or {}
  for i, e in ipairs(r.timeline.events) do out.sequence[i] = string.format("%.3f %s", e.at * 1000, e.name) end
  out.steps = {}
  for _, s in ipairs(r.timeline.steps) do out.steps[s.name] = s.values end
  out.from, out.to = r.from, r.to
else
  out.error = tostring(r)
end
print(verdict.json(out))
