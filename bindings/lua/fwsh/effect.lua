-- effect.lua - the side effects of fwsh's Lua code outside its C calls:
-- files it writes or removes. They take the session's one decision, as
-- fwsh's changes do: shown as the shell lines that make them (--explain, and
-- --dry-run), and under --dry-run not made.
local fwsh = fwsh or require "fwsh"
local file = require "fwsh.file"

local M = {}

-- A word for sh: as it is when it is plain, in single quotes otherwise.
local function word(s)
  if s:match("^[%w@%%+=:,./_-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
M.word = word

--- effect.planned() -> whether this session is a plan (--dry-run): it makes nothing
function M.planned() return fwsh.mode() == "plan" end

--- effect.write(path, text [, mode]) -> true: writes text to path (io.open mode,
-- "w" by default), replacing it; in a plan only shown
function M.write(path, text, mode)
  if text:find("%z") or text:find("FWSH_EOF", 1, true) or (text ~= "" and text:sub(-1) ~= "\n") then
    fwsh.explain(string.format("# write %d bytes to %s", #text, word(path)))
  else
    fwsh.explain(string.format("cat > %s <<'FWSH_EOF'\n%sFWSH_EOF", word(path), text))
  end
  if M.planned() then return true end
  file.write(path, text, mode or "w", 3)
  return true
end

--- effect.remove(path) -> true: removes the file path, if it is there; in a plan only shown
function M.remove(path)
  fwsh.explain("rm -f -- " .. word(path))
  if M.planned() then return true end
  os.remove(path)
  return true
end

return M
