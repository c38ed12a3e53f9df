-- qemu.lua - the qemu node backend: the node is a qemu VM on the seed's
-- persistent taps (-netdev tap,ifname=TAP,script=no,downscript=no), with a
-- QMP socket. It boots the lab's guest image (lab/guest), whose init,
-- fwsh-agent, mounts the node's directory over 9p at the same path, applies
-- the node's boot file from it and then serves the host on a virtio-serial
-- port: run, spawn and the rest go through it, never a shell or ssh. The
-- methods node.lua calls through node.impl, and node.image, node.accel.
-- What a VM boots from is three of them (media, boot_args, await): the
-- user's own disk image (qemu.disk) is this table with those, and no agent
-- (fwsh/node/ownimage.lua, which B.select picks). The agent's requests and
-- the processes it starts in the VM: fwsh/node/agent.lua.
local fwsh = fwsh or require "fwsh"
local C = require "fwsh.node.common"
local errors = require "fwsh.errors"
local effect = require "fwsh.effect"

local guest = require "fwsh.node.image"
local A = require "fwsh.node.agent"
local agent, GuestProc = A.request, A.Proc

local B = { has_display = true, image = guest.image, accel = guest.accel }

--- B.select(n) -> the node's methods: these, or the own image's (qemu.disk),
-- its options checked
function B.select(n)
  local cable = n.qemu.cable
  if cable ~= nil and cable ~= "qmp" and cable ~= "tap" then
    errors.raise("node.new", n.name, "qemu.cable is \"qmp\" or \"tap\", not " .. tostring(cable), 3)
  end
  if n.qemu.disk == nil and n.qemu.ready == nil then return B end
  local own = require "fwsh.node.ownimage"
  own.check(n)
  return own
end

