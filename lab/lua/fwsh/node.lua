--- fwsh.node - lab nodes: a machine attached to bridges by named ports, with
-- two backends behind one interface, each a table of the methods that
-- differ (node.impl):
--
--   netns (default, fwsh/node/netns.lua): the node is a named network
--     namespace; each port is a veth whose host end carries the tap name
--     (net11, ...) and is a port of the bridge, and whose node end is the
--     port's name (eth0, ...) inside.
--   qemu (fwsh/node/qemu.lua): the node is a qemu VM on the seed's
--     persistent taps (-netdev tap,ifname=TAP,script=no,downscript=no), with
--     a QMP socket. It boots the lab's guest image (lab/guest: Debian's
--     kernel, an initramfs with busybox, keepalived, conntrackd, nftables,
--     iproute2), whose init, fwsh-agent, mounts the node's directory over
--     9p at the same path, applies the node's boot file from it (addresses,
--     sysctls, rulesets, daemons) and then serves the host on a
--     virtio-serial port: node:run, node:spawn and the rest go through it,
--     never a shell or ssh. KVM if a guest boots under it here, TCG otherwise.
--     Or (qemu.disk) the user's own disk image, from an overlay, with no
--     agent: fwsh runs nothing in it (fwsh/node/ownimage.lua).
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
local C = require "fwsh.node.common"
local errors = require "fwsh.errors"

local BACKENDS = { netns = require "fwsh.node.netns", qemu = require "fwsh.node.qemu" }

local M = {}
local Node = {}
Node.__index = Node

M.tool, M.made, M.delete_made, M.sysctl = C.tool, C.made, C.delete_made, C.sysctl
M.image, M.accel = BACKENDS.qemu.image, BACKENDS.qemu.accel

local function check_name(what, s)
  if type(s) ~= "string" or not s:match("^[%w][%w._-]*$") or #s > 15 then
    errors.raise("node", nil, string.format("%s %q: a name of letters, digits, '.', '_' or '-' (15 at most)",
                                            what, tostring(s)), 3)
  end
  return s
end

--- node.new{name=, backend="netns"|"qemu", ports={ {name=, bridge=, tap=, address=}, ... },
--  routes={ {dst=, via=}, ... }, dir=, sysctls=, setup=, reset=,
--  qemu={binary=, accel=, memory=, image=, args=, wrapper=, timeout=, display=,
--        disk=, format=, kernel=, initrd=, append=, ready=, cable=}}
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
--  qemu.disk is the user's own disk image (any format qemu reads; format=
--  says which, qemu-img info otherwise): the VM boots from a qcow2 overlay
--  DIR/NAME-overlay.qcow2 (removed at down()), and the image is never
--  written. Its NICs are the ports, in their order (eth0, eth1... to a
--  Linux guest), on their taps; kernel, initrd and append boot it directly
--  when it has no boot loader (root=... in append). With no agent inside,
--  fwsh gives it nothing (no addresses, routes, sysctls, setup or daemons)
--  and runs nothing in it: node:run, spawn, nft, sysctl, impair raise. It
--  is ready when qemu.ready = { console = PATTERN (a Lua pattern a line of
--  its serial console, DIR/NAME-console.log, matches), port = N, address =
--  ADDRESS (a TCP port that answers there), from = node (where the port is
--  tried from: a node, the host by default), timeout = S } all hold; a
--  timeout names the node, what it awaited and the console's last lines.
--  qemu.cable: how node:cut pulls a VM's cable: "qmp" (default, QMP
--  set_link: the guest sees no carrier) or "tap" (the tap's link down on
--  the host: the guest keeps its carrier, its frames go nowhere).
local KEYS = { "name", "backend", "ports", "routes", "dir", "sysctls", "setup", "reset", "qemu" }
local QEMU_KEYS = { "binary", "accel", "memory", "image", "args", "wrapper", "timeout", "display", "disk",
                    "format", "kernel", "initrd", "append", "ready", "cable" }
local PORT_KEYS = { "name", "bridge", "tap", "address" }

