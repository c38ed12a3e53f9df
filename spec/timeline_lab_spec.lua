-- timeline_lab_spec.lua - fault timelines against the firewall lab: the
-- same seed gives the same sequence of events (10 of 10 runs over cheap
-- verbs with the lab's names and fields, then the real lab, in-process and
-- by scripts/lab/scenarios/timeline.lua); the faults are in place while the
-- timeline runs and gone after it, also when a step fails or the run is
-- interrupted, as ip, tc, nft and the namespace's process list show; a step's expectations are judged
-- with the step named, in the lines, the JSON and the JUnit XML.
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local timeline = require "fwsh.timeline"
local run = require "fwsh.firewall.timeline_run"
local verbs = require "fwsh.firewall.timeline_verbs"
local readers = require "verdict_readers"

local SCENARIO = H.root .. "/scripts/lab/scenarios/timeline.lua"

-- The timeline of the real-lab runs: times drawn from the seed, so that the
-- order of the first three depends on it. look is the spec's own verb.
local STEPS = [[
  { at = { 0.1, 0.4 }, impair = "fw-2:eth2", rate = 8e6 },
  { at = { 0.1, 0.4 }, fail = "fw-1", mode = "hang" },
  { at = { 0.1, 0.4 }, fail = "fw-1", mode = "sync-cut" },
  { at = 0.5, ["wait-master"] = "fw-2" },
  { at = 0.6, look = "during" },
  { at = { 0.6, 0.8 }, mark = "after", expect{ replies = "> 0" } },
]]

local function steps_table(extra)
  local env = setmetatable({ expect = run.expect }, { __index = _G })
  return assert(load("return {" .. STEPS .. (extra or "") .. "}", "steps", "t", env))()
end

-- The lab's verbs with their fields, doing nothing but log what ran.
local function cheap()
  local a = {}
  for name, v in pairs(verbs.actions({ look = { apply = function() end } })) do
    a[name] = { fields = v.fields, heals = v.heals, apply = function() end, undo = v.undo and function() end }
  end
  return a
end

local function sequence(events)
  local out = {}
  for i, e in ipairs(events) do out[i] = string.format("%.3f %s", e.at * 1000, e.name) end
  return out
end

-- On a clock of its own that a wait moves forward (and each reading by a
-- microsecond): the order drawn from the seed is the point, not the waiting,
-- and each run takes no time instead of the timeline's 0.8 s.
local function cheap_sequence(seed)
  local actions = cheap()
  local steps = run.split(steps_table(), actions)
  local now = 0
  local t = timeline.new(steps, { actions = actions, seed = seed,
                                  clock = function() now = now + 1e-6 return now end,
                                  wait = function(s) now = now + s end })
  return sequence(t:run({})), t
end

local json = require "dkjson"

-- The root qdisc in `tc -j qdisc show` output.
local function root_qdisc(out)
  for _, q in ipairs(json.decode(out) or {}) do if q.root then return q end end
end

-- One link of `ip -j link show` output.
local function link_in(out, name)
  for _, l in ipairs(json.decode(out) or {}) do if l.ifname == name then return l end end
end

-- Runs spec/timeline_lab_run.lua (the lab and the timeline, by the fwsh
-- program) on a steps file in ns: what it read, decoded.
local function lab_run(ns, steps, seed)
  local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
  local file = dir .. "/steps.lua"
  H.write_file(file, steps)
  local out, ok = H.fwsh_cmd({ H.root .. "/spec/timeline_lab_run.lua", file, tostring(seed) },
                             { prefix = { "ip", "netns", "exec", ns }, stderr = true })
  H.run({ "rm", "-rf", "--", dir })
  assert(ok, out)
  local line = out:match("\n(%{[^\n]*)\n?$") or out:match("^(%{[^\n]*)")
  return assert(json.decode(line or ""), out)
end

-- The cases with the fwsh program and a lab run in the plain pass only: what
-- they add is the timeline's Lua (steps checked, applied, undone, judged);
-- the C its verbs call (links set down, qdiscs, nft rules, fwsh.wait and a
-- SIGINT in it) runs under the sanitizer in link_spec, impair_spec, nft_spec,
-- wait_spec and interrupt_spec, and through whole labs in failover_spec's.
-- (Each of these cases took 25-80 s there, under load, against 1-10 s plain.)
local sanitizer = os.getenv("LD_PRELOAD") ~= nil

