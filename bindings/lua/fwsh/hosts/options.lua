-- options.lua - a host context's options: the keys fwsh.host takes and the
-- checks of their values, made at the public entry points (hosts.host,
-- hosts.connect) so that a bad one fails before any host starts; and the
-- error a host context raises, from its sentence.
local errors = require "fwsh.errors"
local S = require "fwsh.hosts.ssh"

local O = {}

--- O.fail(fmt, ...): raises an fwsh error from a sentence "OP [OBJECT]:
--  REASON" (fwsh.host h1: ..., hosts.stretch br0: ...): the same words,
--  with their parts as fields
function O.fail(fmt, ...)
  local text = string.format(fmt, ...)
  local head, reason = text:match("^(.-): (.*)$")
  if not head then errors.raise("fwsh.host", nil, text, 0) end
  local op, object = head:match("^(%S+) (.+)$")
  errors.raise(op or head, object, reason, 0)
end
local fail = O.fail

local function check(what, s, pattern, hint)
  if type(s) ~= "string" or not s:match(pattern) then
    fail("fwsh.host: %s %s: %s", what, tostring(s), hint)
  end
  return s
end

-- (name: hosts.connect's lists carry it; dev: a hosts file's underlay device,
-- for stretch; netns: fwsh.emulate's say where the host is; record=false: the
-- lab's record of its hosts is not written; control=false: no ssh master)
O.KEYS = { "name", "ssh", "port", "identity", "known_hosts", "fwsh", "underlay", "timeout", "lab", "dir",
           "connect_timeout", "dev", "netns", "record", "control" }

--- O.check(name, o) -> o (or {}), the fwsh program to run there: raises an
--  fwsh error (op fwsh.host) for an unknown key, a bad name or a bad value,
--  an unknown key naming the line that called the caller of check
function O.check(name, o)
  o = o or {}
  errors.keys("fwsh.host", name, o, O.KEYS, 3)
  check("name", name, "^[%w][%w._-]*$", "a host's name has letters, digits, '.', '_' and '-'")
  if #name > 32 then fail("fwsh.host: name %s: at most 32 bytes", name) end
  if o.ssh ~= false then
    check("ssh", o.ssh, "^[%w._%%:@%[%]-]+$", "user@address (letters, digits and . _ - : @ [ ])")
    if o.ssh:sub(1, 1) == "-" then fail("fwsh.host: ssh %s: does not start with '-'", o.ssh) end
  end
  local ofwsh = o.ssh == false and S.own_fwsh() or o.fwsh or "fwsh"
  check("fwsh", ofwsh, "^[%w/._+-]+$", "a path or a program name, without blanks or shell characters")
  if o.port ~= nil and not (math.tointeger(o.port) and o.port > 0 and o.port < 65536) then
    fail("fwsh.host: port %s: 1 to 65535", tostring(o.port))
  end
  return o, ofwsh
end

return O