function B.qmp(self, command, arguments)
  local json = '{"execute": "' .. command .. '"'
  if arguments then
    local parts = {}
    for k, v in pairs(arguments) do
      local val = type(v) == "boolean" and tostring(v) or string.format("%q", tostring(v))
      parts[#parts + 1] = string.format('"%s": %s', k, val)
    end
    table.sort(parts)
    json = json .. ', "arguments": {' .. table.concat(parts, ", ") .. "}"
  end
  json = json .. "}"
  local r = fwsh.proc.run({ C.tool("qmp"), self.qmp_socket, json }, { timeout = 10 })
  if not r.ok then
    errors.raise("node", self.name, "qmp " .. command .. ": " .. r.out .. r.err, 3)
  end
  return (r.out:gsub("%s+$", ""))
end

-- A boot file's field: no tab, newline or zero byte (they separate them).
local function field(self, v)
  v = tostring(v)
  if v == "" or v:find("[\t\n%z]") then
    errors.raise("node.boot", self.name, string.format("%q cannot go into the guest's boot file (empty, or a tab, "
                                                       .. "newline or zero byte in it)", v), 0)
  end
  return v
end

local function boot_step(self, ...)
  local f = {}
  for i, v in ipairs({ ... }) do f[i] = field(self, v) end
  self.boot[#self.boot + 1] = table.concat(f, "\t")
end

-- The MAC of port i: the same for a node at every boot, different across nodes.
local function mac(self, i)
  local h = 0
  for c in self.name:gmatch(".") do h = (h * 31 + c:byte()) % 65536 end
  return string.format("52:54:00:%02x:%02x:%02x", h // 256, h % 256, i)
end

-- NAME.boot in the node's directory: what the guest's init applies at every
-- boot (lab/guest/boot.c): names, sysctls, addresses, routes, what setup()
-- asks for, then the daemons.
local function write_boot(self)
  self.boot = {}
  boot_step(self, "run", "ip", "link", "set", "dev", "lo", "up")
  for _, s in ipairs(self.sysctls) do self:sysctl(s[1], s[2]) end
  for i, p in ipairs(self.ports) do
    boot_step(self, "name", mac(self, i), p.name)
    boot_step(self, "run", "ip", "link", "set", "dev", p.name, "up")
    if p.address then boot_step(self, "run", "ip", "addr", "add", p.address, "dev", p.name) end
  end
  for _, r in ipairs(self.routes) do boot_step(self, "run", "ip", "route", "add", r.dst, "via", r.via) end
  if self.setup then self.setup(self) end
  for _, name in ipairs(self.order) do
    boot_step(self, "spawn", C.daemon_log(self, name), table.unpack(self.daemons[name].argv))
  end
  effect.write(self.dir .. "/" .. self.name .. ".boot", table.concat(self.boot, "\n") .. "\n")
  self.boot = nil
end

-- The guest's image (its directory), or none (qemu.image = false: the
-- user's qemu.args boot it), and the one the accelerator is probed with.
function B.media(self)
  local q = self.qemu
  local image = q.image ~= false and (q.image or guest.image()) or nil
  return image, image
end

-- qemu's arguments for the guest: its kernel and initramfs, the boot file
-- and the share, the agent's port, the serial console.
function B.boot_args(self, add, image)
  local q = self.qemu
  if not image then return end
  write_boot(self)
  self.agent_socket = self.dir .. "/" .. self.name .. ".agent"
  os.remove(self.agent_socket)
  os.remove(self.dir .. "/" .. self.name .. ".console") -- a VM started again binds it anew
  -- with a display, the kernel speaks on its first terminal too, and the
  -- agent keeps a shell there (ttyS0 stays /dev/console: the last one)
  local display = q.display and "console=tty0 fwsh.display " or ""
  add("-kernel", image .. "/vmlinuz", "-initrd", image .. "/initrd", "-no-reboot",
      "-append", display .. "console=ttyS0 quiet panic=-1 fwsh.node=" .. self.name .. " fwsh.share=" .. self.dir,
      -- the serial console: a socket for `fwsh console`, logged to a file
      "-chardev", "socket,id=console,path=" .. self.dir .. "/" .. self.name .. ".console"
                  .. ",server=on,wait=off,logfile=" .. self.dir .. "/" .. self.name .. "-console.log",
      "-serial", "chardev:console",
      "-fsdev", "local,id=share,path=" .. self.dir .. ",security_model=none",
      "-device", "virtio-9p-pci,fsdev=share,mount_tag=fwsh",
      "-device", "virtio-serial-pci",
      "-chardev", "socket,id=agent,path=" .. self.agent_socket .. ",server=on,wait=off",
      "-device", "virtserialport,chardev=agent,name=org.fwsh.agent")
end

local function qemu_start(self)
  local q = self.qemu
  local image, probe = self.impl.media(self)
  self.accel = q.accel or guest.accel(probe)
  if self.dir:find(",", 1, true) then
    errors.raise("node", self.name, "qemu cannot take a directory with a comma: " .. self.dir, 0)
  end
  local argv = {}
  for _, w in ipairs(q.wrapper or {}) do argv[#argv + 1] = w end -- e.g. { "env", "-u", "LD_PRELOAD" }
  local function add(...) for _, w in ipairs({ ... }) do argv[#argv + 1] = w end end
  add(q.binary or "qemu-system-x86_64", "-nodefaults", "-display", "none",
      "-machine", "accel=" .. self.accel, "-m", tostring(q.memory or 256),
      "-name", self.name, "-qmp", "unix:" .. self.qmp_socket .. ",server=on,wait=off")
  for i, p in ipairs(self.ports) do
    add("-netdev", string.format("tap,id=%s,ifname=%s,script=no,downscript=no", p.name, p.tap),
        "-device", string.format("virtio-net-pci,netdev=%s,id=nic-%s,mac=%s", p.name, p.name, mac(self, i)))
  end
  self.impl.boot_args(self, add, image)
  -- A display, on request, for this host's user only: VNC on 127.0.0.1 (the
  -- first free display from :0, asked back from QMP once it runs), SPICE
  -- on a unix socket in the lab's directory (no TCP port at all)
  if q.display == "vnc" then
    add("-vga", "std", "-vnc", "127.0.0.1:0,to=99")
  elseif q.display == "spice" then
    add("-vga", "qxl", "-spice", "unix=on,addr=" .. self.dir .. "/" .. self.name .. ".spice,disable-ticketing=on")
  elseif q.display ~= nil then
    errors.raise("node", self.name, "display is \"vnc\" or \"spice\", not " .. tostring(q.display), 0)
  end
  for _, a in ipairs(q.args or {}) do add(a) end   -- the user's own, -kernel ... with image=false
  self.booted_at = fwsh.proc.clock()
  self.vm = fwsh.proc.spawn(argv, { stdout = self.dir .. "/" .. self.name .. "-qemu.log" })
  self.procs[#self.procs + 1] = self.vm
  self.image = image
  self.booting = true
end

-- The display's address, once qemu runs: node.display, and NODE.display in
-- the lab's directory, where `fwsh console LAB NODE --display` reads it.
local function display_address(self)
  local q = self.qemu
  if q.display == "vnc" then
    local r = self:qmp("query-vnc")
    local host, port = r:match('"host":%s*"([^"]+)"'), r:match('"service":%s*"(%d+)"')
    if not (host and port) then errors.raise("node", self.name, "qemu reports no VNC display: " .. r, 0) end
    self.display = string.format("vnc://%s:%s", host, port)
  elseif q.display == "spice" then
    self.display = "spice+unix://" .. self.dir .. "/" .. self.name .. ".spice"
  else
    return
  end
  local f, err = io.open(self.dir .. "/" .. self.name .. ".display", "w")
  if not f then errors.raise("node", self.name, err, 0) end
  f:write(self.display, "\n")
  f:close()
end

-- Until the VM is ready: QMP answers, and the guest's agent says it booted.
local function qemu_ready(self)
  if not self.booting then return end
  self.booting = nil
  fwsh.wait{ run = { C.tool("qmp"), self.qmp_socket, '{"execute": "query-status"}' },
             timeout = 20, interval = 0.05 }
  self.impl.await(self)
  display_address(self)
end

-- Until the guest's agent says it booted and applied its boot file.
function B.await(self)
  if not self.image then return end
  local timeout = self.qemu.timeout or (self.accel == "tcg" and 180 or 60)
  local r = agent(self, { "ping" }, timeout)
  if not r.ok then
    errors.raise("node", self.name, string.format("the guest did not come up (%s, %g s): %s%s(console: %s)",
                 self.accel, timeout, r.out, r.err, self.dir .. "/" .. self.name .. "-console.log"), 0)
  end
  self.boot_report = r.out
  self.boot_s = fwsh.proc.clock() - self.booted_at
end


function B.exec(self)
  errors.raise("node", self.name, "exec needs the netns backend", 3)
end

local function vm_kill(self, sig)
  if self.vm then
    if self.vm:running() then self.vm:kill(sig) end
    self.vm:stop(1)
    self.vm = nil
  end
  for _, d in pairs(self.daemons) do d.proc = nil end
end

function B.launch(self)
  self.qmp_socket = self.dir .. "/" .. self.name .. ".qmp"
  self.is_up = true
  qemu_start(self) -- setup and the daemons are in its boot file
end

B.ready = qemu_ready

function B.sysctl(self, path, value)
  if self.boot then
    boot_step(self, "write", "/proc/sys/" .. path, value)
  else
    local r = agent(self, { "write", "/proc/sys/" .. path, value }, 10)
    if not r.ok then errors.raise("node", self.name, "sysctl: " .. path .. ": " .. r.err, 3) end
  end
end

function B.nft(self, text)
  local file = self.dir .. "/" .. self.name .. ".nft"
  effect.write(file, text)
  if self.boot then
    boot_step(self, "run", "nft", "-f", file)
  else
    local r = self:run{ "nft", "-f", file }
    if not r.ok then errors.raise("node", self.name, "nft: " .. r.err, 3) end
  end
end

function B.tool(self, name)
  if self.agent_socket then return "/usr/bin/fwsh-" .. name end
  return C.tool(name)
end

function B.run(self, argv, opts)
  if not self.agent_socket then
    errors.raise("node", self.name, "run needs the guest image's agent (qemu.image)", 3)
  end
  local args = { "run" }
  for _, a in ipairs(argv) do args[#args + 1] = a end
  return agent(self, args, opts.timeout or 30)
end

function B.wait_run(self, argv, timeout)
  return (fwsh.wait{ fn = function() return self:run(argv, { timeout = 5 }).ok end, interval = 0.05,
                     timeout = timeout or 10 })
end

function B.wait_link(self, name, o)
  local path = "/sys/class/net/" .. name .. (o.carrier ~= nil and "/carrier" or "/ifindex")
  return (fwsh.wait{ fn = function()
    local r = self:run({ "cat", path }, { timeout = 5 })
    return r.ok and (o.carrier == nil or (r.out:match("%d") == "1") == o.carrier)
  end, interval = 0.05, timeout = o.timeout or 10 })
end

function B.spawn(self, argv, opts)
  local args = { "spawn", opts.stdout or "-" }
  for _, a in ipairs(argv) do args[#args + 1] = a end
  local r = agent(self, args, 10)
  if not r.ok then errors.raise("node", self.name, "spawn: " .. tostring(argv[1]) .. ": " .. r.err, 3) end
  return setmetatable({ node = self, vm = self.vm, id = math.tointeger(tonumber(r.out)) }, GuestProc)
end

function B.stop(self, sig)
  vm_kill(self, sig)
end

-- a VM hangs whole: QMP stop
function B.hang(self)
  self:freeze()
end

-- a VM comes back booted again (a hung one is reset, as a watchdog would)
function B.start(self)
  vm_kill(self, "KILL")
  qemu_start(self)
  qemu_ready(self)
end

function B.impair(self, port, o)
  local fields = {}
  for _, k in ipairs({ "delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate" }) do
    if o[k] ~= nil then fields[#fields + 1] = string.format("%s = %q", k, o[k]) end
  end
  local r = self:run({ "fwsh", "-e", string.format("fwsh.link.impair(%q, { %s })", port,
                                                   table.concat(fields, ", ")) })
  if not r.ok then errors.raise("node", self.name, "impair: " .. port .. ": " .. r.out .. r.err, 3) end
end

-- A cable: QMP set_link on the NIC (the guest sees no carrier), or with
-- qemu.cable = "tap" the host's end goes down (the guest keeps its carrier,
-- and what it sends goes nowhere)
function B.set_link(self, p, up)
  if self.qemu.cable == "tap" then
    local l = fwsh.link.get(p.tap)
    if up then l:up() else l:down() end
    return
  end
  self:qmp("set_link", { name = "nic-" .. p.name, up = up })
end

-- the whole VM: QMP stop / cont
function B.signal_all(self, sig)
  self:qmp(sig == "STOP" and "stop" or "cont")
end

-- the VM first (its processes die with it), then what ran on the host
function B.reap(self, try)
  try(vm_kill, self, "KILL")
  for i = #self.procs, 1, -1 do
    local p = self.procs[i]
    if getmetatable(p) ~= GuestProc then try(p.stop, p, 1) end
  end
end

return B
