-- ownimage.lua - a qemu node booted from the user's own disk image
-- (qemu.disk) rather than the lab's guest: no agent inside, so fwsh puts
-- nothing in it and asks it nothing. The image is never written: the VM
-- boots from a qcow2 overlay in the node's directory (qemu-img create -b
-- IMAGE -F FORMAT), and qemu opens a backing file read-only. The node is
-- ready when its serial console prints a line the user names, or a TCP port
-- answers from where the user says, or both; its faults come from outside
-- (power: qemu killed; hang: QMP stop; cable: QMP set_link), and whatever is
-- measured is measured from the other nodes. The qemu backend's methods,
-- but for what the VM boots from and what would need an agent.
local fwsh = fwsh or require "fwsh"
local C = require "fwsh.node.common"
local errors = require "fwsh.errors"
local effect = require "fwsh.effect"
local read_file = require("fwsh.file").read
local B = require "fwsh.node.qemu"

local O = setmetatable({}, { __index = B })

--- The options that only an own image takes, checked at node.new:
-- qemu.disk (a path), format, kernel, initrd, append, and ready =
-- { console = PATTERN, port = N, address = ADDRESS, from = node, timeout = S }
function O.check(n)
  local q = n.qemu
  local function bad(why) errors.raise("node.new", n.name, why, 5) end
  if type(q.disk) ~= "string" or q.disk == "" then bad("qemu.disk is the path of a disk image") end
  if q.image ~= nil then bad("qemu.disk (the user's own image) and qemu.image (the lab's guest) exclude each other") end
  for _, k in ipairs({ "format", "kernel", "initrd", "append" }) do
    if q[k] ~= nil and type(q[k]) ~= "string" then bad("qemu." .. k .. " is a string") end
  end
  if q.initrd and not q.kernel then bad("qemu.initrd needs qemu.kernel") end
  local r = q.ready
  if type(r) ~= "table" or (r.console == nil and r.port == nil) then
    bad("an image with no agent is ready when its console prints a line or a TCP port answers: "
        .. "qemu.ready = { console = PATTERN } or { port = N, address = ADDRESS }")
  end
  if r.console ~= nil and (type(r.console) ~= "string" or r.console == "" or not pcall(string.find, "", r.console)) then
    bad("qemu.ready.console is a Lua pattern")
  end
  if r.port ~= nil and not (math.tointeger(r.port) and r.port > 0 and r.port < 65536
                            and type(r.address) == "string") then
    bad("qemu.ready.port is a TCP port (1-65535) with qemu.ready.address, the address it answers on")
  end
  if r.timeout ~= nil and not (type(r.timeout) == "number" and r.timeout > 0) then
    bad("qemu.ready.timeout is seconds")
  end
end

-- As qemu-img reads a backing file's path: from the overlay's directory, unless absolute.
local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return (os.getenv("PWD") or ".") .. "/" .. path
end

function O.overlay_path(self)
  return self.dir .. "/" .. self.name .. "-overlay.qcow2"
end

function O.console_log(self)
  return self.dir .. "/" .. self.name .. "-console.log"
end

