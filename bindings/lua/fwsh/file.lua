-- file.lua - a whole file read or written, the one way fwsh's Lua code
-- (the module's half and the lab library) does it. Writing here decides
-- nothing: a write the session may only show (--dry-run) goes through
-- fwsh.effect, which calls this one when it does write.
local errors = require "fwsh.errors"

local M = {}

--- file.read(path) -> what the file holds, or nil, the reason (io.open's
--  message) when it cannot be read: the caller says what a missing file means
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s, rerr = f:read("a")
  f:close()
  if not s then return nil, path .. ": " .. tostring(rerr) end -- a directory opens, and does not read
  return s
end

--- file.write(path, text [, mode [, level]]) -> true: writes text to path
--  ("wb" by default: replacing it; "ab" appends), or raises an fwsh error
--  (op write, the path, the system's reason) placed as errors.raise's level
--  (2: the caller of file.write)
function M.write(path, text, mode, level)
  level = (level or 2) + 1
  local f, err = io.open(path, mode or "wb")
  if not f then errors.raise("write", path, err, level) end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then errors.raise("write", path, werr or cerr, level) end
  return true
end

return M
