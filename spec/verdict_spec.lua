-- verdict_spec.lua - expectations and the verdict CI reads: each expectation
-- passes or fails per step with the measured value in its reason, the JSON is
-- valid against docs/verdict.schema.json (checked by python3-jsonschema), and
-- the JUnit XML is read back by a JUnit parser (python3-junitparser).
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local verdict = require "fwsh.verdict"

local readers = require "verdict_readers"

local function tmpfile(suffix)
  local f = os.tmpname()
  os.remove(f)
  return f .. suffix
end

describe("fwsh.verdict", function()
  it("parses NAME OP VALUE, a step's prefix, and refuses what it cannot check", function()
    assert.are.same({ text = "outage_ms<100", name = "outage_ms", op = "<", value = 100 },
                    verdict.parse("outage_ms<100"))
    assert.are.same({ text = "run 2: stream = survived", step = "run 2", name = "stream", op = "=",
                      value = "survived" }, verdict.parse("run 2: stream = survived"))
    assert.are.equal(0.5, verdict.parse("loss<=0.5").value)
    for _, bad in ipairs({ "outage_ms", "<100", "outage_ms<", "outage_ms<fast", "outage_ms<0x10",
                           "stream=sur\0vived", "1x=3", "outage_ms<nan" }) do
      local ok, err = pcall(verdict.parse, bad)
      assert.falsy(ok, bad)
      assert.truthy(err:find("verdict.parse", 1, true), err)
    end
    assert.are.same({ "outage_ms<100", "resets=0", "stream=survived" }, (function()
      local t = {}
      for i, e in ipairs(verdict.from_table({ outage_ms = "< 100", resets = 0, stream = "survived" })) do
        t[i] = e.text:gsub("%s", "")
      end
      return t
    end)())
  end)

  it("fails an expectation where a step broke it, or did not measure it, naming both", function()
    local v = verdict.new("fw-1 dies (power)", { "outage_ms<100", "stream=survived", "run 2: mac_ms<=60" })
    assert.is_true(v:step("run 1", { outage_ms = 62.1, stream = "survived", mac_ms = 70 }))
    assert.is_false(v:step("run 2", { outage_ms = 130.5, stream = "reset", mac_ms = 55 }))
    assert.is_false(v:passed())
    local lines = table.concat(v:lines(), "\n")
    assert.truthy(lines:find("expect outage_ms<100: fail (run 2: outage_ms was 130.5 (expected < 100))", 1, true), lines)
    assert.truthy(lines:find("expect stream=survived: fail (run 2: stream was reset (expected = survived))", 1, true), lines)
    assert.truthy(lines:find("expect run 2: mac_ms<=60: pass (1 step)", 1, true), lines)
    assert.truthy(lines:find("\nverdict: fail$"), lines)

    local w = verdict.new("t", { "outage_ms<100", "run 9: outage_ms<100" })
    w:step("run 1", { stream = "survived" })
    assert.is_false(w:passed())
    lines = table.concat(w:lines(), "\n")
    assert.truthy(lines:find("run 1: outage_ms was not measured", 1, true), lines)
    assert.truthy(lines:find("expect run 9: outage_ms<100: fail (no step run 9)", 1, true), lines)

    local ok = verdict.new("t", { "outage_ms<100" })
    ok:step("run 1", { outage_ms = 10 })
    assert.is_true(ok:passed())
  end)

  it("writes JSON valid against its schema, and the schema can fail", function()
    local v = verdict.new("title with \255 and \"quotes\"", { "outage_ms<100", "run 3: stream=survived" })
    v:step("run 1", { outage_ms = 62.1, stream = "survived", lost = 0 }, { "plot-1.svg" })
    v:step("run 2", { outage_ms = 0 / 0, stream = "reset" })
    local file = tmpfile(".json")
    v:write({ json = file })
    local out, ok = readers.validate(file)
    assert(ok, out)
    assert.are.equal("valid\n", out)
    -- the document says what happened
    local doc = require("dkjson").decode(H.read_file(file))
    assert.is_false(doc.passed)
    assert.are.equal("run 1", doc.steps[2].name)
    assert.are.equal(62.1, doc.steps[2].values.outage_ms)
    assert.are.same({ "plot-1.svg" }, doc.steps[2].files)
    -- a document that breaks the schema is refused
    H.write_file(file, '{"fwsh_verdict": 1, "title": "t", "passed": "yes", "started": "now", '
                       .. '"expectations": [], "steps": []}')
    out, ok = readers.validate(file)
    os.remove(file)
    assert.falsy(ok, out)
  end)

  it("writes JUnit XML that a JUnit parser reads: a testcase per step and expectation", function()
    local v = verdict.new("fw-1 dies <power> & hang", { "outage_ms<100", "stream=survived", "run 7: lost=0" })
    v:step("run 1", { outage_ms = 62.1, stream = "survived" })
    v:step("run 2", { outage_ms = 140, stream = "survived" })
    local file = tmpfile(".xml")
    v:write({ junit = file })
    local out, ok = readers.junit(file)
    os.remove(file)
    assert(ok, out)
    assert.truthy(out:find("^suite fw%-1 dies <power> & hang 5 2\n"), out)
    assert.truthy(out:find("\ncase run 1: outage_ms<100 | ok\n", 1, true), out)
    assert.truthy(out:find("\ncase run 2: outage_ms<100 | outage_ms was 140 (expected < 100)\n", 1, true), out)
    assert.truthy(out:find("\ncase run 7: run 7: lost=0 | no step run 7\n", 1, true), out)
  end)
end)
