--- fwsh.node - lab nodes: a machine attached to bridges by named ports, with
-- two backends behind one interface.
--
--   netns (default): the node is a named network namespace; each port is a
--     veth whose host end carries the tap name (net11, ...) and is a port of
--     the bridge, and whose node end is the port's name (eth0, ...) inside.
--   qemu: the node is a qemu VM on the seed's persistent taps
--     (-netdev tap,ifname=TAP,script=no,downscript=no), with a QMP socket.
--     It boots the lab's guest image (lab/guest: Debian's kernel, an
--     initramfs with busybox, keepalived, conntrackd, nftables, iproute2),
--     whose init, fwsh-agent, mounts the node's directory over 9p at the
--     same path, applies the node's boot file from it (addresses, sysctls,
--     rulesets, daemons) and then serves the host on a virtio-serial port:
--     node:run, node:spawn and the rest go through it, never a shell or ssh.
--     KVM if a guest boots under it here, TCG otherwise.
--
-- local node = require "fwsh.node"
-- local n = node.new{ name = "fw-1", ports = { {name="eth0", bridge="br0", tap="net01"}, ... } }
-- n:up()  n:run{"ping", "-c1", "10.0.0.1"}  n:spawn{...}  n:stop()  n:start()  n:down()
--
-- What a node runs is the same on both backends: node:sysctl, node:nft,
-- node:run, node:spawn, node:daemon, node.routes, node:wait_run,
-- node:wait_link, node:fail / node:start. Paths under the node's dir are the
-- same on the host and in a VM (its share).
local fwsh = fwsh or require "fwsh"
local effect = require "fwsh.effect"

local M = {}
local Node = {}
Node.__index = Node

local function tools_dir()
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
function M.tool(name)
  return tools_dir() .. "/fwsh-" .. name
end

local function check_name(what, s)
  if type(s) ~= "string" or not s:match("^[%w][%w._-]*$") or #s > 15 then
    error(string.format("node: %s %q: a name of letters, digits, '.', '_' or '-' (15 at most)",
                        what, tostring(s)), 3)
  end
  return s
end

--- node.new{name=, backend="netns"|"qemu", ports={ {name=, bridge=, tap=, address=}, ... },
--  routes={ {dst=, via=}, ... }, dir=, sysctls=, setup=, reset=,
--  qemu={binary=, accel=, memory=, image=, args=, wrapper=, timeout=, display=}}
--  -> node (not yet up). dir is where logs, sockets and pid files go (a
--  per-lab temporary directory); sysctls ({ {path, value}, ... }) are set in
--  the new namespace before its ports exist; setup(node) runs after the
--  ports and routes and before the daemons, reset(node) at start() after a
--  stop() (netns: a VM reboots). qemu.image is the guest image's directory
--  (default: node.image()), or false for none: then qemu.args is the
--  user's own (-kernel ..., -drive ...) and only the wiring is fwsh's.
--  qemu.display = "vnc" (127.0.0.1, the first free display) or "spice" (a
--  unix socket in dir): a screen with a shell on it; node.display is its
--  address once the VM runs.
function M.new(o)
  local n = setmetatable({
    name = check_name("name", o.name),
    backend = o.backend or "netns",
    ports = {},
    dir = assert(o.dir, "node.new: dir is required"),
    daemons = {},      -- name -> { argv=, opts=, proc= }
    order = {},        -- daemon names, in start order
    procs = {},        -- every proc started with spawn, for teardown
    qemu = o.qemu or {},
    routes = o.routes or {},
    setup = o.setup,            -- function(node), after the ports, before the daemons
    reset = o.reset,            -- function(node), at start() after a stop(): what a reboot clears
    sysctls = o.sysctls or {},  -- { {"net/ipv4/ip_forward", "1"}, ... }, set before the ports exist
    is_up = false,
  }, Node)
  if n.backend ~= "netns" and n.backend ~= "qemu" then
    error("node.new: backend is \"netns\" or \"qemu\", not " .. tostring(n.backend), 2)
  end
  local display = n.qemu.display
  if display ~= nil and (display ~= "vnc" and display ~= "spice" or n.backend ~= "qemu") then
    error("node.new: qemu.display is \"vnc\" or \"spice\" on a qemu node, not " .. tostring(display), 2)
  end
  for i, p in ipairs(o.ports or {}) do
    n.ports[i] = { name = check_name("port", p.name), bridge = check_name("bridge", p.bridge),
                   tap = check_name("tap", p.tap), address = p.address }
  end
  return n
