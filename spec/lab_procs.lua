-- lab_procs.lua - for the specs about a lab's processes (cgroup_spec,
-- sigkill_spec): what runs, read back from ps, and the cgroup tree, read
-- through a cgroup2 mount of the specs' own (the sandbox's sysfs hides the
-- host's), made in the sandbox's private mount namespace and removed after.
local H = require "helper"

local P = {}

-- Mounts the cgroup2 hierarchy on a fresh directory: its path, or nil where
-- the system has none. Undo with P.unmount.
function P.mount()
  local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
  if select(2, H.run({ "mount", "-t", "cgroup2", "cgroup2", dir })) then return dir end
  H.run({ "rmdir", dir })
  return nil
end

function P.unmount(dir)
  if dir then
    H.run({ "umount", dir })
    H.run({ "rmdir", dir })
  end
end

-- A mark for the commands a test starts: "sleep 60 0.MARKN" (a minute at
-- most, should one be left behind).
function P.mark()
  return tostring(math.random(100000, 999999))
end

-- The live processes (a zombie is dead: its reaping is its parent's) that
-- run "sleep 60 0.MARK...", from ps.
function P.sleepers(m)
  local pids = {}
  for line in H.run({ "ps", "-eo", "pid=,stat=,args=" }):gmatch("[^\n]+") do
    local pid, stat, args = line:match("^%s*(%d+)%s+(%S+)%s+(.*)$")
    if args and args:sub(1, 11 + #m) == "sleep 60 0." .. m and not stat:find("Z", 1, true) then
      pids[#pids + 1] = tonumber(pid)
    end
  end
  return pids
end

-- The cgroups of lab at the top of the tree mounted on cg (fwsh.LAB.NSINO).
function P.lab_cgroups(cg, lab)
  local names = {}
  for name in H.run({ "ls", cg }):gmatch("[^\n]+") do
    if name:sub(1, #lab + 6) == "fwsh." .. lab .. "." and name:sub(#lab + 7):match("^%d+$") then
      names[#names + 1] = name
    end
  end
  return names
end

return P
