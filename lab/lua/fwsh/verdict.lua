-- verdict.lua - expectations over a run's measurements, and the verdict CI
-- reads: pass or fail per expectation and per step, an exit status, JSON
-- (docs/verdict.schema.json) and JUnit XML.
--
--   local verdict = require "fwsh.verdict"
--   local v = verdict.new("fw-1 dies (power)", { "outage_ms<100", "stream=survived" })
--   v:step("run 1", { outage_ms = 62.1, stream = "survived" }, { "plot-1.svg" })
--   v:write{ json = "out.json", junit = "out.xml" }
--   os.exit(v:passed() and 0 or 1)
--
-- An expectation is NAME OP VALUE: OP one of < <= > >= = == != ~=, VALUE a
-- number or a word ("survived"); prefixed with "STEP:" it holds for that step
-- only, else for every step. A step that did not measure NAME fails it: an
-- expectation that cannot be checked is not a pass.
local M = {}

local OPS = {
  ["<"] = function(a, b) return a < b end,
  ["<="] = function(a, b) return a <= b end,
  [">"] = function(a, b) return a > b end,
  [">="] = function(a, b) return a >= b end,
  ["="] = function(a, b) return a == b end,
  ["!="] = function(a, b) return a ~= b end,
}
OPS["=="], OPS["~="] = OPS["="], OPS["!="]
local ORDERED = { ["<"] = true, ["<="] = true, [">"] = true, [">="] = true }

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end

--- verdict.parse(text) -> { text=, step=, name=, op=, value= }: one
--  expectation, or an error naming what is wrong with it
function M.parse(text)
  if type(text) ~= "string" then fail("verdict.parse: an expectation is a string, got %s", type(text)) end
  if text:find("%z") then fail("verdict.parse %q: a zero byte inside", text) end
  local step, rest = text:match("^%s*([^:<>=!~]-)%s*:%s*(.*)$")
  if not step or step == "" then step, rest = nil, text end
  local name, op, value = rest:match("^%s*([%a_][%w_]*)%s*([<>=!~]=?)%s*(.-)%s*$")
  if not name or not OPS[op] then
    fail("verdict.parse %q: NAME OP VALUE expected (OP: < <= > >= = != ; e.g. outage_ms<100)", text)
  end
  if value == "" then fail("verdict.parse %q: no value after %s", text, op) end
  local n = tonumber(value)
  if n and n ~= n then n = nil end
  if ORDERED[op] and not n then fail("verdict.parse %q: %s compares numbers, not %q", text, op, value) end
  if n and not value:match("^[-+]?[%d.]+[eE]?[-+]?%d*$") then
    fail("verdict.parse %q: %q is no decimal number", text, value)
  end
  return { text = text, step = step, name = name, op = op, value = n or value }
end

