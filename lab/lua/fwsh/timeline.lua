-- timeline.lua - a scenario's faults as data, applied at their times:
--
--   local timeline = require "fwsh.timeline"
--   local t = timeline.new({
--     { at = 0.5, fail = "fw-1", mode = "hang" },
--     { at = { 0.8, 1.2 }, impair = "fw-2:eth2", loss = 5 },  -- a time drawn from the seed
--     { at = 3, heal = "fw-1" },
--   }, { seed = 7, actions = ACTIONS })
--   local events = t:run(context)   -- each step applied at its time, the error measured
--   t:undo(context)                 -- every fault still in place undone, last first
--
-- The verbs are the caller's: actions[verb] = { fields = { NAME = "number" |
-- "string" | "boolean", ... }, apply = function(ctx, target, step), undo =
-- function(ctx, target, step) or nil, heals = "verb" or nil }. A step names
-- exactly one verb (its value is the target); the fields it may carry are
-- the verb's; anything else is an error before anything is applied. A verb
-- that heals (heal heals fail) closes the fault of the same target, so that
-- undo leaves it alone. The same seed gives the same times and the same
-- order: a run can be replayed.
local fwsh = fwsh or require "fwsh"

local M = {}

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end

-- A small generator of its own (xorshift64*), so that a seed means the same
-- times whatever Lua's own math.random does.
local function generator(seed)
  local s = (math.tointeger(seed) or 0) ~ 0x2545F4914F6CDD1D
  if s == 0 then s = 0x9E3779B97F4A7C15 end
  return function()
    s = s ~ (s >> 12)
    s = s ~ (s << 25)
    s = s ~ (s >> 27)
    local x = (s * 0x2545F4914F6CDD1D) >> 11 -- 53 bits
    return x / (1 << 53)
  end
end

local T = {}
T.__index = T

