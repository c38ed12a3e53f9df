--- fwsh.node - lab nodes: a machine attached to bridges by named ports, with
-- two backends behind one interface.
--
--   netns (default): the node is a named network namespace; each port is a
--     veth whose host end carries the tap name (net11, ...) and is a port of
--     the bridge, and whose node end is the port's name (eth0, ...) inside.
--   qemu: the node is a qemu VM on the seed's persistent taps
--     (-netdev tap,ifname=TAP,script=no,downscript=no), with a QMP socket;
--     KVM when /dev/kvm exists, TCG otherwise.
--
-- local node = require "fwsh.node"
-- local n = node.new{ name = "fw-1", ports = { {name="eth0", bridge="br0", tap="net01"}, ... } }
-- n:up()  n:run{"ping", "-c1", "10.0.0.1"}  n:spawn{...}  n:stop()  n:start()  n:down()
local fwsh = fwsh or require "fwsh"

local M = {}
local Node = {}
Node.__index = Node

local function tools_dir()
  local dir = os.getenv("FWSH_TOOLS")
  if dir then return dir end
  -- The fwsh program sets FWSH_TOOLS; from plain lua, next to fwsh.so on cpath.
  for d in package.cpath:gmatch("([^;]*)/%?%.so") do
    local f = io.open(d .. "/fwsh-probe", "r")
    if f then f:close(); return d end
  end
  return "."
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
--  dir=, sysctls=, setup=, reset=, qemu={binary=, accel=, memory=, args=, wrapper=, timeout=}}
--  -> node (not yet up). dir is where logs, sockets and pid files go (a
--  per-lab temporary directory); sysctls ({ {path, value}, ... }) are set in
--  the new namespace before its ports exist; setup(node) runs after the
--  ports and before the daemons, reset(node) at start() after a stop().
--  qemu.args is the user's image (-kernel ..., -drive ...).
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
    setup = o.setup,            -- function(node), after the ports, before the daemons
    reset = o.reset,            -- function(node), at start() after a stop(): what a reboot clears
    sysctls = o.sysctls or {},  -- { {"net/ipv4/ip_forward", "1"}, ... }, set before the ports exist
    is_up = false,
  }, Node)
  if n.backend ~= "netns" and n.backend ~= "qemu" then
    error("node.new: backend is \"netns\" or \"qemu\", not " .. tostring(n.backend), 2)
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
--  still on the ifindex it had when made: never one made under that name since
function M.delete_made(m)
  if fwsh.link.exists(m.name) then
    local l = fwsh.link.get(m.name)
    if l.ifindex == m.ifindex then l:delete() end
  end
end

local function sysctl(path, value)
  -- a path under /proc/sys, never out of it
  if type(path) ~= "string" or not path:match("^[%w_.%-]+[%w_.%-/]*$") or path:find("%.%.")
     or path:find("//") then
    error(string.format("node.sysctl: %q is not a path under /proc/sys (a/b/c: letters, digits, "
                        .. "'_', '-', '.', no '..')", tostring(path)), 2)
  end
  if type(value) ~= "string" or value:find("%z") then
    error("node.sysctl: the value is a string with no zero byte", 2)
  end
  local f = assert(io.open("/proc/sys/" .. path, "w"))
  f:write(value)
  f:close()
end
M.sysctl = sysctl

-- netns backend --------------------------------------------------------------

local function netns_up(self)
  fwsh.netns.add(self.name)
  self.is_up = true -- from here on, down() has something to remove
  self.made = { netns = true, links = {} } -- and only what is listed here
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
  end)
end

-- qemu backend ---------------------------------------------------------------

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

-- KVM when /dev/kvm exists (and can be opened), TCG otherwise.
function M.accel()
  local f = io.open("/dev/kvm", "r")
  if f then f:close() return "kvm" end
  return "tcg"
end

