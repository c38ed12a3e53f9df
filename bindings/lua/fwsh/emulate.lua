-- emulate.lua - hosts for a multi-host lab on one machine, for tests and for
-- trying a multi-host lab out (`--hosts 2`): each host is a network namespace
-- with an underlay address of its own and a real sshd (Debian's
-- openssh-server) started in a mount namespace and /run of its own (`fwsh
-- emulate-host`): its labs' namespaces and state directories are its own,
-- as on another machine; the hosts reach each other, and this one reaches
-- them, only over the underlay: a bridge here, fwul, 192.0.2.0/24
-- (TEST-NET-1), this side 192.0.2.254, host i 192.0.2.i. The underlay's
-- MTU is 1550, so that VXLAN's 50 bytes leave the lab's links their 1500.
--
--   local emulate = require "fwsh.emulate"
--   local hosts <close> = emulate.start(2)
--   hosts[1] -> { name = "h1", ssh = "root@192.0.2.1", identity = ..., known_hosts = ...,
--                 fwsh = ..., underlay = "192.0.2.1", netns = "fwsh-h1" }
-- hosts:close() stops the sshds (and what their sessions left) and removes
-- the namespaces, the underlay and the keys.
local fwsh = fwsh or require "fwsh"
local errors = require "fwsh.errors"
local file = require "fwsh.file"

local M = {}
M.prefix, M.controller, M.mtu, M.bridge = "192.0.2.", "192.0.2.254", 1550, "fwul"

local Hosts = {}
Hosts.__index = Hosts

local write = file.write

local function read(path)
  local s, err = file.read(path)
  if not s then errors.raise("emulate", path, err) end
  return s
end

local function run(argv, o)
  local r = fwsh.proc.run(argv, o)
  if not r.ok then
    error(string.format("emulate: %s failed: %s", argv[1], (r.err ~= "" and r.err or r.out):gsub("\n$", "")), 0)
  end
  return r
end

local function sshd_config(addr)
  return table.concat({
    "# an emulated host's sshd (fwsh.emulate): keys and this file are at /run/fwsh/host there",
    "ListenAddress " .. addr,
    "Port 22",
    "HostKey /run/fwsh/host/ssh_host_ed25519_key",
    "AuthorizedKeysFile /run/fwsh/host/authorized_keys",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "PidFile none",
    "PrintMotd no",
    "AllowTcpForwarding no",
    "X11Forwarding no",
    "MaxSessions 20",
    "ClientAliveInterval 5",
    "LogLevel ERROR",
    -- the sessions' labs keep their state in this host's own /run
    "SetEnv FWSH_LAB_ROOT=/run/fwsh/labs",
    "",
  }, "\n")
end

local function listening(ns)
  local r = fwsh.proc.run({ "cat", "/proc/net/tcp" }, { netns = ns, query = true })
  return r.ok and r.out:find(":0016 00000000:0000 0A", 1, true) ~= nil
end

--- emulate.start(n [, {fwsh=PATH}]) -> hosts: n hosts (1 to 200), each
--  with its sshd answering; fwsh: the program their sessions run (default:
--  this one, $FWSH_EXE)
function M.start(n, o)
  o = o or {}
  if not (math.tointeger(n) and n >= 1 and n <= 200) then errors.raise("emulate.start", nil, "1 to 200 hosts") end
  if fwsh.mode() == "plan" then
    errors.raise("emulate.start", nil, "emulated hosts are made for real, not planned: with --dry-run, give real hosts")
  end
  local exe = o.fwsh or os.getenv("FWSH_EXE")
  if not exe then errors.raise("emulate.start", nil, "which fwsh do the hosts run? (fwsh=, or $FWSH_EXE)") end
  local hosts = setmetatable({ procs = {}, netns = {}, made = {} }, Hosts)
  local ok, err = pcall(function()
    hosts.dir = fwsh.lab_dir()
    local dir = hosts.dir
    run({ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fwsh-lab", "-f", dir .. "/id_ed25519" })
    local known = {}
    hosts.bridge = fwsh.bridge.add(M.bridge, { grounding = true, address = M.controller .. "/24", mtu = M.mtu })
    for i = 1, n do
      local name, ns, addr = "h" .. i, "fwsh-h" .. i, M.prefix .. i
      fwsh.netns.add(ns)
      hosts.netns[#hosts.netns + 1] = { name = ns, id = fwsh.netns.id(ns) }
      local veth = fwsh.veth.add(M.bridge .. i, "ul0", { netns = ns })
      veth:set{ mtu = M.mtu }
      fwsh.port.attach(M.bridge, veth)
      fwsh.netns.run(ns, function()
        fwsh.link.get("ul0"):set{ mtu = M.mtu, up = true }
        fwsh.addr.add("ul0", addr .. "/24")
        fwsh.link.get("lo"):up()
      end)
      local hdir = dir .. "/" .. name
      run({ "mkdir", "-m", "700", hdir })
      run({ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", hdir .. "/ssh_host_ed25519_key" })
      write(hdir .. "/authorized_keys", read(dir .. "/id_ed25519.pub"))
      write(hdir .. "/sshd_config", sshd_config(addr))
      local pub = read(hdir .. "/ssh_host_ed25519_key.pub"):match("^(%S+ %S+)")
      known[#known + 1] = addr .. " " .. pub
      -- sshd as on a host of its own: without this process's preloads (a sanitizer's runtime)
      hosts.procs[i] = fwsh.proc.spawn({ exe, "--netns", ns, "emulate-host", hdir, "/usr/bin/env", "-u", "LD_PRELOAD",
                                         "/usr/sbin/sshd", "-D", "-e", "-f", "/run/fwsh/host/sshd_config" },
                                       { stdout = hdir .. ".log" })
      hosts[i] = { name = name, ssh = "root@" .. addr, identity = dir .. "/id_ed25519",
                   known_hosts = dir .. "/known_hosts", fwsh = exe, underlay = addr, netns = ns }
    end
    write(dir .. "/known_hosts", table.concat(known, "\n") .. "\n")
    for i = 1, n do
      local ns = hosts[i].netns
      fwsh.wait{ fn = function()
        if not hosts.procs[i]:running() then
          errors.raise("emulate", hosts[i].name, "its sshd ended: " .. read(dir .. "/h" .. i .. ".log"), 0)
        end
        return listening(ns)
      end, interval = 0.02, timeout = 10 }
    end
  end)
  if not ok then
    pcall(Hosts.close, hosts)
    error(err, 0)
  end
  return hosts
end

--- hosts:sshd_pids() -> { pid, ... } of the sshds still running
function Hosts:sshd_pids()
  local out = {}
  for _, p in ipairs(self.procs) do
    if p:running() then out[#out + 1] = p:pid() end
  end
  return out
end

--- hosts:close(): stops every sshd (their sessions with them), removes the
--  hosts' namespaces, the underlay and the keys
function Hosts:close()
  if self.closed then return end
  self.closed = true
  local try = errors.collect()
  for _, p in ipairs(self.procs) do try(p.stop, p, 1) end
  -- only what start() made, by identity: never one made under its name since
  for i = #self.netns, 1, -1 do try(fwsh.netns.delete_made, self.netns[i].name, self.netns[i].id) end
  if self.bridge then try(fwsh.link.delete_made, self.bridge.name, self.bridge.ifindex) end
  if self.dir then try(fwsh.lab_dir_remove, self.dir) end
  try:done()
end
Hosts.__close = function(self) Hosts.close(self) end

return M
