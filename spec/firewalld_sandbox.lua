-- firewalld_sandbox.lua - a firewalld of the specs' own, for the specs that
-- talk to one: tools/firewalld-sandbox.sh in a throwaway network namespace,
-- with a private system bus, read back through firewall-cmd on that bus.
local H = require "helper"
local fwsh = H.fwsh

local function installed(cmd)
  local _, ok = H.run({ "sh", "-c", "command -v " .. cmd })
  return ok
end

local function sleep(s) H.run({ "sleep", tostring(s) }) end

local read = H.read_file

-- A firewalld of our own: start() in a fresh namespace, stop() ends it all.
local Sandbox = {}
Sandbox.__index = Sandbox

function Sandbox.start(opts)
  local self = setmetatable({}, Sandbox)
  self.dir = os.tmpname()
  os.remove(self.dir)
  assert(H.run({ "mkdir", self.dir }))
  self.ns = string.format("fwsh-fwd-%d", math.random(1, 1e9))
  assert(select(2, H.run({ "ip", "netns", "add", self.ns })), "ip netns add")
  H.run({ "ip", "-n", self.ns, "link", "set", "lo", "up" })
  self.bus = "unix:path=" .. self.dir .. "/bus"
  -- Its standard input is ours: when we close it (or die), it ends.
  local cmd = string.format("exec env -u LD_PRELOAD ip netns exec %s %s %s %s >%s 2>&1",
    H.quote(self.ns), H.quote(H.root .. "/tools/firewalld-sandbox.sh"), H.quote(self.dir),
    opts and opts.bus_only and "--bus-only" or "", H.quote(self.dir .. "/sandbox.log"))
  self.proc = assert(io.popen(cmd, "w"))
  return self
end

-- firewall-cmd ARGS on this sandbox's bus: its output (trimmed) and success.
function Sandbox:cmd(...)
  local out, ok = H.run({ "env", "DBUS_SYSTEM_BUS_ADDRESS=" .. self.bus, "firewall-cmd", ... })
  return (out:gsub("%s+$", "")), ok
end

function Sandbox:wait_running(seconds)
  for _ = 1, seconds * 5 do
    if self:cmd("--state") == "running" then return true end
    sleep(0.2)
  end
  return false
end

function Sandbox:wait_bus(seconds)
  for _ = 1, seconds * 10 do
    local _, ok = H.run({ "test", "-S", self.dir .. "/bus" })
    if ok then return true end
    sleep(0.1)
  end
  return false
end

function Sandbox:logs()
  return (read(self.dir .. "/sandbox.log") or "") .. (read(self.dir .. "/dbus.log") or "") ..
         (read(self.dir .. "/firewalld.log") or "")
end

function Sandbox:stop()
  if self.proc then self.proc:close() end
  self.proc = nil
  H.run({ "ip", "netns", "delete", self.ns })
  H.run({ "rm", "-rf", self.dir })
end

-- Runs fn inside the sandbox's namespace (where firewalld's links are).
function Sandbox:run(fn)
  return fwsh.netns.run(self.ns, fn)
end

-- The nftables ruleset firewalld made in its namespace.
function Sandbox:ruleset()
  return (H.run({ "ip", "netns", "exec", self.ns, "nft", "list", "ruleset" }))
end

Sandbox.missing = not installed("firewalld") and "firewalld" or not installed("dbus-daemon") and "dbus-daemon"
  or not installed("firewall-cmd") and "firewall-cmd" or nil

-- Starts one and waits until firewalld answers; if it does not within seconds,
-- stops it and raises with its logs.
function Sandbox.start_running(seconds)
  local fw = Sandbox.start()
  if not fw:wait_running(seconds) then
    local logs = fw:logs()
    fw:stop()
    error(string.format("firewalld did not start in its sandbox within %d s:\n%s", seconds, logs), 0)
  end
  return fw
end

return Sandbox