describe("a fault timeline on the firewall lab", function()
  it("draws the same sequence of events from the same seed, 10 of 10, another from another seed", function()
    local first = cheap_sequence(7)
    for _ = 1, 10 do assert.are.same(first, (cheap_sequence(7))) end
    assert.are_not.same(first, (cheap_sequence(8)))
    assert.are.equal(6, #first)
  end)

  it("refuses a step the lab does not have before building anything", H.ns(function(ns)
    if sanitizer then pending("the plain pass checks the steps") return end
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    local cases = {
      { '{ at = 0, fail = "fw-3" }', "step 1 (fail fw-3 (power)): no node fw-3 in the lab" },
      { '{ at = 0, fail = "client", mode = "sync-cut" }', "client has no eth2 for sync-cut" },
      { '{ at = 0, fail = "fw-1", mode = "melt" }', "mode is one of power, hang, client-cable" },
      { '{ at = 0, impair = "fw-1:eth9", rate = 1e6 }', "NODE:PORT of the lab expected" },
      { '{ at = 0, impair = "fw-1:eth2" }', "an impairment needs one of delay" },
      { '{ at = 0, ["wait-master"] = "client" }', "a master is fw-1 or fw-2" },
      { '{ at = 0, mark = "x", expect{ outage_ms = "<< 3" } }', "verdict.parse" },
      { '{ at = 0, cut = "fw-1" }', "step 1: no verb" },
    }
    local ok2, err = pcall(function()
      for i, c in ipairs(cases) do
        local file = dir .. "/bad" .. i .. ".lua"
        H.write_file(file, "return { " .. c[1] .. " }\n")
        local out, ok = H.fwsh_cmd({ SCENARIO, "--timeline", file }, { prefix = { "ip", "netns", "exec", ns },
                                                                        stderr = true })
        assert.falsy(ok, out)
        assert.truthy(out:find(c[2], 1, true), out)
        assert.falsy(out:find("run 1", 1, true), out)
      end
      assert.are.same({ "lo" }, H.link_names(ns))
    end)
    H.run({ "rm", "-rf", "--", dir })
    assert(ok2, err)
  end))

  it("applies the faults at their times and undoes them all at the end", H.ns(function(ns)
    if sanitizer then pending("the plain pass applies the timeline on a lab") return end
    local r = lab_run(ns, "return { steps = {" .. STEPS .. "} }", 7)
    assert.is_nil(r.error, r.error)
    -- the sequence is the cheap runs'
    assert.are.same((cheap_sequence(7)), r.sequence)
    -- during: fw-2's eth2 limited by a tbf at 1 MB/s, fw-1 hung (its drop-all
    -- table, no keepalived) and its sync cable pulled (the host end down)
    local tbf = root_qdisc(r.during.fw2_eth2)
    assert.are.equal("tbf", tbf and tbf.kind, r.during.fw2_eth2)
    assert.are.equal(1000000, tbf.options.rate)
    assert.truthy(r.during.fw1_tables:find("fwsh_hang", 1, true), r.during.fw1_tables)
    assert.falsy(r.during.fw1_procs:find("keepalived", 1, true), r.during.fw1_procs)
    assert.is_false(H.has_flag(link_in(r.during.links, "net21"), "UP"))
    -- after: none of it
    assert.are_not.equal("tbf", (root_qdisc(r.after.fw2_eth2) or {}).kind, r.after.fw2_eth2)
    assert.falsy(r.after.fw1_tables:find("fwsh_hang", 1, true), r.after.fw1_tables)
    assert.truthy(r.after.fw1_procs:find("keepalived", 1, true), r.after.fw1_procs)
    assert.truthy(r.after.fw1_procs:find("conntrackd", 1, true), r.after.fw1_procs)
    assert.is_true(H.has_flag(link_in(r.after.links, "net21"), "UP"))
    -- what each step measured
    assert.truthy(r.steps["wait-master fw-2"].takeover_ms > 0)
    assert.truthy(r.steps["mark after"].replies > 0)
    for name, v in pairs(r.steps) do
      assert.truthy(v.error_ms >= 0, name)
      if v.queued_ms == 0 then assert.truthy(v.error_ms < 50, name) end
    end
    assert.are.same({ "fw-1", "fw-2" }, { r.from, r.to })
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("undoes what was in place when a step fails, naming the step", H.ns(function(ns)
    if sanitizer then pending("the plain pass runs the failed step's undo") return end
    local r = lab_run(ns, [[return { steps = {
      { at = 0.05, fail = "fw-2", mode = "client-cable" },
      { at = 0.06, impair = "fw-1:eth2", rate = 8e6 },
      { at = 0.1, boom = "x" } } }]], 1)
    assert.truthy(r.error and r.error:find("timeline: step 3 (boom x) at 0.100 s:", 1, true), r.error)
    assert.truthy(r.error:find("it broke", 1, true), r.error)
    -- in place when the step failed, gone after
    assert.is_false(H.has_flag(link_in(r.boom.links, "net12"), "UP"))
    assert.are.equal("tbf", (root_qdisc(r.boom.fw1_eth2) or {}).kind, r.boom.fw1_eth2)
    assert.is_true(H.has_flag(link_in(r.after.links, "net12"), "UP"))
    assert.are_not.equal("tbf", (root_qdisc(r.after.fw1_eth2) or {}).kind, r.after.fw1_eth2)
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("undoes what was in place when the run is interrupted (SIGINT)", H.ns(function(ns)
    if sanitizer then pending("the plain pass interrupts the timeline on a lab") return end
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    local ok2, err = pcall(function()
      local file, log = dir .. "/steps.lua", dir .. "/out"
      H.write_file(file, [[return { steps = { { at = 0.1, fail = "fw-1", mode = "sync-cut" },
                                              { at = 0.2, look = "now" }, { at = 30, mark = "late" } } }]])
      local looked = dir .. "/looked"
      local p = H.fwsh.proc.spawn({ "env", "FWSH_TIMELINE_LOOKED=" .. looked, H.build .. "/fwsh",
                                    H.root .. "/spec/timeline_lab_run.lua", file, "1" },
                                  { stdout = log, stderr = log .. ".err" })
      -- once the faults are in place (the look step made its file), Ctrl-C
      local ready = pcall(H.fwsh.wait, { fn = function() return H.read_file(looked) ~= nil end,
                                         interval = 0.02, timeout = 180 })
      if not ready then p:stop(1) end
      assert.is_true(ready, (H.read_file(log) or "") .. (H.read_file(log .. ".err") or ""))
      assert.is_false(H.has_flag(H.link(ns, "net21"), "UP"))
      p:kill("INT")
      local r = p:wait(60)
      local out = H.read_file(log) or ""
      -- the script caught it, read the state and printed it; fwsh still
      -- fails the run it interrupted: 128 + SIGINT
      assert.are.equal(130, r.code, out)
      local got = json.decode(out:match("(%{[^\n]*)\n?$") or "")
      assert(got, out)
      assert.truthy(got.error:find("interrupted by SIGINT", 1, true), got.error)
      assert.is_true(H.has_flag(link_in(got.after.links, "net21"), "UP"), got.error)
      assert.are.same({ "lo" }, H.link_names(ns))
    end)
    H.run({ "rm", "-rf", "--", dir })
    assert(ok2, err)
  end))

  it("as a scenario: the step named in the verdict, JSON and JUnit, the same sequence", H.ns(function(ns)
    if sanitizer then pending("the plain pass runs the timeline as a scenario") return end
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    local ok2, err = pcall(function()
      local file, json, junit = dir .. "/t.lua", dir .. "/v.json", dir .. "/v.xml"
      H.write_file(file, "return { steps = {" .. STEPS .. [[
          { at = 0.9, mark = "never", expect{ outage_ms = "< 0" } },
        }, verbs = { look = { apply = function() end } } }
      ]])
      local out, ok, code = H.fwsh_cmd({ SCENARIO, "--timeline", file, "--seed", "7", "--json", json,
                                         "--junit", junit }, { prefix = { "ip", "netns", "exec", ns }, stderr = true })
      assert.falsy(ok, out)
      assert.are_not.equal(0, code)
      -- the sequence, as printed: "1  STEP  PLANNED APPLIED ... NAME"
      local printed = {}
      for planned, name in out:gmatch("\n1%s+%d+%s+([%d.]+)%s+[%d.]+%s+[%d.]+%s+[%d.]+%s+[%d.]+%s+([^\n]+)") do
        printed[#printed + 1] = planned .. " " .. name
      end
      local want = cheap_sequence(7)
      want[#want + 1] = "900.000 mark never"
      assert.are.same(want, printed)
      assert.truthy(out:find("\ntimeline_error_ms p50/p99/max: [%d.]+ / [%d.]+ / [%d.]+ %(%d+ steps, seed 7%)\n"), out)
      assert.truthy(out:find("\nexpect mark after: replies> 0: pass (1 step)\n", 1, true), out)
      assert.truthy(out:find("\nexpect mark never: outage_ms< 0: fail (mark never: outage_ms was ", 1, true), out)
      assert.truthy(out:find("\nverdict: fail\n", 1, true), out)
      assert.truthy(out:find("fwsh: scenario timeline t.lua (seed 7): expect mark never: outage_ms< 0: fail", 1, true),
                    out)
      local v, valid = readers.validate(json)
      assert(valid, v)
      local doc = require("dkjson").decode(H.read_file(json))
      local names = {}
      for _, s in ipairs(doc.steps) do names[#names + 1] = s.name end
      assert.are.equal("run 1", names[1])
      assert.are.equal(8, #names)
      local cases, parsed = readers.junit(junit)
      assert(parsed, cases)
      assert.truthy(cases:find("^suite timeline t%.lua %(seed 7%) 2 1\n"), cases)
      assert.truthy(cases:find("\ncase mark after: replies> 0 | ok\n", 1, true), cases)
      assert.truthy(cases:find("\ncase mark never: outage_ms< 0 | outage_ms was ", 1, true), cases)
      assert.are.same({ "lo" }, H.link_names(ns))
    end)
    H.run({ "rm", "-rf", "--", dir })
    assert(ok2, err)
  end))
end)