end

function Node:port(name)
  for _, p in ipairs(self.ports) do
    if p.name == name or p.tap == name then return p end
  end
  error(string.format("node %s has no port %s", self.name, tostring(name)), 3)
end

--- node:exec(fn, ...) -> fn's results, run with the thread inside the node's
--  namespace (netns backend only)
function Node:exec(fn, ...)
  assert(self.backend == "netns", "node:exec needs the netns backend")
  return fwsh.netns.run(self.name, fn, ...)
end

--- node.made(link) -> {name=, ifindex=}: what node.delete_made needs to
--  remove link later, and only it
function M.made(link)
  return { name = link.name, ifindex = link.ifindex }
end

--- node.delete_made(m): deletes the link m (from node.made) if its name is
--  still on the ifindex it had when made, with the lab's tag: never one made
--  under that name since (fwsh.link.delete_made)
function M.delete_made(m)
  fwsh.link.delete_made(m.name, m.ifindex)
end

-- A path under /proc/sys, never out of it, and a value with no zero byte.
local function check_sysctl(path, value)
  if type(path) ~= "string" or not path:match("^[%w_.%-]+[%w_.%-/]*$") or path:find("%.%.")
     or path:find("//") then
    error(string.format("node.sysctl: %q is not a path under /proc/sys (a/b/c: letters, digits, "
                        .. "'_', '-', '.', no '..')", tostring(path)), 3)
  end
  if type(value) ~= "string" or value:find("%z") then
    error("node.sysctl: the value is a string with no zero byte", 3)
  end
end

local function sysctl(path, value)
  check_sysctl(path, value)
  -- As fwsh's own changes: shown under --explain, and under --dry-run only shown.
  fwsh.explain("sysctl -w " .. effect.word(path .. "=" .. value))
  if effect.planned() then return end
  local f = assert(io.open("/proc/sys/" .. path, "w"))
  f:write(value)
  f:close()
end
M.sysctl = sysctl

-- netns backend --------------------------------------------------------------