local function qemu_start(self)
  local q = self.qemu
  self.accel = q.accel or M.accel()
  local argv = {}
  for _, w in ipairs(q.wrapper or {}) do argv[#argv + 1] = w end -- e.g. { "env", "-u", "LD_PRELOAD" }
  for _, w in ipairs({ q.binary or "qemu-system-x86_64", "-nodefaults", "-display", "none",
                 "-machine", "accel=" .. self.accel, "-m", tostring(q.memory or 128),
                 "-name", self.name, "-qmp", "unix:" .. self.qmp_socket .. ",server=on,wait=off" }) do
    argv[#argv + 1] = w
  end
  for i, p in ipairs(self.ports) do
    argv[#argv + 1] = "-netdev"
    argv[#argv + 1] = string.format("tap,id=%s,ifname=%s,script=no,downscript=no", p.name, p.tap)
    argv[#argv + 1] = "-device"
    argv[#argv + 1] = string.format("virtio-net-pci,netdev=%s,id=nic-%s,mac=52:54:00:00:%02x:%02x",
                                    p.name, p.name, #self.name % 256, i)
  end
  for _, a in ipairs(q.args or {}) do argv[#argv + 1] = a end   -- the user's image, -kernel ...
  self.vm = fwsh.proc.spawn(argv, { stdout = self.dir .. "/" .. self.name .. "-qemu.log" })
  self.procs[#self.procs + 1] = self.vm
  -- Ready when QMP answers.
  fwsh.wait{ run = { M.tool("qmp"), self.qmp_socket, '{"execute": "query-status"}' },
             timeout = q.timeout or 20, interval = 0.05 }
end

-- both -----------------------------------------------------------------------

--- node:up() -> node: creates the namespace and ports (netns) or starts the
--  VM (qemu), then the daemons registered so far
function Node:up()
  if self.backend == "netns" then
    netns_up(self)
  else
    self.qmp_socket = self.dir .. "/" .. self.name .. ".qmp"
    qemu_start(self)
  end
  self.is_up = true
  if self.setup then self.setup(self) end
  for _, name in ipairs(self.order) do self:start_daemon(name) end
  return self
end

--- node:run(argv [, {timeout=}]) -> {ok=, code=, out=, err=}: runs a command
--  in the node to its end (netns backend)
function Node:run(argv, opts)
  opts = opts or {}
  assert(self.backend == "netns", "node:run needs the netns backend (a VM runs its own)")
  return fwsh.proc.run(argv, { netns = self.name, timeout = opts.timeout, stdin = opts.stdin })
end

--- node:spawn(argv [, {stdout=, stderr=}]) -> proc: starts a process in the
--  node; it is stopped and reaped at node:stop() and node:down()
function Node:spawn(argv, opts)
  opts = opts or {}
  local p = fwsh.proc.spawn(argv, { netns = self.backend == "netns" and self.name or nil,
                                    stdout = opts.stdout, stderr = opts.stderr })
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
  local opts = { stdout = self.dir .. "/" .. self.name .. "-" .. name .. ".log" }
  d.proc = self:spawn(d.argv, opts)
  if d.opts.ready then d.opts.ready(self, d.proc) end
  return d.proc
end

--- node:stop([{graceful=false, keep_links=false}]) -> node: the node fails:
--  its daemons are killed (SIGKILL unless graceful) and its ports lose
--  carrier unless keep_links (netns), or the VM is killed (qemu)
function Node:stop(o)
  local sig = o and o.graceful and "TERM" or "KILL"
  for _, name in ipairs(self.order) do
    local d = self.daemons[name]
    if d.proc and d.proc:running() then d.proc:kill(sig) end
  end
  for _, name in ipairs(self.order) do
    local d = self.daemons[name]
    if d.proc then d.proc:stop(1); d.proc = nil end
  end
  if self.backend == "netns" then
    if not (o and o.keep_links) then
      for _, p in ipairs(self.ports) do fwsh.link.get(p.tap):down() end
    end
  elseif self.vm then
    if self.vm:running() then self.vm:kill(sig) end
    self.vm:stop(1)
    self.vm = nil
  end
  self.stopped = true
  return self
end

--- node:start() -> node: brings a stopped node back: ports up and daemons
--  started again (netns), or the VM started again (qemu)
function Node:start()
  if self.backend == "netns" then
    if self.reset then self.reset(self) end
    for _, p in ipairs(self.ports) do fwsh.link.get(p.tap):up() end
  else
    qemu_start(self)
  end
  for _, name in ipairs(self.order) do self:start_daemon(name) end
  self.stopped = false
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

--- node:down() -> node: stops and reaps every process, removes the ports
--  and the namespace; keeps going past failures and raises the first after
function Node:down()
  local first
  local function try(fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok and not first then first = err end
  end
  for i = #self.procs, 1, -1 do try(self.procs[i].stop, self.procs[i], 1) end
  self.procs, self.vm = {}, nil
  for _, d in pairs(self.daemons) do d.proc = nil end
  -- Only what up() made: a port name or a namespace that was someone else's
  -- when up() failed on it stays. A link is ours while its name is still on
  -- the ifindex it had when made.
  local made = self.made or { links = {} }
  for i = #made.links, 1, -1 do try(M.delete_made, made.links[i]) end
  if made.netns and fwsh.netns.exists(self.name) then try(fwsh.netns.delete, self.name) end
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
