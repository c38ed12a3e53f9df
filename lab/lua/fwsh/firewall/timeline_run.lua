-- timeline_run.lua - a fault timeline run against the firewall lab with
-- traffic flowing, and a scenario that is one:
--
--   lab:timeline({ { at = 0.5, fail = "fw-1", mode = "hang", expect{ outage_ms = "< 100" } },
--                  { at = 0.6, ["wait-master"] = "fw-2" },
--                  { at = 3, heal = "fw-1" } }, { seed = 7 })
--   firewall.scenario{ args = { ... }, timeline = STEPS, seed = 7 }
--
-- The verbs are fwsh.firewall.timeline_verbs'. A step's expectations (its
-- expect = {...} or a positional expect{...}) are judged by fwsh.verdict on
-- what that step measured: its window (from its application to the next
-- step's, or to the end of the traffic) and the run's connections.
local fwsh = fwsh or require "fwsh"
local timeline = require "fwsh.timeline"
local verbs = require "fwsh.firewall.timeline_verbs"
local report = require "fwsh.firewall.report"
local traffic = require "fwsh.firewall.traffic"
local base = require "fwsh.firewall.lab"
local verdict = require "fwsh.verdict"
local errors = require "fwsh.errors"

local M = {}
local Lab = base.Lab

-- expect{ ... } in a step: a table of expectations, marked as such.
local EXPECT = {}
--- firewall.expect{ name = "OP VALUE" | value, ... } -> expectations for the
--  step that holds them (the verdict's table form: outage_ms = "< 100",
--  connections = "all survive", resets = 0)
function M.expect(t)
  if type(t) ~= "table" then errors.raise("expect", nil, "a table of expectations expected, got " .. type(t)) end
  verdict.from_table(t) -- refused now if one is malformed
  return setmetatable(t, EXPECT)
end

-- A step's default name: its verb and target, a fail's mode; no ':' in it,
-- since "STEP: NAME OP VALUE" is how --expect names a step.
local function step_name(verb, target, step)
  local name = verb .. " " .. target:gsub(":", " ")
  if verb == "fail" then name = name .. " (" .. (step.mode or "power") .. ")" end
  return name
end

--- timeline_run.split(steps, actions) -> steps for fwsh.timeline (without
--  their expectations, each named, names unique), { [index] = expectation
--  table }: what a timeline file or a script gives, taken apart
function M.split(steps, actions)
  if type(steps) ~= "table" then errors.raise("firewall.timeline", nil, "a list of steps expected", 0) end
  local plain, expects, seen = {}, {}, {}
  for i, s in ipairs(steps) do
    if type(s) ~= "table" then break end -- fwsh.timeline names the mistake
    local c, e = {}, nil
    for k, v in pairs(s) do
      if k == "expect" or (k == 1 and getmetatable(v) == EXPECT) then
        if e then errors.raise("firewall.timeline", "step " .. i, "one expect a step", 0) end
        e = v
      else
        c[k] = v
      end
    end
    if e then
      if type(e) ~= "table" then errors.raise("firewall.timeline", "step " .. i, "expect is a table", 0) end
      verdict.from_table(e)
      expects[i] = e
    end
    if not c.name then
      for verb in pairs(actions) do
        if type(c[verb]) == "string" then c.name = step_name(verb, c[verb], c) end
      end
    end
    if type(c.name) == "string" then
      if seen[c.name] then c.name = c.name .. " #" .. i end
      seen[c.name] = true
    end
    plain[i] = c
  end
  for k in pairs(steps) do
    if not (math.tointeger(k) and k >= 1 and k <= #steps) then plain[k] = steps[k] end -- refused by fwsh.timeline
  end
  return plain, expects
end

--- timeline_run.load(file) -> { steps=, verbs=, seed=, title= }: a timeline
--  file, a Lua chunk that returns its steps (a list), or a table with steps
--  and optionally verbs (its own), seed and title; expect{...} is defined in it
function M.load(path)
  local env = setmetatable({ expect = M.expect }, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then errors.raise("firewall.timeline", path, err, 0) end
  local ok, t = pcall(chunk)
  if not ok then errors.raise("firewall.timeline", path, tostring(t), 0) end
  if type(t) ~= "table" then errors.raise("firewall.timeline", path, "returns no table of steps", 0) end
  if t.steps then return t end
  return { steps = t }
end

-- The largest gap between two probe replies (ms from the probe's start)
-- that overlaps [from, to); the silence from the last reply to the
-- probe's end counts too. And how many replies came in the window.
local function window(replies, from, to, last)
  local gap, n, prev = 0, 0, nil
  for _, x in ipairs(replies) do
    if x >= from and x < to then n = n + 1 end
    if prev and x > from and prev < to then gap = math.max(gap, x - prev) end
    prev = x
  end
  if not prev then return to - from, 0 end
  if last > from and prev < to and last > prev then gap = math.max(gap, math.min(last, to) - prev) end
  return gap, n
end

--- lab:timeline(steps [, {seed=, verbs=, before=, after=}]) -> result: the
--  steps (their expectations are the scenario's to judge, and left out
--  here: timeline_run.split) applied at their times, seconds
--  after the traffic (lab:traffic_start) has run for before seconds (0.5);
--  after the last, traffic goes on for after seconds (1), stops, and every
--  fault still in place is undone (also when a step fails or the run is
--  interrupted), the nodes it started waited for. result: lab:traffic_stop's
--  fields, from and to (the master before and after), mode "timeline",
--  timeline = { seed=, events = (fwsh.timeline's), steps = { {name=,
--  values=}, ... } } where values are the step's window: at_ms, applied_ms,
--  error_ms, took_ms, queued_ms (how long it waited for the step ahead
--  to end), outage_ms, replies, the verb's own (takeover_ms...),
--  and the run's connections: stream, resets, connections
function Lab:timeline(steps, o)
  o = o or {}
  local actions = verbs.actions(o.verbs)
  local t = timeline.new((M.split(steps, actions)), { actions = actions, seed = o.seed })
  verbs.check(t.plan)
  local ctx = verbs.context(self)
  local master = self:master()
  local dropped0 = self:dropped()
  local flow = self:traffic_start()
  local to, dropped
  -- Ctrl-C: a call blocked in C returns cancelled, and the interrupt's own
  -- error comes once more at the next Lua instruction, wherever that is;
  -- the inner pcall takes the first, the outer one the second, so that the
  -- end of the run below is not cut short by it
  local ok, err = pcall(function()
    local ok1, err1 = pcall(function()
      self:hold(o.before or 0.5)
      t:run(ctx)
      self:hold(o.after or 1)
      to = self:master()
      dropped = traffic.dropped_since(dropped0, self:dropped())
    end)
    if not ok1 then error(err1, 0) end
  end)
  local stopped = fwsh.proc.clock()
  local sok, r = pcall(self.traffic_stop, self, flow)
  local undo_err = t:undo(ctx)
  local settled, serr = pcall(verbs.settle, ctx)
  if not ok then
    -- the run's failure first; an undo that failed too is said with it
    if undo_err then errors.raise("lab:timeline", "run", tostring(err) .. "; then the " .. undo_err, 0) end
    error(err, 0)
  end
  if not sok then error(r, 0) end
  if undo_err then errors.raise("lab:timeline", "undo", undo_err) end
  if not settled then error(serr, 0) end
  r.mode, r.from, r.to, r.dropped = "timeline", master and master.name, to and to.name, dropped
  local survived = r.stream == "survived"
  local run = { stream = r.stream, resets = r.stream == "reset" and 1 or 0,
                connections = survived and "all survive" or "0 of 1 survive" }
  local offset = ((t.t0 or flow.started) - flow.started) * 1000 -- the timeline's 0 on the probe's clock
  local last = (stopped - flow.started) * 1000
  local out = {}
  for i, ev in ipairs(t.events) do
    local from = offset + ev.started * 1000
    local next_ev = t.events[i + 1]
    local gap, n = window(r.replies or {}, from, next_ev and offset + next_ev.started * 1000 or last, last)
    -- a step planned before the one ahead of it ended could not start on
    -- time: its error is the timeline's, not the scheduler's
    local prev = t.events[i - 1]
    local queued = prev and (prev.started + prev.took_ms / 1000 - ev.at) * 1000 or 0
    local v = { at_ms = ev.at * 1000, applied_ms = ev.started * 1000, error_ms = ev.error_ms, took_ms = ev.took_ms,
                queued_ms = math.max(0, queued), outage_ms = gap, replies = n, verb = ev.verb, target = ev.target }
    for k, x in pairs(run) do v[k] = x end
    for k, x in pairs(ctx.values[t.plan[i].step] or {}) do v[k] = x end
    out[i] = { name = ev.name, index = t.plan[i].index, values = v }
    if ev.verb == "fail" and not r.fault_ms then r.fault_ms = from end
    if v.takeover_ms and r.fault_ms and not r.takeover_ms then r.takeover_ms = r.fault_ms + v.takeover_ms end
  end
  r.timeline = { seed = t.seed, events = t.events, steps = out }
  return r
end

-- The nearest-rank percentile, with three decimals (the error is sub-ms).
local function stats(v)
  if #v == 0 then return "-" end
  local p = report.percentile
  return string.format("%.3f / %.3f / %.3f", p(v, 50), p(v, 99), p(v, 100))
end

--- timeline_run.report(results): each step of each run, planned, applied,
--  the error (ms), and the error's p50/p99/max over all runs, with the
--  seed: over the steps that could start on time (a step planned before the
--  one ahead of it ended waits for it, and is counted apart, as queued)
function M.report(results)
  local errs, queued, worst = {}, 0, 0
  local seed = results[1] and results[1].timeline.seed
  print(string.format("timeline: seed %s, %d step(s), %d run(s)", tostring(seed),
                      results[1] and #results[1].timeline.steps or 0, #results))
  print(string.format("%-4s %-4s %11s %11s %9s %8s %9s  %s", "run", "step", "planned_ms", "applied_ms",
                      "error_ms", "took_ms", "outage_ms", "name"))
  for i, r in ipairs(results) do
    for _, s in ipairs(r.timeline.steps) do
      local v = s.values
      if v.queued_ms > 0 then
        queued, worst = queued + 1, math.max(worst, v.error_ms)
      else
        errs[#errs + 1] = v.error_ms
      end
      print(string.format("%-4d %-4d %11.3f %11.3f %9.3f %8.1f %9.1f  %s", i, s.index, v.at_ms, v.applied_ms,
                          v.error_ms, v.took_ms, v.outage_ms, s.name))
    end
  end
  print(string.format("timeline_error_ms p50/p99/max: %s (%d steps, seed %s)", stats(errs), #errs, tostring(seed)))
  if queued > 0 then
    print(string.format("timeline_queued: %d step(s) planned before the step ahead ended, up to %.1f ms late "
                        .. "(not in the error above)", queued, worst))
  end
end

--- timeline_run.scenario(s) -> a firewall.scenario table for s.timeline:
--  each run is lab:timeline(s.timeline, {seed = s.seed, verbs = s.verbs});
--  the report adds the timeline's table; the verdict has a step "run N"
--  (the run's values, as every scenario's) and one per timeline step
--  ("NAME", or "run N, NAME" with several runs), each with its own
--  expectations. The steps are checked here, before anything is built.
function M.scenario(s)
  local actions = verbs.actions(s.verbs)
  local steps, expects = M.split(s.timeline, actions)
  verbs.check(timeline.new(steps, { actions = actions, seed = s.seed }).plan)
  local a = {}
  for k, v in pairs(s) do a[k] = v end
  a.timeline = nil
  a.title = s.title or string.format("timeline (%d steps, seed %s)", #steps, tostring(s.seed or 1))
  a.run = function(lab, _, i)
    local r = lab:timeline(steps, { seed = s.seed, verbs = s.verbs, before = s.before, after = s.hold_after })
    io.stderr:write(string.format("run %d: %d steps, %s -> %s, outage %.1f ms, stream %s\n", i,
                                  #r.timeline.steps, tostring(r.from), tostring(r.to), r.outage_ms or -1, r.stream))
    return r
  end
  a.after = function(lab, o, results)
    M.report(results)
    if s.after then s.after(lab, o, results) end
  end
  a.verdict = function(v, results, files, measured)
    local own = false
    local several = #results > 1
    local function name(i, s_name) return several and string.format("run %d, %s", i, s_name) or s_name end
    for i, r in ipairs(results) do
      for _, st in ipairs(r.timeline.steps) do
        if expects[st.index] then
          for _, e in ipairs(verdict.from_table(expects[st.index])) do
            e.step, e.label = name(i, st.name), name(i, st.name) .. ": " .. e.text
            v:add{ e }
            own = true
          end
        end
      end
    end
    for i, r in ipairs(results) do
      v:step("run " .. i, measured(r), files[i])
      for _, st in ipairs(r.timeline.steps) do v:step(name(i, st.name), st.values, files[i]) end
    end
    return own
  end
  return a
end

return M
