-- image.lua - the qemu backend's guest: the image a VM boots (lab/guest,
-- built on first use) and the accelerator it boots under.
local fwsh = fwsh or require "fwsh"
local C = require "fwsh.node.common"
local errors = require "fwsh.errors"

local I = {}

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local image_checked = {}

--- node.image() -> the guest image's directory (vmlinuz, initrd): $FWSH_GUEST
--  as it is, or guest/ next to fwsh's tools, which lab/guest/image.sh
--  (fwsh-image.sh next to the tools) builds from Debian packages the first
--  time, and again only when its inputs changed; a terminal sees its progress.
function I.image()
  local given = os.getenv("FWSH_GUEST")
  local dir = given or (C.tools_dir() .. "/guest")
  if image_checked[dir] then return dir end
  local script = C.tool("image.sh")
  if not given and exists(script) then
    local p = fwsh.proc.spawn({ script, dir, C.tools_dir() }, { stdout = "/dev/stderr" })
    local r = p:wait(1800)
    if not r.ok then
      errors.raise("node.image", dir, "the guest image could not be built (" .. script .. " says why, above)", 0)
    end
  end
  if not (exists(dir .. "/vmlinuz") and exists(dir .. "/initrd")) then
    errors.raise("node.image", dir, "no guest image there (lab/guest/image.sh makes one)", 0)
  end
  image_checked[dir] = true
  return dir
end

local accel_known

--- node.accel([image]) -> "kvm" or "tcg": KVM if a guest boots under it here
--  (Debian's kernel reaches its last boot message within 15 s), TCG
--  otherwise. Probed once per host boot; /dev/kvm alone proves nothing (a
--  nested one may run qemu but no guest).
function I.accel(image)
  if accel_known then return accel_known end
  local f = io.open("/dev/kvm", "r+")
  if not f then accel_known = "tcg" return accel_known end
  f:close()
  if not image then return "kvm" end
  local bid = io.open("/proc/sys/kernel/random/boot_id", "r")
  local cache = image .. "/accel." .. (bid and bid:read("l") or "0")
  if bid then bid:close() end
  local c = io.open(cache, "r")
  if c then accel_known = c:read("l") c:close() return accel_known end
  local log = os.tmpname()
  local p = fwsh.proc.spawn({ "qemu-system-x86_64", "-nodefaults", "-display", "none", "-machine",
                              "accel=kvm", "-m", "128", "-kernel", image .. "/vmlinuz", "-append",
                              "console=ttyS0 panic=-1", "-no-reboot", "-serial", "file:" .. log })
  local booted = pcall(fwsh.wait, { fn = function()
    local l = io.open(log, "r")
    local s = l and l:read("a") or ""
    if l then l:close() end
    return s:find("VFS: Unable to mount root", 1, true) ~= nil
  end, interval = 0.1, timeout = 15 })
  p:stop(1)
  os.remove(log)
  accel_known = booted and "kvm" or "tcg"
  c = io.open(cache, "w")
  if c then c:write(accel_known, "\n") c:close() end
  return accel_known
end

return I
