--- fwsh.validate - checks for values that go into generated configuration
-- files (keepalived, conntrackd, nftables). A value that could change the
-- file's structure - a newline, a brace, a quote, a semicolon, '#' - is
-- refused with an error that names the generator, the field and the value;
-- nothing unchecked is ever written.
local errors = require "fwsh.errors"

local M = {}

--- validate.fail(gen, fmt, ...): raises the generator's error, an fwsh error
--  (op: the generator, "keepalived"; the reason formatted)
function M.fail(gen, fmt, ...)
  errors.raise(gen, nil, string.format(fmt, ...), 0)
end

local function refuse(gen, field, v, why)
  M.fail(gen, "%s %s refused: %s", field, string.format("%q", tostring(v)), why)
end

local STRUCTURE = "[%c\"'{};#\\%s]"

--- validate.table(gen, field, v) -> v: a table (the configuration, or a part of it)
function M.table(gen, field, v)
  if type(v) ~= "table" then refuse(gen, field, v, "a table expected") end
  return v
end

--- validate.list(gen, field, v) -> v: a list, items 1 to #v and nothing else. A
-- hole ({nil, "10.0.0.1/24"}) would stop ipairs at once and leave a section empty,
-- another key would be skipped: both are refused, not written as less.
function M.list(gen, field, v)
  M.table(gen, field, v)
  local n = 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 then
      refuse(gen, field, v, string.format("a list expected (a key %s)", string.format("%q", tostring(k))))
    end
    n = n + 1
  end
  for i = 1, n do
    if v[i] == nil then refuse(gen, field, v, string.format("a list without holes expected ([%d] is nil)", i)) end
  end
  return v
end

--- validate.name(gen, field, v [, max]) -> v: letters, digits, '.', '_', '-', 1..max (default 31)
function M.name(gen, field, v, max)
  max = max or 31
  if type(v) ~= "string" then refuse(gen, field, v, "a name (string) expected") end
  if v:find(STRUCTURE) then
    refuse(gen, field, v, "a newline, brace, quote, semicolon, '#' or white space has no place in it")
  end
  if not v:match("^[%w][%w._-]*$") or #v > max then
    refuse(gen, field, v, string.format("only letters, digits, '.', '_', '-', at most %d", max))
  end
  return v
end

--- validate.ipv4(gen, field, v [, {prefix=true|false}]) -> v: "10.0.0.1" or "10.0.0.0/24"
function M.ipv4(gen, field, v, o)
  o = o or {}
  if type(v) ~= "string" then refuse(gen, field, v, "an IPv4 address expected") end
  if v:find(STRUCTURE) then refuse(gen, field, v, "not an IPv4 address (stray characters)") end
  local a, b, c, d, slash, p = v:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)(/?)(%d*)$")
  if not a then refuse(gen, field, v, "not an IPv4 address") end
  for _, x in ipairs({ a, b, c, d }) do
    if tonumber(x) > 255 or (#x > 1 and x:sub(1, 1) == "0") then refuse(gen, field, v, "not an IPv4 address") end
  end
  if slash ~= "" and (p == "" or tonumber(p) > 32) then refuse(gen, field, v, "bad prefix length") end
  if o.prefix == true and slash == "" then refuse(gen, field, v, "a prefix (/N) is needed") end
  if o.prefix == false and slash ~= "" then refuse(gen, field, v, "an address without /N is needed") end
  return v
end

--- validate.int(gen, field, v, lo, hi) -> v
function M.int(gen, field, v, lo, hi)
  if math.type(v) ~= "integer" or v < lo or v > hi then
    refuse(gen, field, v, string.format("an integer from %d to %d expected", lo, hi))
  end
  return v
end

--- validate.number(gen, field, v, lo, hi) -> v
function M.number(gen, field, v, lo, hi)
  if type(v) ~= "number" or v ~= v or v < lo or v > hi then
    refuse(gen, field, v, string.format("a number from %g to %g expected", lo, hi))
  end
  return v
end

--- validate.path(gen, field, v) -> v: an absolute path of [%w/._-]
function M.path(gen, field, v)
  if type(v) ~= "string" or v:find(STRUCTURE) or not v:match("^/[%w/._-]*$") or v:find("%.%.") then
    refuse(gen, field, v, "an absolute path of letters, digits, '/', '.', '_', '-' expected")
  end
  return v
end

--- validate.argv(gen, field, argv) -> argv: a command for a daemon to run
-- itself (no shell): every word a plain word, the first an absolute path
function M.argv(gen, field, argv)
  if type(argv) ~= "table" or #argv == 0 then refuse(gen, field, argv, "an argv list expected") end
  M.list(gen, field, argv)
  M.path(gen, field .. "[1]", argv[1])
  for i = 2, #argv do
    local w = argv[i]
    if type(w) ~= "string" or w == "" or w:find(STRUCTURE) then
      refuse(gen, string.format("%s[%d]", field, i), w, "a plain word expected")
    end
  end
  return argv
end

--- validate.mac(gen, field, v) -> v
function M.mac(gen, field, v)
  if type(v) ~= "string" or not v:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
    refuse(gen, field, v, "a MAC address aa:bb:cc:dd:ee:ff expected")
  end
  return v:lower()
end

return M
