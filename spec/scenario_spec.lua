-- scenario_spec.lua - the scenario runner's verdict (firewall.scenario): a
-- scenario run with --expect, --json and --junit prints the verdict after
-- its report, exits 0 only when every expectation held, writes JSON that is
-- valid against docs/verdict.schema.json and JUnit XML a JUnit parser
-- reads; a failed expectation exits non-zero with an fwsh error naming the
-- expectation and the step. The scenario is fw1-dies.lua on namespace
-- nodes, run by the fwsh program in the test's namespace, once per case.
local H = require "helper"

local SCENARIO = H.root .. "/scripts/lab/scenarios/fw1-dies.lua"
local readers = require "verdict_readers"

-- A directory of the test's own, removed after fn.
local function in_dir(fn)
  local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
  local ok, err = pcall(fn, dir)
  H.run({ "rm", "-rf", "--", dir })
  if not ok then error(err, 0) end
end

local function scenario(ns, args)
  local argv = { SCENARIO }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return H.fwsh_cmd(argv, { prefix = { "ip", "netns", "exec", ns }, stderr = true })
end

-- The verdict is the runner's Lua: the sanitizer pass leaves these two whole
-- scenarios to the plain pass (fwsh's C through the same fw1-dies runs in
-- failover_spec's cases under the sanitizer).
local sanitizer = os.getenv("LD_PRELOAD") ~= nil

describe("the scenario runner's verdict", function()
  it("passes, with JSON and JUnit, when every expectation held", H.ns(function(ns)
    if sanitizer then pending("the plain pass runs the passing verdict") return end
    in_dir(function(dir)
      local json, junit = dir .. "/verdict.json", dir .. "/verdict.xml"
      local out, ok = scenario(ns, { "--expect", "outage_ms<5000", "--expect", "stream=survived",
                                     "--json", json, "--junit", junit })
      assert(ok, out)
      -- every report line stays, the verdict follows the report
      local report = out:find("\ntcp_stream: survived\n", 1, true)
      assert.truthy(report, out)
      assert.truthy(out:find("\nexpect outage_ms<5000: pass (1 step)\n", report, true), out)
      assert.truthy(out:find("\nexpect stream=survived: pass (1 step)\nverdict: pass\n", report, true), out)
      local out_v, valid = readers.validate(json)
      assert(valid, out_v)
      local doc = require("dkjson").decode(H.read_file(json))
      assert.is_true(doc.passed)
      assert.are.equal("run 1", doc.steps[1].name)
      -- the step's values are the run's: the outage the report printed, the stream's word
      local outage = tonumber(out:match("\n1%s+fw%-1%s+fw%-2%s+([%d.]+)"))
      assert.are.equal(outage, math.floor(doc.steps[1].values.outage_ms * 10 + 0.5) / 10)
      assert.are.equal("survived", doc.steps[1].values.stream)
      assert.are.equal("number", type(doc.steps[1].values.lost))
      local cases, parsed = readers.junit(junit)
      assert(parsed, cases)
      assert.truthy(cases:find("^suite fw%-1 dies %(power, fw%-1 master first%) 2 0\n"), cases)
      assert.truthy(cases:find("\ncase run 1: outage_ms<5000 | ok\n", 1, true), cases)
      assert.truthy(cases:find("\ncase run 1: stream=survived | ok\n", 1, true), cases)
    end)
  end))

  it("fails, naming the expectation and the step, when one did not hold", H.ns(function(ns)
    if sanitizer then pending("the plain pass runs the failing verdict") return end
    in_dir(function(dir)
      local json, junit = dir .. "/verdict.json", dir .. "/verdict.xml"
      local out, ok, code = scenario(ns, { "--expect", "outage_ms<0", "--expect", "stream=survived",
                                           "--json", json, "--junit", junit })
      assert.falsy(ok, out)
      assert.are_not.equal(0, code)
      assert.truthy(out:find("\ntcp_stream: survived\n", 1, true), out)
      assert.truthy(out:find("\nexpect outage_ms<0: fail (run 1: outage_ms was ", 1, true), out)
      assert.truthy(out:find("\nverdict: fail\n", 1, true), out)
      -- the error: operation scenario, the title, the expectation and its step
      assert.truthy(out:find("fwsh: scenario fw-1 dies (power, fw-1 master first): expect outage_ms<0: fail (run 1: ",
                             1, true), out)
      local doc = require("dkjson").decode(H.read_file(json))
      assert.is_false(doc.passed)
      local cases = readers.junit(junit)
      assert.truthy(cases:find("^suite [^\n]* 2 1\n"), cases)
      assert.truthy(cases:find("\ncase run 1: outage_ms<0 | outage_ms was ", 1, true), cases)
    end)
  end))

  it("refuses a bad expectation before it builds anything", H.ns(function(ns)
    local out, ok = scenario(ns, { "--expect", "outage_ms<<1" })
    assert.falsy(ok, out)
    assert.truthy(out:find("verdict.parse \"outage_ms<<1\"", 1, true), out)
    assert.falsy(out:find("fw-1 dies", 1, true), out)
    assert.are.same({ "lo" }, H.link_names(ns))
  end))
end)