--- verdict.from_table{ name = "< 100" | value, ... } -> { expectation, ... }:
--  the table form, for scripts (expect{ outage_ms = "< 100", resets = 0 })
function M.from_table(t)
  local names, list = {}, {}
  for k in pairs(t) do
    if type(k) ~= "string" then fail("verdict: expectation keys are names, got %s", type(k)) end
    names[#names + 1] = k
  end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = t[k]
    if type(v) == "number" then v = "=" .. string.format("%.17g", v)
    elseif type(v) ~= "string" then fail("verdict: %s: a number or \"OP VALUE\", got %s", k, type(v))
    elseif not v:match("^%s*[<>=!~]") then v = "=" .. v end
    list[#list + 1] = M.parse(k .. v)
  end
  return list
end

local V = {}
V.__index = V

--- verdict.new(title, expectations) -> v: expectations a list of strings
--  (the command line's --expect) or the table form
function M.new(title, expect)
  if type(title) ~= "string" or title == "" then fail("verdict.new: a title (string) expected") end
  local list = {}
  if type(expect) == "table" and #expect == 0 and next(expect) then
    list = M.from_table(expect)
  else
    for i, e in ipairs(expect or {}) do list[i] = type(e) == "table" and e or M.parse(e) end
  end
  return setmetatable({ title = title, expect = list, steps = {}, started = os.time(),
                        clock = os.clock() }, V)
end

--- v:add(expectations): more expectations (parsed, or tables as
--  verdict.parse makes them, with label = the text lines() shows), before
--  any step is recorded: a script's own, per step, beside the command line's
function V:add(list)
  if #self.steps > 0 then fail("verdict: expectations are added before the first step") end
  for _, e in ipairs(list) do self.expect[#self.expect + 1] = type(e) == "table" and e or M.parse(e) end
end

--- v:step(name, values [, files]) -> whether every expectation for it held:
--  records a step's measurements (a table of numbers and words) and the
--  files it made (plots, captures), and checks the expectations against it
function V:step(name, values, files)
  if type(name) ~= "string" then fail("verdict: a step's name is a string, got %s", type(name)) end
  local s = { name = name, values = values or {}, files = files or {}, checks = {} }
  local ok = true
  for _, e in ipairs(self.expect) do
    if e.step == nil or e.step == name then
      local have = s.values[e.name]
      local c = { expect = e, measured = have }
      if have == nil then
        c.passed, c.why = false, e.name .. " was not measured"
      elseif type(have) ~= type(e.value) then
        c.passed, c.why = false, string.format("%s is %s, not comparable with %s", e.name, tostring(have),
                                               tostring(e.value))
      else
        c.passed = OPS[e.op](have, e.value)
        if not c.passed then
          c.why = string.format("%s was %s (expected %s %s)", e.name, tostring(have), e.op, tostring(e.value))
        end
      end
      ok = ok and c.passed
      s.checks[#s.checks + 1] = c
    end
  end
  s.passed = ok
  self.steps[#self.steps + 1] = s
  return ok
end

--- v:passed() -> true when every expectation held at every step it names,
--  and each expectation meant for a step met one
function V:passed()
  for _, e in ipairs(self.expect) do
    local met = false
    for _, s in ipairs(self.steps) do
      for _, c in ipairs(s.checks) do
        if c.expect == e then
          met = true
          if not c.passed then return false end
        end
      end
    end
    if not met then return false end
  end
  return true
end

-- The expectations no step checked (a step name that never came).
local function unmet(self)
  local out = {}
  for _, e in ipairs(self.expect) do
    local met = false
    for _, s in ipairs(self.steps) do
      for _, c in ipairs(s.checks) do met = met or c.expect == e end
    end
    if not met then out[#out + 1] = e end
  end
  return out
end

--- v:lines() -> { "verdict: pass|fail", "expect TEXT: pass|fail (...)", ... }:
--  what a scenario prints last
function V:lines()
  local out = {}
  for _, e in ipairs(self.expect) do
    local bad, n = {}, 0
    for _, s in ipairs(self.steps) do
      for _, c in ipairs(s.checks) do
        if c.expect == e then
          n = n + 1
          if not c.passed then bad[#bad + 1] = s.name .. ": " .. c.why end
        end
      end
    end
    if n == 0 then
      out[#out + 1] = string.format("expect %s: fail (no step %s)", e.label or e.text, e.step or "")
    elseif #bad == 0 then
      out[#out + 1] = string.format("expect %s: pass (%d step%s)", e.label or e.text, n, n == 1 and "" or "s")
    else
      out[#out + 1] = string.format("expect %s: fail (%s)", e.label or e.text, table.concat(bad, "; "))
    end
  end
  out[#out + 1] = "verdict: " .. (self:passed() and "pass" or "fail")
  return out
end

-- ---- JSON --------------------------------------------------------------------

local function json_string(s)
  s = s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
    return named[c] or string.format("\\u%04x", c:byte())
  end)
  -- bytes that are not UTF-8 would make the whole document invalid
  if not utf8.len(s) then s = s:gsub("[\128-\255]", function(c) return string.format("\\u%04x", c:byte()) end) end
  return '"' .. s .. '"'
end

local function json(v, out)
  local t = type(v)
  if t == "nil" then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif math.type(v) == "integer" then out[#out + 1] = string.format("%d", v)
    else out[#out + 1] = string.format("%.17g", v) end
  elseif t == "string" then out[#out + 1] = json_string(v)
  elseif t == "table" then
    if #v > 0 or next(v) == nil and getmetatable(v) == M.array then
      out[#out + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then out[#out + 1] = "," end
        json(x, out)
      end
      out[#out + 1] = "]"
    else
      local keys, by = {}, {}
      for k, x in pairs(v) do
        keys[#keys + 1] = tostring(k)
        by[keys[#keys]] = x
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = json_string(k) .. ":"
        json(by[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = json_string(tostring(v))
  end
end

M.array = {}
local function array(t) return setmetatable(t, M.array) end

--- verdict.json(value) -> text: value as JSON (keys sorted; NaN and
--  infinities as null; bytes that are not UTF-8 escaped)
function M.json(v)
  local out = {}
  json(v, out)
  return table.concat(out)
end

--- v:document() -> the verdict as a table, the shape docs/verdict.schema.json
--  describes
function V:document()
  local doc = { fwsh_verdict = 1, title = self.title, passed = self:passed(),
                started = os.date("!%Y-%m-%dT%H:%M:%SZ", self.started),
                expectations = array({}), steps = array({}) }
  for _, e in ipairs(self.expect) do
    doc.expectations[#doc.expectations + 1] = { text = e.text, step = e.step, name = e.name, op = e.op,
                                                value = e.value }
  end
  for _, e in ipairs(unmet(self)) do
    doc.steps[#doc.steps + 1] = { name = e.step or "", passed = false, values = {}, files = array({}),
                                  checks = array({ { expect = e.text, passed = false,
                                                     why = "no step " .. (e.step or "") } }) }
  end
  for _, s in ipairs(self.steps) do
    local checks = array({})
    for _, c in ipairs(s.checks) do
      checks[#checks + 1] = { expect = c.expect.text, measured = c.measured, passed = c.passed, why = c.why }
    end
    local files = array({})
    for i, f in ipairs(s.files) do files[i] = f end
    doc.steps[#doc.steps + 1] = { name = s.name, passed = s.passed, values = s.values, files = files,
                                  checks = checks }
  end
  return doc
end

-- ---- JUnit XML -----------------------------------------------------------------

local function xml(s)
  s = tostring(s):gsub("[%z\1-\8\11\12\14-\31]", "?")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
                               ["'"] = "&apos;" }))
end

--- v:junit() -> text: a JUnit XML report, one testcase per step and
--  expectation ("STEP: EXPECTATION"), a failure for each that did not hold
function V:junit()
  local cases, failures = {}, 0
  local function case(name, why)
    if why then failures = failures + 1 end
    cases[#cases + 1] = string.format('    <testcase classname="%s" name="%s">%s</testcase>', xml(self.title),
                                      xml(name), why and string.format('\n      <failure type="expectation" '
                                        .. 'message="%s"/>\n    ', xml(why)) or "")
  end
  for _, e in ipairs(unmet(self)) do case((e.step or "") .. ": " .. e.text, "no step " .. (e.step or "")) end
  for _, s in ipairs(self.steps) do
    for _, c in ipairs(s.checks) do case(s.name .. ": " .. c.expect.text, not c.passed and c.why or nil) end
  end
  return table.concat({
    '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="fwsh" tests="%d" failures="%d">', #cases, failures),
    string.format('  <testsuite name="%s" tests="%d" failures="%d" errors="0" timestamp="%s">', xml(self.title),
                  #cases, failures, os.date("!%Y-%m-%dT%H:%M:%S", self.started)),
    table.concat(cases, "\n"),
    "  </testsuite>",
    "</testsuites>", "" }, "\n")
end

--- v:write{ json = FILE, junit = FILE }: writes the verdict in either form
--  (a file written whole, or not at all)
function V:write(o)
  local function put(path, text)
    local tmp = path .. ".new"
    local f, err = io.open(tmp, "w")
    if not f then error("verdict: " .. err, 2) end
    f:write(text)
    f:close()
    local ok, rerr = os.rename(tmp, path)
    if not ok then os.remove(tmp); error("verdict: " .. rerr, 2) end
  end
  if o.json then put(o.json, M.json(self:document()) .. "\n") end
  if o.junit then put(o.junit, self:junit()) end
end

return M