local function netns_up(self)
  fwsh.netns.add(self.name)
  self.is_up = true -- from here on, down() has something to remove
  self.made = { links = {} } -- only what is listed here, by identity
  self.made.netns = fwsh.netns.id(self.name)
  self:exec(function()
    for _, s in ipairs(self.sysctls) do sysctl(s[1], s[2]) end
  end)
  for _, p in ipairs(self.ports) do
    local l = fwsh.veth.add(p.tap, p.name, { netns = self.name })
    self.made.links[#self.made.links + 1] = M.made(l)
    fwsh.port.attach(p.bridge, p.tap)
  end
  self:exec(function()
    fwsh.link.get("lo"):up()
    for _, p in ipairs(self.ports) do
      local l = fwsh.link.get(p.name)
      l:up()
      if p.address then fwsh.addr.add(l, p.address) end
    end
    for _, r in ipairs(self.routes) do fwsh.route.add{ dst = r.dst, via = r.via } end
  end)
end

-- qemu backend ---------------------------------------------------------------

local SIGNALS = { HUP = 1, INT = 2, QUIT = 3, KILL = 9, USR1 = 10, USR2 = 12, TERM = 15,
                  CONT = 18, STOP = 19 }

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
function M.image()
  local given = os.getenv("FWSH_GUEST")
  local dir = given or (tools_dir() .. "/guest")
  if image_checked[dir] then return dir end
  local script = M.tool("image.sh")
  if not given and exists(script) then
    local p = fwsh.proc.spawn({ script, dir, tools_dir() }, { stdout = "/dev/stderr" })
    local r = p:wait(1800)
    if not r.ok then
      error("node: the guest image could not be built in " .. dir .. " (" .. script .. " says why, above)", 0)
    end
  end
  if not (exists(dir .. "/vmlinuz") and exists(dir .. "/initrd")) then
    error("node: no guest image in " .. dir .. " (lab/guest/image.sh makes one)", 0)
  end
  image_checked[dir] = true
  return dir
end

--- node:qmp(command [, arguments]) -> the reply line ({"return": ...}); raises
--  with QMP's error (qemu backend)
function Node:qmp(command, arguments)
  assert(self.backend == "qemu", "node:qmp needs the qemu backend")
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
  local r = fwsh.proc.run({ M.tool("qmp"), self.qmp_socket, json }, { timeout = 10 })
  if not r.ok then
    error(string.format("node %s: qmp %s: %s%s", self.name, command, r.out, r.err), 2)
  end
  return (r.out:gsub("%s+$", ""))
end

-- One request to the VM's agent (lab/guest/wire.h) by fwsh-guest: {ok=, code=, out=, err=}.
local function agent(self, args, timeout)
  timeout = timeout or 30
  local argv = { M.tool("guest"), self.agent_socket, "-t", string.format("%g", timeout) }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return fwsh.proc.run(argv, { timeout = timeout + 5 })
end

-- A process in a VM, with the methods of fwsh.proc's: pid, running, kill, wait, stop.
local GuestProc = {}
GuestProc.__index = GuestProc
GuestProc.__tostring = function(self) return string.format("proc %d in %s", self.id, self.node.name) end

function GuestProc:pid() return self.id end

-- "running", "exit N", "signal N", or "gone" with its VM
function GuestProc:status()
  if self.vm ~= self.node.vm or not (self.vm and self.vm:running()) then return "gone" end
  local r = agent(self.node, { "status", tostring(self.id) }, 10)
  return r.ok and (r.out:gsub("%s+$", "")) or "gone"
end

function GuestProc:running() return self:status() == "running" end

local function ended(st)
  local code = st:match("^exit (%d+)")
  if code then return { ok = code == "0", code = tonumber(code) } end
  local sig = st:match("^signal (%d+)")
  if sig then return { ok = false, signal = tonumber(sig) } end
  return { ok = false } -- its VM is gone, and it with it
end

function GuestProc:kill(sig)
  sig = sig or "TERM"
  local n = math.tointeger(sig) or SIGNALS[sig]
  if not n then error("proc:kill: unknown signal " .. tostring(sig), 2) end
  local r = agent(self.node, { "kill", tostring(self.id), tostring(n) }, 10)
  if not r.ok then error(string.format("node %s: kill %d: %s", self.node.name, self.id, r.err), 2) end
  return self
end

function GuestProc:wait(timeout)
  local st
  fwsh.wait{ fn = function() st = self:status() return st ~= "running" end, interval = 0.02,
             timeout = timeout or 86400 }
  return ended(st)
end

function GuestProc:stop(grace)
  local st = self:status()
  if st ~= "running" then return ended(st) end
  pcall(self.kill, self, "TERM")
  local ok, r = pcall(self.wait, self, grace or 2)
  if ok then return r end
  pcall(self.kill, self, "KILL")
  ok, r = pcall(self.wait, self, 2)
  return ok and r or { ok = false }
end

-- A boot file's field: no tab, newline or zero byte (they separate them).
local function field(self, v)
  v = tostring(v)
  if v == "" or v:find("[\t\n%z]") then
    error(string.format("node %s: %q cannot go into the guest's boot file (empty, or a tab, "
                        .. "newline or zero byte in it)", self.name, v), 0)
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

local function daemon_log(self, name)
  return self.dir .. "/" .. self.name .. "-" .. name .. ".log"
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
    boot_step(self, "spawn", daemon_log(self, name), table.unpack(self.daemons[name].argv))
  end
  effect.write(self.dir .. "/" .. self.name .. ".boot", table.concat(self.boot, "\n") .. "\n")
  self.boot = nil
end

local accel_known

--- node.accel([image]) -> "kvm" or "tcg": KVM if a guest boots under it here
--  (Debian's kernel reaches its last boot message within 15 s), TCG
--  otherwise. Probed once per host boot; /dev/kvm alone proves nothing (a
--  nested one may run qemu but no guest).
function M.accel(image)
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

local function qemu_start(self)
  local q = self.qemu
  local image = q.image ~= false and (q.image or M.image()) or nil
  self.accel = q.accel or M.accel(image)
  if self.dir:find(",", 1, true) then
    error("node " .. self.name .. ": qemu cannot take a directory with a comma: " .. self.dir, 0)
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
  if image then
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
  -- A display, on request, for this host's user only: VNC on 127.0.0.1 (the
  -- first free display from :0, asked back from QMP once it runs), SPICE
  -- on a unix socket in the lab's directory (no TCP port at all)
  if q.display == "vnc" then
    add("-vga", "std", "-vnc", "127.0.0.1:0,to=99")
  elseif q.display == "spice" then
    add("-vga", "qxl", "-spice", "unix=on,addr=" .. self.dir .. "/" .. self.name .. ".spice,disable-ticketing=on")
  elseif q.display ~= nil then
    error("node " .. self.name .. ": display is \"vnc\" or \"spice\", not " .. tostring(q.display), 0)
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
    if not (host and port) then error("node " .. self.name .. ": qemu reports no VNC display: " .. r, 0) end
    self.display = string.format("vnc://%s:%s", host, port)
  elseif q.display == "spice" then
    self.display = "spice+unix://" .. self.dir .. "/" .. self.name .. ".spice"
  else
    return
  end
  local f = assert(io.open(self.dir .. "/" .. self.name .. ".display", "w"))
  f:write(self.display, "\n")
  f:close()
end

-- Until the VM is ready: QMP answers, and the guest's agent says it booted.
local function qemu_ready(self)
  if not self.booting then return end
  self.booting = nil
  fwsh.wait{ run = { M.tool("qmp"), self.qmp_socket, '{"execute": "query-status"}' },
             timeout = 20, interval = 0.05 }
  if self.image then
    local timeout = self.qemu.timeout or (self.accel == "tcg" and 180 or 60)
    local r = agent(self, { "ping" }, timeout)
    if not r.ok then
      error(string.format("node %s: the guest did not come up (%s, %g s): %s%s(console: %s)", self.name,
                          self.accel, timeout, r.out, r.err, self.dir .. "/" .. self.name .. "-console.log"), 0)
    end
    self.boot_report = r.out
    self.boot_s = fwsh.proc.clock() - self.booted_at
  end
  display_address(self)
end

-- both -----------------------------------------------------------------------

--- node:sysctl(path, value) -> node: sets /proc/sys/PATH in the node (a
--  VM's boot file has it while the node is being set up)
function Node:sysctl(path, value)
  check_sysctl(path, value)
  if self.backend == "netns" then
    self:exec(function() sysctl(path, value) end)
  elseif self.boot then
    boot_step(self, "write", "/proc/sys/" .. path, value)
  else
    local r = agent(self, { "write", "/proc/sys/" .. path, value }, 10)
    if not r.ok then error(string.format("node %s: sysctl %s: %s", self.name, path, r.err), 2) end
  end
  return self
end

--- node:nft(text) -> node: loads an nft(8) ruleset in the node, as one
--  transaction (netns: libnftables in its namespace; VM: nft -f, from the
--  share, at boot when set up)
function Node:nft(text)
  if self.backend == "netns" then
    self:exec(function() fwsh.nft.run(text) end)
    return self
  end
  local file = self.dir .. "/" .. self.name .. ".nft"
  effect.write(file, text)
  if self.boot then
    boot_step(self, "run", "nft", "-f", file)
  else
    local r = self:run{ "nft", "-f", file }
    if not r.ok then error(string.format("node %s: nft: %s", self.name, r.err), 2) end
  end
  return self
end

--- node:tool(name) -> the path of fwsh's lab tool name ("probe", "stream")
--  as the node sees it: fwsh's own (netns), the guest image's (VM)
function Node:tool(name)
  if self.backend == "qemu" and self.agent_socket then return "/usr/bin/fwsh-" .. name end
  return M.tool(name)
end

--- node:up() -> node: creates the namespace and ports (netns) or boots the
--  VM (qemu), then the daemons registered so far
function Node:up()
  return self:launch():ready()
end

--- node:launch() -> node: node:up() without waiting for a VM to be ready:
--  several VMs boot side by side, then node:ready() each (netns: up() whole)
function Node:launch()
  if self.backend == "netns" then
    netns_up(self)
    self.is_up = true
    if self.setup then self.setup(self) end
    for _, name in ipairs(self.order) do self:start_daemon(name) end
  else
    self.qmp_socket = self.dir .. "/" .. self.name .. ".qmp"
    self.is_up = true
    qemu_start(self) -- setup and the daemons are in its boot file
  end
  return self
end

--- node:ready() -> node: until a launched VM has booted and applied its
--  boot file, as its agent reports; raises with the guest's report or after
--  qemu.timeout (default 180 s under TCG, 60 s under KVM)
function Node:ready()
  if self.backend == "qemu" then qemu_ready(self) end
  return self
end

--- node:run(argv [, {timeout=, stdin=}]) -> {ok=, code=, out=, err=}: runs a
--  command in the node to its end (a VM's by its agent; no stdin there)
function Node:run(argv, opts)
  opts = opts or {}
  if self.backend == "qemu" then
    assert(self.agent_socket, "node:run needs the guest image's agent (qemu.image)")
    local args = { "run" }
    for _, a in ipairs(argv) do args[#args + 1] = a end
    return agent(self, args, opts.timeout or 30)
  end
  return fwsh.proc.run(argv, { netns = self.name, timeout = opts.timeout, stdin = opts.stdin })
end

--- node:wait_run(argv [, timeout]) -> seconds: until argv exits 0 in the node
function Node:wait_run(argv, timeout)
  if self.backend == "netns" then
    return (fwsh.wait{ run = argv, netns = self.name, timeout = timeout or 10 })
  end
  return (fwsh.wait{ fn = function() return self:run(argv, { timeout = 5 }).ok end, interval = 0.05,
                     timeout = timeout or 10 })
end

--- node:wait_link(name [, {carrier=true, timeout=}]) -> seconds: until the
--  node has a link name (with carrier, if asked)
function Node:wait_link(name, o)
  o = o or {}
  if self.backend == "netns" then
    return (fwsh.wait{ link = name, exists = o.carrier == nil or nil, carrier = o.carrier,
                       netns = self.name, timeout = o.timeout or 10 })
  end
  local path = "/sys/class/net/" .. name .. (o.carrier ~= nil and "/carrier" or "/ifindex")
  return (fwsh.wait{ fn = function()
    local r = self:run({ "cat", path }, { timeout = 5 })
    return r.ok and (o.carrier == nil or (r.out:match("%d") == "1") == o.carrier)
  end, interval = 0.05, timeout = o.timeout or 10 })
end

--- node:spawn(argv [, {stdout=, stderr=}]) -> proc: starts a process in the
--  node; it is stopped and reaped at node:stop() and node:down(). In a VM,
--  stdout (a path in the node's dir) gets its output and stderr.
function Node:spawn(argv, opts)
  opts = opts or {}
  local p
  if self.backend == "qemu" then
    local args = { "spawn", opts.stdout or "-" }
    for _, a in ipairs(argv) do args[#args + 1] = a end
    local r = agent(self, args, 10)
    if not r.ok then error(string.format("node %s: spawn %s: %s", self.name, argv[1], r.err), 2) end
    p = setmetatable({ node = self, vm = self.vm, id = math.tointeger(tonumber(r.out)) }, GuestProc)
  else
    p = fwsh.proc.spawn(argv, { netns = self.name, stdout = opts.stdout, stderr = opts.stderr })
  end
  self.procs[#self.procs + 1] = p
  return p
end

--- node:daemon(name, argv [, opts]) -> node: registers a daemon that
--  node:start() starts (again) and node:stop() kills; started now if up
function Node:daemon(name, argv, opts)
  if not self.daemons[name] then self.order[#self.order + 1] = name end
  self.daemons[name] = { argv = argv, opts = opts or {} }
  if self.is_up then self:start_daemon(name) end
  return self
end

function Node:start_daemon(name)
  local d = self.daemons[name]
  d.proc = self:spawn(d.argv, { stdout = daemon_log(self, name) })
  if d.opts.ready then d.opts.ready(self, d.proc) end
  return d.proc
end

local function vm_kill(self, sig)
  if self.vm then
    if self.vm:running() then self.vm:kill(sig) end
    self.vm:stop(1)
    self.vm = nil
  end
  for _, d in pairs(self.daemons) do d.proc = nil end
end

--- node:stop([{graceful=false, keep_links=false}]) -> node: the node fails:
--  its daemons are killed (SIGKILL unless graceful) and its ports lose
--  carrier unless keep_links (netns), or the VM is powered off (qemu)
function Node:stop(o)
  local sig = o and o.graceful and "TERM" or "KILL"
  if self.backend == "qemu" then
    vm_kill(self, sig)
    self.stopped = true
    return self
  end
  for _, name in ipairs(self.order) do
    local d = self.daemons[name]
    if d.proc and d.proc:running() then d.proc:kill(sig) end
  end
  for _, name in ipairs(self.order) do
    local d = self.daemons[name]
    if d.proc then d.proc:stop(1); d.proc = nil end
  end
  if not (o and o.keep_links) then
    for _, p in ipairs(self.ports) do fwsh.link.get(p.tap):down() end
  end
  self.stopped = true
  return self
end

-- What a hung machine does on its links, which stay up: nothing. Every
-- frame in or out of the namespace is dropped, ARP included (a kernel that
-- still answered ARP for a virtual IP would pull its MAC back).
local HANG = [[
table inet fwsh_hang {
  chain rx { type filter hook prerouting priority -500; policy drop; counter; }
  chain tx { type filter hook output priority -500; policy drop; }
}
table arp fwsh_hang {
  chain rx { type filter hook input priority -500; policy drop; }
  chain tx { type filter hook output priority -500; policy drop; }
}
]]

--- node:fail(kind) -> node: the node fails as kind says:
--   "power": it loses power (node:stop(): netns ports lose carrier; a VM is killed)
--   "hang": it stops answering, sending and forwarding, links up (netns:
--     daemons killed, every packet in or out dropped, ARP too; a VM: QMP
--     stop, frozen whole)
function Node:fail(kind)
  if kind == nil or kind == "power" then return self:stop() end
  if kind ~= "hang" then error("node:fail: \"power\" or \"hang\", not " .. tostring(kind), 2) end
  if self.backend == "qemu" then
    self:freeze()
  else
    self:stop{ keep_links = true }
    self:exec(function() fwsh.nft.run(HANG) end)
    self.hung = true
  end
  self.stopped = true
  return self
end

--- node:start() -> node: brings a stopped (or failed) node back: ports up
--  and daemons started again after reset() (netns), or the VM booted again
--  (qemu: a hung one is reset, as a watchdog would)
function Node:start()
  if self.backend == "netns" then
    if self.hung then
      self:exec(function() fwsh.nft.run("delete table inet fwsh_hang\ndelete table arp fwsh_hang") end)
      self.hung = nil
    end
    if self.reset then self.reset(self) end
    for _, p in ipairs(self.ports) do fwsh.link.get(p.tap):up() end
    for _, name in ipairs(self.order) do self:start_daemon(name) end
  else
    vm_kill(self, "KILL")
    qemu_start(self)
    qemu_ready(self)
  end
  self.stopped = false
  return self
end

--- node:impair(port, {delay=, jitter=, loss=, ...}) -> node: what the node's
--  port does to the packets it sends (link:impair, tc-netem): in a netns node
--  through its namespace, in a VM by the guest's own fwsh; {} removes it
function Node:impair(port, o)
  self:port(port) -- a port it has
  local fields = {}
  for _, k in ipairs({ "delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate" }) do
    local v = o[k]
    if v ~= nil then
      if type(v) ~= "number" and type(v) ~= "string" then
        error(string.format("node %s: impair %s: %s is a number or a string", self.name, port, k), 2)
      end
      fields[#fields + 1] = string.format("%s = %q", k, v)
    end
  end
  if self.backend == "netns" then
    self:exec(function() fwsh.link.impair(port, o) end)
  else
    local r = self:run({ "fwsh", "-e", string.format("fwsh.link.impair(%q, { %s })", port,
                                                     table.concat(fields, ", ")) })
    if not r.ok then error(string.format("node %s: impair %s: %s%s", self.name, port, r.out, r.err), 2) end
  end
  return self
end

--- node:cut(port) / node:restore(port) -> node: one port loses its link: the
--  host end goes down (netns: the node sees no carrier), or QMP set_link (qemu)
function Node:cut(port)
  local p = self:port(port)
  if self.backend == "netns" then fwsh.link.get(p.tap):down()
  else self:qmp("set_link", { name = "nic-" .. p.name, up = false }) end
  return self
end

function Node:restore(port)
  local p = self:port(port)
  if self.backend == "netns" then fwsh.link.get(p.tap):up()
  else self:qmp("set_link", { name = "nic-" .. p.name, up = true }) end
  return self
end

--- node:freeze() / node:thaw() -> node: SIGSTOP / SIGCONT to every process
--  of the node (netns: its daemons, which stop answering; the kernel still
--  forwards), or QMP stop / cont (qemu: the whole VM)
function Node:freeze()
  if self.backend == "qemu" then self:qmp("stop") return self end
  for _, p in ipairs(self.procs) do if p:running() then p:kill("STOP") end end
  return self
end

function Node:thaw()
  if self.backend == "qemu" then self:qmp("cont") return self end
  for _, p in ipairs(self.procs) do if p:running() then p:kill("CONT") end end
  return self
end

--- node:down() -> node: stops and reaps every process (a VM's die with it),
--  removes the ports and the namespace; keeps going past failures and
--  raises the first after
function Node:down()
  local first
  local function try(fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok and not first then first = err end
  end
  if self.backend == "qemu" then try(vm_kill, self, "KILL") end
  for i = #self.procs, 1, -1 do
    local p = self.procs[i]
    if getmetatable(p) ~= GuestProc then try(p.stop, p, 1) end
  end
  self.procs, self.vm = {}, nil
  for _, d in pairs(self.daemons) do d.proc = nil end
  -- Only what up() made: a port name or a namespace that was someone else's
  -- when up() failed on it stays. A link is ours while its name is still on
  -- the ifindex it had when made.
  local made = self.made or { links = {} }
  for i = #made.links, 1, -1 do try(M.delete_made, made.links[i]) end
  if made.netns then try(fwsh.netns.delete_made, self.name, made.netns) end
  self.made = nil
  self.is_up = false
  if first then error(first, 0) end
  return self
end

Node.__close = function(self) pcall(Node.down, self) end
Node.__tostring = function(self)
  return string.format("node %s (%s, %s)", self.name, self.backend,
                       self.is_up and (self.stopped and "stopped" or "up") or "down")
end

return M