local function check_step(i, step, actions)
  if type(step) ~= "table" then fail("timeline: step %d: a table expected, got %s", i, type(step)) end
  local verb
  for k in pairs(step) do
    if type(k) ~= "string" then fail("timeline: step %d: keys are names, got %s", i, type(k)) end
    if actions[k] then
      if verb then fail("timeline: step %d: one verb a step (%s and %s)", i, verb, k) end
      verb = k
    end
  end
  if not verb then
    local names = {}
    for k in pairs(actions) do names[#names + 1] = k end
    table.sort(names)
    fail("timeline: step %d: no verb (one of %s)", i, table.concat(names, ", "))
  end
  local target = step[verb]
  if type(target) ~= "string" or target == "" or target:find("%z") then
    fail("timeline: step %d: %s names a target (a non-empty string)", i, verb)
  end
  local fields = actions[verb].fields or {}
  for k, v in pairs(step) do
    if k ~= verb and k ~= "at" and k ~= "name" then
      local want = fields[k]
      if not want then fail("timeline: step %d: %s takes no field %s", i, verb, k) end
      if type(v) ~= want then fail("timeline: step %d: %s: %s expected, got %s", i, k, want, type(v)) end
      if want == "number" and (v ~= v or v == math.huge or v == -math.huge) then
        fail("timeline: step %d: %s: a finite number expected", i, k)
      end
    end
  end
  local at = step.at
  local lo, hi
  if type(at) == "number" then lo, hi = at, at
  elseif type(at) == "table" and #at == 2 and type(at[1]) == "number" and type(at[2]) == "number" then
    lo, hi = at[1], at[2]
  else
    fail("timeline: step %d: at is seconds (a number) or a range { FROM, TO }", i)
  end
  if not (lo >= 0 and hi >= lo and hi < 86400) then
    fail("timeline: step %d: at: seconds from 0 to a day, FROM <= TO", i)
  end
  return verb, target, lo, hi
end

--- timeline.new(steps, {actions=, seed=}) -> t: the steps checked against the
--  actions, their times drawn (ranges) from seed (default 1), in order of
--  time (steps at the same time in the order given)
function M.new(steps, o)
  o = o or {}
  if type(steps) ~= "table" then fail("timeline.new: a list of steps expected, got %s", type(steps)) end
  if type(o.actions) ~= "table" then fail("timeline.new: actions (a table of verbs) expected") end
  local seed = o.seed or 1
  if not math.tointeger(seed) then fail("timeline.new: seed: an integer expected, got %s", tostring(seed)) end
  local rand = generator(seed)
  local plan = {}
  for i = 1, #steps do
    local verb, target, lo, hi = check_step(i, steps[i], o.actions)
    local at = lo == hi and lo or lo + (hi - lo) * rand()
    plan[#plan + 1] = { index = i, step = steps[i], verb = verb, target = target, at = at,
                        name = steps[i].name or string.format("%s %s", verb, target) }
  end
  for k in pairs(steps) do
    if not (math.tointeger(k) and k >= 1 and k <= #steps) then
      fail("timeline.new: steps is a list (1..n), it has key %s", tostring(k))
    end
  end
  table.sort(plan, function(a, b) if a.at ~= b.at then return a.at < b.at end return a.index < b.index end)
  return setmetatable({ plan = plan, actions = o.actions, seed = seed, open = {}, events = {},
                        clock = o.clock or fwsh.proc.clock, wait = o.wait }, T)
end

--- t:sequence() -> { {at=, name=, verb=, target=}, ... }: the planned sequence
function T:sequence()
  local out = {}
  for i, p in ipairs(self.plan) do out[i] = { at = p.at, name = p.name, verb = p.verb, target = p.target } end
  return out
end

-- Waits until the clock reads t: on the kernel's events and a 1 ms check
-- until 2 ms before, then on the clock itself, so that a step starts within
-- a few hundred microseconds of its time (the error is measured, not assumed).
local function wait_until(self, t)
  local clock = self.clock
  local left = t - clock()
  if left > 0.002 then
    if self.wait then
      self.wait(left - 0.002)
    else
      fwsh.wait{ fn = function() return clock() >= t - 0.002 end, interval = 0.001, timeout = left + 1 }
    end
  end
  while clock() < t do end
end

--- t:run(ctx) -> events: applies each step at its time (seconds from now),
--  calling its verb's apply(ctx, target, step); events are the steps as
--  applied: {at=, name=, verb=, target=, started=, error_ms=, took_ms=}
--  (error_ms: when it started after its time). A step that fails ends the
--  run with that error, after undoing what the run put in place, that
--  step's own fault included (undo is called for a step whose apply
--  raised: it may have done part of its work).
function T:run(ctx)
  local t0 = self.clock()
  self.t0 = t0
  for _, p in ipairs(self.plan) do
    wait_until(self, t0 + p.at)
    local started = self.clock()
    local action = self.actions[p.verb]
    -- open before it is applied: a step that fails or is interrupted part
    -- way may have put its fault in place, and then its undo must run
    if action.undo and not action.heals then self.open[#self.open + 1] = p end
    local ok, err = pcall(action.apply, ctx, p.target, p.step)
    local ended = self.clock()
    local ev = { at = p.at, name = p.name, verb = p.verb, target = p.target, started = started - t0,
                 error_ms = (started - t0 - p.at) * 1000, took_ms = (ended - started) * 1000 }
    self.events[#self.events + 1] = ev
    if not ok then
      self:undo(ctx)
      error(string.format("timeline: step %d (%s) at %.3f s: %s", p.index, p.name, p.at, tostring(err)), 0)
    end
    if action.heals then
      for i = #self.open, 1, -1 do
        local f = self.open[i]
        if f.verb == action.heals and f.target == p.target then table.remove(self.open, i) end
      end
    end
  end
  return self.events
end

--- t:undo(ctx) -> first error or nil: undoes every fault the run put in
--  place and did not heal, last first; each is tried, the first error is
--  returned (not raised: undo runs on the way out of failures too)
function T:undo(ctx)
  local first
  while #self.open > 0 do
    local p = table.remove(self.open)
    local ok, err = pcall(self.actions[p.verb].undo, ctx, p.target, p.step)
    if not ok and not first then first = string.format("undo of %s: %s", p.name, tostring(err)) end
  end
  return first
end

--- t:errors() -> { error_ms of each event }, for firewall.stats and the report
function T:errors()
  local out = {}
  for i, e in ipairs(self.events) do out[i] = e.error_ms end
  return out
end

return M
