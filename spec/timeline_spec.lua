-- timeline_spec.lua - faults as data: checked whole before anything is
-- applied, applied at their times with the error measured, replayed the same
-- from the same seed, and undone at the end (also when a step fails). The
-- faults here are real: links cut in a throwaway namespace, read back by ip.
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local timeline = require "fwsh.timeline"
local fwsh = H.fwsh

-- Verbs over plain links: cut/restore (down, up), and a mark that does nothing.
local function actions(log)
  return {
    cut = { apply = function(_, link) fwsh.link.get(link):down(); log[#log + 1] = "cut " .. link end,
            undo = function(_, link) fwsh.link.get(link):up(); log[#log + 1] = "undo cut " .. link end },
    restore = { heals = "cut",
                apply = function(_, link) fwsh.link.get(link):up(); log[#log + 1] = "restore " .. link end },
    mark = { fields = { note = "string", level = "number" }, apply = function() log[#log + 1] = "mark" end },
    boom = { apply = function() error("it broke") end },
  }
end

local function up(ns, name) return H.has_flag(H.link(ns, name), "UP") end

describe("fwsh.timeline", function()
  it("refuses a bad step before applying any", function()
    local log = {}
    local cases = {
      { { { at = 0 } }, "step 1: no verb (one of boom, cut, mark, restore)" },
      { { { at = 0, cut = "a", restore = "a" } }, "step 1: one verb a step" },
      { { { at = 0, mark = "x", colour = "red" } }, "step 1: mark takes no field colour" },
      { { { at = 0, mark = "x", level = "high" } }, "step 1: level: number expected, got string" },
      { { { at = 0, mark = "x", level = 0 / 0 } }, "step 1: level: a finite number expected" },
      { { { at = -1, mark = "x" } }, "step 1: at: seconds from 0 to a day" },
      { { { at = { 2, 1 }, mark = "x" } }, "step 1: at: seconds from 0 to a day, FROM <= TO" },
      { { { at = "soon", mark = "x" } }, "step 1: at is seconds" },
      { { { at = 0, mark = "x" }, { at = 1, cut = "" } }, "step 2: cut names a target" },
      { { { at = 0, mark = "x\0y" } }, "step 1: mark names a target" },
    }
    for _, c in ipairs(cases) do
      H.raises(function() timeline.new(c[1], { actions = actions(log) }) end, "timeline: " .. c[2])
    end
    H.raises(function() timeline.new({}, { actions = actions(log), seed = 1.5 }) end, "seed: an integer")
    assert.are.same({}, log)
  end)

  it("draws the same times from the same seed, every time", function()
    local steps = { { at = { 0, 1 }, mark = "a" }, { at = { 0, 1 }, mark = "b" }, { at = 0.5, mark = "c" },
                    { at = { 0.2, 0.9 }, mark = "d" } }
    local first = timeline.new(steps, { actions = actions({}), seed = 42 }):sequence()
    for _ = 1, 10 do
      assert.are.same(first, timeline.new(steps, { actions = actions({}), seed = 42 }):sequence())
    end
    local other = timeline.new(steps, { actions = actions({}), seed = 43 }):sequence()
    assert.are_not.same(first, other)
    for i = 2, #first do assert.truthy(first[i - 1].at <= first[i].at) end
  end)

  it("applies each step at its time, measures the error, and undoes what is left", H.ns(function(ns)
    fwsh.veth.add("tl0", "tl1")
    fwsh.veth.add("tl2", "tl3")
    fwsh.link.get("tl0"):up(); fwsh.link.get("tl2"):up()
    local log = {}
    local t = timeline.new({
      { at = 0.05, cut = "tl0" },
      { at = 0.10, restore = "tl0" },
      { at = 0.12, cut = "tl2", name = "cut the second" },
      { at = 0.15, mark = "here", note = "hello", level = 1 },
    }, { actions = actions(log) })
    local events = t:run()
    assert.are.same({ "cut tl0", "restore tl0", "cut tl2", "mark" }, log)
    assert.is_true(up(ns, "tl0"))           -- healed by its restore
    assert.is_false(up(ns, "tl2"))          -- still cut: the run leaves it to undo
    assert.are.equal(4, #events)
    assert.are.equal("cut the second", events[3].name)
    for _, e in ipairs(events) do
      assert.truthy(e.error_ms >= 0, e.name)   -- never before its time
      assert.truthy(e.started >= e.at, e.name)
    end
    assert.is_nil(t:undo())
    assert.is_true(up(ns, "tl2"))
    assert.are.same({ "cut tl0", "restore tl0", "cut tl2", "mark", "undo cut tl2" }, log)
    local errs = t:errors()
    table.sort(errs)
    print(string.format("# timeline: application error max %.3f ms over %d steps", errs[#errs], #errs))
  end))

  it("undoes what a failed run put in place, and names the step that failed", H.ns(function(ns)
    fwsh.veth.add("tl0", "tl1")
    fwsh.link.get("tl0"):up()
    local log = {}
    local t = timeline.new({ { at = 0, cut = "tl0" }, { at = 0.01, boom = "x" } }, { actions = actions(log) })
    H.raises(function() t:run() end, "timeline: step 2 (boom x) at 0.010 s:", "it broke")
    assert.is_true(up(ns, "tl0"))
    assert.are.same({ "cut tl0", "undo cut tl0" }, log)
  end))

  it("undoes the fault of a step that raised after doing part of its work", H.ns(function(ns)
    fwsh.veth.add("tl0", "tl1")
    fwsh.link.get("tl0"):up()
    local log = {}
    local a = actions(log)
    -- a cut that takes the link down and then fails (or is interrupted)
    a.halfcut = { apply = function(_, link) fwsh.link.get(link):down(); error("then it broke") end,
                  undo = a.cut.undo }
    local t = timeline.new({ { at = 0, halfcut = "tl0" } }, { actions = a })
    H.raises(function() t:run() end, "timeline: step 1 (halfcut tl0) at 0.000 s:", "then it broke")
    assert.is_true(up(ns, "tl0"))
    assert.are.same({ "undo cut tl0" }, log)
  end))
end)
