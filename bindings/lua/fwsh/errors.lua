-- errors.lua - the errors of fwsh's Lua code (the module's Lua half and the
-- lab library on it) are fwsh errors, as the C side raises them (README,
-- Errors): a table with op, object, reason and the sentence in message,
-- tostring'd as that sentence. And the one way a teardown closes everything
-- and still reports the first failure.
local M = {}

-- The C side's metatable (bindings/base/error.c), so that both kinds print
-- and concatenate alike. C makes it on its first error; if none came yet, it
-- is made here, under the same registry name, with the same two methods,
-- and C takes this one.
local function metatable()
  local registry = debug.getregistry()
  local mt = registry["fwsh.error"]
  if not mt then
    mt = { __name = "fwsh.error", __tostring = function(e) return e.message end,
           __concat = function(a, b) return tostring(a) .. tostring(b) end }
    registry["fwsh.error"] = mt
  end
  return mt
end

--- errors.new(op, object, reason [, level]) -> an fwsh error (not raised):
--  message is "FILE:LINE: op object: reason" ("op: reason" with no
--  object), the place as error()'s level
--  names it (1: the function calling errors.new), 0 no place
function M.new(op, object, reason, level)
  reason = tostring(reason)
  local where = level == 0 and "" or debug.traceback("", (level or 1) + 1):match("\n%s*([^\n]-:%d+:)") or ""
  if where ~= "" then where = where .. " " end
  local e = { op = op, object = object, reason = reason }
  if object == nil then -- no one object: the reason names what is wrong
    e.message = string.format("%s%s: %s", where, op, reason)
  else
    object = tostring(object)
    e.object = object
    local seen = object ~= "" and not object:find("^%s") and not object:find("%s$") and not object:find("[\t\n\r]")
    e.message = string.format(seen and "%s%s %s: %s" or "%s%s '%s': %s", where, op, object, reason)
  end
  return setmetatable(e, metatable())
end

--- errors.raise(op, object, reason [, level]): raises errors.new's error;
--  level 2 (default) names the caller of the function that raises, as
--  the C side names the line that called it
function M.raise(op, object, reason, level)
  error(M.new(op, object, reason, level == 0 and 0 or (level or 2) + 1), 0)
end

--- errors.is(e) -> whether e is an fwsh error (from C or from here)
function M.is(e)
  return type(e) == "table" and type(e.op) == "string" and type(e.message) == "string"
end

--- errors.collect() -> c: c(fn, ...) (or c:try(fn, ...)) calls fn and keeps
--  the first error it raises; c:done() raises that error, if any: closing
--  every part of something even when one fails. c itself is what a part's
--  own closer is given to try its pieces with (node's reap).
local Collector = {}
Collector.__index = Collector

function Collector:try(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok and self.first == nil then self.first = err end
  return ok
end
Collector.__call = Collector.try

function Collector:done()
  if self.first ~= nil then error(self.first, 0) end
end

function M.collect()
  return setmetatable({}, Collector)
end

return M