-- qemu-img, under qemu's own wrapper (qemu.wrapper: e.g. env -u LD_PRELOAD)
local function qemu_img(self, ...)
  local argv = {}
  for _, w in ipairs(self.qemu.wrapper or {}) do argv[#argv + 1] = w end
  argv[#argv + 1] = "qemu-img"
  for _, a in ipairs({ ... }) do argv[#argv + 1] = a end
  return fwsh.proc.run(argv, { timeout = 30 })
end

-- The overlay the VM writes to, made once per node's life: a power cycle
-- keeps what the machine wrote to its disk, as a real one would.
local function overlay(self)
  local q = self.qemu
  local file = O.overlay_path(self)
  if self.overlay then return file end
  local disk = absolute(q.disk)
  local f, err = io.open(disk, "rb")
  if not f then errors.raise("node", self.name, "image: " .. err, 0) end
  f:close()
  local format = q.format
  if not format then
    -- -U: never wait for, nor take, the image's lock (another VM may run from it)
    local r = qemu_img(self, "info", "-U", "--output=json", disk)
    format = r.ok and r.out:match('"format":%s*"([%w_-]+)"')
    if not format then errors.raise("node", self.name, "image " .. disk .. ": qemu-img info: " .. r.err, 0) end
  end
  fwsh.explain("qemu-img create -f qcow2 -b " .. effect.word(disk) .. " -F " .. format .. " " .. effect.word(file))
  local r = qemu_img(self, "create", "-q", "-f", "qcow2", "-b", disk, "-F", format, file)
  if not r.ok then errors.raise("node", self.name, "overlay on " .. disk .. ": " .. r.out .. r.err, 0) end
  self.overlay = true
  return file
end

-- No guest image: the accelerator is probed with the lab's guest, if there is one.
function O.media()
  return nil, os.getenv("FWSH_GUEST")
end

-- qemu's arguments for the disk, the kernel (when the image has no boot
-- loader) and the serial console, logged to a file
function O.boot_args(self, add)
  local q = self.qemu
  add("-drive", "file=" .. overlay(self) .. ",if=virtio,format=qcow2")
  if q.kernel then
    add("-kernel", q.kernel, "-append", q.append or "console=ttyS0")
    if q.initrd then add("-initrd", q.initrd) end
  end
  add("-chardev", "socket,id=console,path=" .. self.dir .. "/" .. self.name .. ".console"
                  .. ",server=on,wait=off,logfile=" .. O.console_log(self),
      "-serial", "chardev:console")
end

-- The last n lines of the console's log, for an error.
local function last_lines(self, n)
  local s = read_file(O.console_log(self))
  if not s then return "(no console output)" end
  local lines = {}
  for l in s:gsub("\r", ""):gmatch("[^\n]+") do
    lines[#lines + 1] = l
    if #lines > n then table.remove(lines, 1) end
  end
  return #lines > 0 and table.concat(lines, "\n") or "(no console output)"
end

local function console_has(self, pattern)
  local s = read_file(O.console_log(self))
  if not s then return false end
  for l in s:gsub("\r", ""):gmatch("[^\n]+") do
    if l:find(pattern) then return true end
  end
  return false
end

local function port_answers(r)
  local argv = { C.tool("connect"), r.address, tostring(r.port), "1" }
  if r.from then return r.from:run(argv, { timeout = 5 }).ok end
  return fwsh.proc.run(argv, { timeout = 5 }).ok
end

-- Until what qemu.ready names is seen from outside; raises naming the node,
-- what was awaited and the console's last lines when the VM stops or the
-- time runs out.
function O.await(self)
  local r = self.qemu.ready
  local timeout = r.timeout or self.qemu.timeout or (self.accel == "tcg" and 180 or 60)
  local awaited = {}
  if r.console then awaited[#awaited + 1] = string.format("a console line matching %q", r.console) end
  if r.port then
    awaited[#awaited + 1] = string.format("TCP %s:%d to answer from %s", r.address, r.port,
                                          r.from and r.from.name or "the host")
  end
  local seen_console, seen_port, gone = r.console == nil, r.port == nil, false
  local ok = pcall(fwsh.wait, { fn = function()
    if not (self.vm and self.vm:running()) then gone = true return true end
    seen_console = seen_console or console_has(self, r.console)
    seen_port = seen_port or port_answers(r)
    return seen_console and seen_port
  end, interval = 0.2, timeout = timeout })
  if ok and not gone then
    self.boot_s = fwsh.proc.clock() - self.booted_at
    return
  end
  errors.raise("node", self.name, string.format("%s while awaiting %s (%s); the console's last lines:\n%s",
               gone and "qemu ended" or string.format("not ready after %g s", timeout),
               table.concat(awaited, " and "), self.accel, last_lines(self, 8)), 0)
end

-- It is set up by itself: what fwsh would give a node is refused.
function O.launch(self)
  local addressed = false
  for _, p in ipairs(self.ports) do addressed = addressed or p.address ~= nil end
  if next(self.daemons) or self.setup or #self.sysctls > 0 or #self.routes > 0 or addressed then
    errors.raise("node", self.name, "its own image (qemu.disk) is set up by itself: fwsh gives it no "
                 .. "daemons, setup, sysctls, routes or port addresses", 0)
  end
  return B.launch(self)
end

-- What needs an agent inside: refused, naming the node.
-- (x: the argv, the path, port or name asked for; a ruleset is not named)
local function refuse(what, named)
  return function(self, x)
    local object = named and (type(x) == "table" and x[1] or x)
    errors.raise("node", self.name, what .. (object and " " .. tostring(object) or "") .. ": it runs its own "
                 .. "image (qemu.disk), with no agent inside: fwsh runs nothing in it; measure it from outside "
                 .. "(the client and server nodes)", 3)
  end
end
O.run, O.spawn, O.wait_run = refuse("run", true), refuse("spawn", true), refuse("wait_run", true)
O.wait_link, O.sysctl, O.tool = refuse("wait_link", true), refuse("sysctl", true), refuse("tool", true)
O.impair, O.nft = refuse("impair", true), refuse("nft", false)

-- The VM as qemu's, then the overlay: it goes with the node.
function O.reap(self, try)
  B.reap(self, try)
  if self.overlay then
    try(effect.remove, O.overlay_path(self))
    self.overlay = nil
  end
end

O.agentless = true

return O