function M.new(o)
  if type(o) ~= "table" then errors.raise("node.new", nil, "an options table expected") end
  errors.keys("node.new", o.name, o, KEYS)
  if type(o.qemu) == "table" then errors.keys("node.new", o.name, o.qemu, QEMU_KEYS) end
  for _, p in ipairs(type(o.ports) == "table" and o.ports or {}) do
    if type(p) == "table" then errors.keys("node.new", o.name, p, PORT_KEYS) end
  end
  local n = setmetatable({
    name = check_name("name", o.name),
    backend = o.backend or "netns",
    ports = {},
    dir = o.dir,
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
  if not n.dir then errors.raise("node.new", n.name, "dir is required") end
  n.impl = BACKENDS[n.backend]
  if not n.impl then
    errors.raise("node.new", n.name, "backend is \"netns\" or \"qemu\", not " .. tostring(n.backend))
  end
  local display = n.qemu.display
  if display ~= nil and (display ~= "vnc" and display ~= "spice" or not n.impl.has_display) then
    errors.raise("node.new", n.name, "qemu.display is \"vnc\" or \"spice\" on a qemu node, not " .. tostring(display))
  end
  for i, p in ipairs(o.ports or {}) do
    n.ports[i] = { name = check_name("port", p.name), bridge = check_name("bridge", p.bridge),
                   tap = check_name("tap", p.tap), address = p.address }
  end
  n.impl = n.impl.select and n.impl.select(n) or n.impl -- qemu: its own image's methods, if it has one
  n.agentless = n.impl.agentless
  return n
end

function Node:port(name)
  for _, p in ipairs(self.ports) do
    if p.name == name or p.tap == name then return p end
  end
  errors.raise("node", self.name, "has no port " .. tostring(name), 3)
end

--- node:exec(fn, ...) -> fn's results, run with the thread inside the node's
--  namespace (netns backend only)
function Node:exec(fn, ...)
  return self.impl.exec(self, fn, ...)
end

--- node:qmp(command [, arguments]) -> the reply line ({"return": ...}); raises
--  with QMP's error (qemu backend)
function Node:qmp(command, arguments)
  return self.impl.qmp(self, command, arguments)
end

--- node:sysctl(path, value) -> node: sets /proc/sys/PATH in the node (a
--  VM's boot file has it while the node is being set up)
function Node:sysctl(path, value)
  C.check_sysctl(path, value)
  self.impl.sysctl(self, path, value)
  return self
end

--- node:nft(text) -> node: loads an nft(8) ruleset in the node, as one
--  transaction (netns: libnftables in its namespace; VM: nft -f, from the
--  share, at boot when set up)
function Node:nft(text)
  self.impl.nft(self, text)
  return self
end

--- node:tool(name) -> the path of fwsh's lab tool name ("probe", "stream")
--  as the node sees it: fwsh's own (netns), the guest image's (VM)
function Node:tool(name)
  return self.impl.tool(self, name)
end

--- node:up() -> node: creates the namespace and ports (netns) or boots the
--  VM (qemu), then the daemons registered so far
function Node:up()
  return self:launch():ready()
end

--- node:launch() -> node: node:up() without waiting for a VM to be ready:
--  several VMs boot side by side, then node:ready() each (netns: up() whole)
function Node:launch()
  self.impl.launch(self)
  self.is_up = true
  return self
end

--- node:ready() -> node: until a launched VM has booted and applied its
--  boot file, as its agent reports; raises with the guest's report or after
--  qemu.timeout (default 180 s under TCG, 60 s under KVM)
function Node:ready()
  self.impl.ready(self)
  return self
end

--- node:run(argv [, {timeout=, stdin=}]) -> {ok=, code=, out=, err=}: runs a
--  command in the node to its end (a VM's by its agent; no stdin there)
function Node:run(argv, opts)
  return self.impl.run(self, argv, opts or {})
end

--- node:wait_run(argv [, timeout]) -> seconds: until argv exits 0 in the node
function Node:wait_run(argv, timeout)
  return self.impl.wait_run(self, argv, timeout)
end

--- node:wait_link(name [, {carrier=true, timeout=}]) -> seconds: until the
--  node has a link name (with carrier, if asked)
function Node:wait_link(name, o)
  return self.impl.wait_link(self, name, o or {})
end

--- node:spawn(argv [, {stdout=, stderr=, realtime=true}]) -> proc: starts a
--  process in the node; it is stopped and reaped at node:stop() and
--  node:down(). In a VM, stdout (a path in the node's dir) gets its output
--  and stderr. realtime=false (namespace nodes): it may not raise itself to
--  a real-time policy (fwsh.proc.spawn's realtime); a VM has CPUs of its own.
function Node:spawn(argv, opts)
  local p = self.impl.spawn(self, argv, opts or {})
  self.procs[#self.procs + 1] = p
  return p
end

--- node:daemon(name, argv [, {ready=function(node, proc), realtime=true}]) ->
--  node: registers a daemon that node:start() starts (again) and
--  node:stop() kills; started now if up (realtime: node:spawn's)
function Node:daemon(name, argv, opts)
  if not self.daemons[name] then self.order[#self.order + 1] = name end
  self.daemons[name] = { argv = argv, opts = opts or {} }
  if self.is_up then self:start_daemon(name) end
  return self
end

function Node:start_daemon(name)
  local d = self.daemons[name]
  d.proc = self:spawn(d.argv, { stdout = C.daemon_log(self, name), realtime = d.opts.realtime })
  if d.opts.ready then d.opts.ready(self, d.proc) end
  return d.proc
end

--- node:stop([{graceful=false, keep_links=false}]) -> node: the node fails:
--  its daemons are killed (SIGKILL unless graceful) and its ports lose
--  carrier unless keep_links (netns), or the VM is powered off (qemu)
function Node:stop(o)
  self.impl.stop(self, o and o.graceful and "TERM" or "KILL", o)
  self.stopped = true
  return self
end

--- node:fail(kind) -> node: the node fails as kind says:
--   "power": it loses power (node:stop(): netns ports lose carrier; a VM is killed)
--   "hang": it stops answering, sending and forwarding, links up (netns:
--     daemons killed, every packet in or out dropped, ARP too; a VM: QMP
--     stop, frozen whole)
function Node:fail(kind)
  if kind == nil or kind == "power" then return self:stop() end
  if kind ~= "hang" then errors.raise("node:fail", self.name, "\"power\" or \"hang\", not " .. tostring(kind)) end
  self.impl.hang(self)
  self.stopped = true
  return self
end

--- node:start() -> node: brings a stopped (or failed) node back: ports up
--  and daemons started again after reset() (netns), or the VM booted again
--  (qemu: a hung one is reset, as a watchdog would)
function Node:start()
  self.impl.start(self)
  self.stopped = false
  return self
end

--- node:impair(port, {delay=, jitter=, loss=, ...}) -> node: what the node's
--  port does to the packets it sends (link:impair, tc-netem): in a netns node
--  through its namespace, in a VM by the guest's own fwsh; {} removes it
function Node:impair(port, o)
  self:port(port) -- a port it has
  for _, k in ipairs({ "delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate" }) do
    local v = o[k]
    if v ~= nil and type(v) ~= "number" and type(v) ~= "string" then
      errors.raise("node", self.name, string.format("impair %s: %s is a number or a string", port, k))
    end
  end
  self.impl.impair(self, port, o)
  return self
end

--- node:cut(port) / node:restore(port) -> node: one port loses its link: the
--  host end goes down (netns: the node sees no carrier), or QMP set_link
--  (qemu; the tap down with qemu.cable = "tap")
function Node:cut(port)
  self.impl.set_link(self, self:port(port), false)
  return self
end

function Node:restore(port)
  self.impl.set_link(self, self:port(port), true)
  return self
end

--- node:freeze() / node:thaw() -> node: SIGSTOP / SIGCONT to every process
--  of the node (netns: its daemons, which stop answering; the kernel still
--  forwards), or QMP stop / cont (qemu: the whole VM)
function Node:freeze()
  self.impl.signal_all(self, "STOP")
  return self
end

function Node:thaw()
  self.impl.signal_all(self, "CONT")
  return self
end

--- node:down() -> node: stops and reaps every process (a VM's die with it),
--  removes the ports and the namespace; keeps going past failures and
--  raises the first after
function Node:down()
  local try = errors.collect()
  self.impl.reap(self, try)
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
  try:done()
  return self
end

Node.__close = function(self) pcall(Node.down, self) end
Node.__tostring = function(self)
  return string.format("node %s (%s, %s)", self.name, self.backend,
                       self.is_up and (self.stopped and "stopped" or "up") or "down")
end

return M
