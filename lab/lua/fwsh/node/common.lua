-- common.lua - what both node backends (node/netns.lua, node/qemu.lua) and
-- node.lua share: where fwsh's lab tools are, the links a node made, sysctl
-- paths, a daemon's log.
local fwsh = fwsh or require "fwsh"
local errors = require "fwsh.errors"
local effect = require "fwsh.effect"

local C = {}

function C.tools_dir()
  local dir = os.getenv("FWSH_TOOLS")
  if dir then return dir end
  -- The fwsh program sets FWSH_TOOLS; from plain lua, next to fwsh.so on
  -- cpath (a build tree), else where they were installed (fwsh.tools_dir).
  for d in package.cpath:gmatch("([^;]*)/%?%.so") do
    local f = io.open(d .. "/fwsh-probe", "r")
    if f then f:close(); return d end
  end
  return fwsh.tools_dir or "."
end

--- node.tool(name) -> the path of one of fwsh's lab tools ("probe", "stream", "qmp")
function C.tool(name)
  return C.tools_dir() .. "/fwsh-" .. name
end

--- node.made(link) -> {name=, ifindex=}: what node.delete_made needs to
--  remove link later, and only it
function C.made(link)
  return { name = link.name, ifindex = link.ifindex }
end

--- node.delete_made(m): deletes the link m (from node.made) if its name is
--  still on the ifindex it had when made, with the lab's tag: never one made
--  under that name since (fwsh.link.delete_made)
function C.delete_made(m)
  fwsh.link.delete_made(m.name, m.ifindex)
end

-- A path under /proc/sys, never out of it, and a value with no zero byte.
function C.check_sysctl(path, value)
  if type(path) ~= "string" or not path:match("^[%w_.%-]+[%w_.%-/]*$") or path:find("%.%.")
     or path:find("//") then
    errors.raise("node.sysctl", tostring(path), "not a path under /proc/sys (a/b/c: letters, digits, "
                 .. "'_', '-', '.', no '..')", 3)
  end
  if type(value) ~= "string" or value:find("%z") then
    errors.raise("node.sysctl", path, "the value is a string with no zero byte", 3)
  end
end

--- node.sysctl(path, value): sets /proc/sys/PATH here
function C.sysctl(path, value)
  C.check_sysctl(path, value)
  -- As fwsh's own changes: shown under --explain, and under --dry-run only shown.
  fwsh.explain("sysctl -w " .. effect.word(path .. "=" .. value))
  if effect.planned() then return end
  local f, err = io.open("/proc/sys/" .. path, "w")
  if not f then errors.raise("node.sysctl", path, err) end
  f:write(value)
  f:close()
end

function C.daemon_log(node, name)
  return node.dir .. "/" .. node.name .. "-" .. name .. ".log"
end

return C
