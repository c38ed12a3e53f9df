-- lab.lua - a firewall lab once built: who is master, waiting for its
-- daemons and for replication, captures, the lab's files, and its teardown.
-- The experiments (traffic, FTP, failover) are in fwsh.firewall.traffic.
local fwsh = fwsh or require "fwsh"
local node = require "fwsh.node"
local conntrackd = require "fwsh.conntrackd"
local T = require "fwsh.firewall.topology"
local errors = require "fwsh.errors"

local M = {}
local Lab = {}
Lab.__index = Lab
M.Lab = Lab

-- a file of the lab: written, or under --dry-run only shown (fwsh.effect)
M.write = require("fwsh.effect").write

--- Lab:hold(seconds): keeps the experiment running for that long (a
-- measurement window: there is no event to wait for)
function Lab:hold(seconds)
  local t_end = fwsh.proc.clock() + seconds
  fwsh.wait{ fn = function() return fwsh.proc.clock() >= t_end end, interval = 0.02,
             timeout = seconds + 1 }
end

--- lab:master() -> master node, backup node: who holds the client-side VRRP
-- MAC, as br1's FDB says (nil if nobody does now)
function Lab:master()
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    local ok = pcall(self:api(name).wait, { fdb = self.facts.vmac.client, bridge = "br1", port = T.fw[name].taps.eth1,
                                            timeout = 0 })
    if ok then return self.nodes[name], self.nodes[name == "fw-1" and "fw-2" or "fw-1"] end
  end
end

--- lab:wait_master(name [, timeout]) -> seconds: until br1 learned the VRRP MAC on name's port
function Lab:wait_master(name, timeout)
  return (self:api(name).wait{ fdb = self.facts.vmac.client, bridge = "br1", port = T.fw[name].taps.eth1,
                               timeout = (timeout or 10) * self.patience })
end

--- lab:wait_master_server(name [, timeout]) -> seconds: until br0 learned the
-- server-side VRRP MAC on name's port
function Lab:wait_master_server(name, timeout)
  return (self:api(name).wait{ fdb = self.facts.vmac.server, bridge = "br0", port = T.fw[name].taps.eth0,
                               timeout = (timeout or 10) * self.patience })
end

--- lab:wait_ready(fw) -> the firewall's daemons are up: keepalived made its
-- virtual MAC interfaces, conntrackd answers on its socket (a firewall from
-- its own image: ready as its node is, node:ready())
function Lab:wait_ready(fw, timeout)
  local n = self.nodes[fw]
  if n.agentless then return end
  timeout = (timeout or 10) * self.patience
  n:wait_link(self.facts.vmac_link.client, { timeout = timeout })
  n:wait_link(self.facts.vmac_link.server, { timeout = timeout })
  n:wait_run(conntrackd.ctl(n.conntrackd_conf, "-s"), timeout)
end

--- lab:has_replica(fw, port) -> whether fw's conntrackd has the peer's connection to port now
function Lab:has_replica(fw, port)
  local n = self.nodes[fw]
  local r = n:run(conntrackd.ctl(n.conntrackd_conf, "-e"))
  return r.ok and r.out:find("dport=" .. port, 1, true) ~= nil
end

-- What each firewall's conntrackd has of port's connections, in its own
-- (internal) and its peer's (external) cache, and its sync statistics: what
-- a replication that did not come says about why.
function Lab:sync_report(port)
  local lines = {}
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    local n = self.nodes[name]
    if n and not n.stopped then
      for _, flag in ipairs({ "-i", "-e" }) do
        local r = n:run(conntrackd.ctl(n.conntrackd_conf, flag))
        local count = 0
        for _ in (r.out or ""):gmatch("dport=" .. port .. "%f[^%d]") do count = count + 1 end
        lines[#lines + 1] = string.format("%s: conntrackd %s: %s", name, flag,
          r.ok and (count .. " entries to port " .. port) or ("failed: " .. (r.err or r.out or "")))
      end
      local r = n:run(conntrackd.ctl(n.conntrackd_conf, "-s"))
      lines[#lines + 1] = name .. ": conntrackd -s:\n  " .. (r.out or r.err or ""):gsub("\n%s*", "\n  ")
    end
  end
  return table.concat(lines, "\n")
end

--- lab:synced(fw, port [, timeout]): until fw's conntrackd holds, in its
-- external cache (the peer's connections), a connection to port; raises,
-- with both conntrackds' caches and statistics, if it does not in time
-- (timeout: 20 s by default, times the backend's patience: three TCG guests
-- on two cores have twice taken more than 40 s in CI)
function Lab:synced(fw, port, timeout)
  local ok, waited = pcall(fwsh.wait, { fn = function() return self:has_replica(fw, port) end,
                                        interval = 0.05, timeout = (timeout or 20) * self.patience })
  if ok then return waited end
  errors.raise("lab:synced", fw, string.format("its conntrackd has no replica of the connection to port %d: %s\n%s",
                                                port, tostring(waited), self:sync_report(port)))
end

--- lab:capture(link [, opts]) -> capture: fwsh.capture on one of the lab's
--  links, in the namespace where its bridges are (br0, br1, br2, or the host
--  end of a port: net21, ...), or with opts.node on a port inside a
--  namespace node (lab:capture("eth2", {node = "fw-1"})). opts are
--  fwsh.capture's (filter=, count=, snaplen=, promisc=); file is by default
--  LINK.pcap (NODE-LINK.pcap) in the lab's directory, which teardown removes
--  unless FWSH_LAB_KEEP is set: give file= to keep it. Stopped, its file
--  closed, when the lab closes, before anything else goes. VRRP's adverts
--  travel on br1 and br0 (keepalived's instances are on eth1 and eth0),
--  conntrackd's sync on br2 (UDP, firewall.sync_port, fw-1 to fw-2 and back).
function Lab:capture(link, o)
  if self.hosts then errors.raise("lab:capture", link, "not yet on a lab across hosts") end
  local opts = {}
  for k, v in pairs(o or {}) do opts[k] = v end
  local target = link
  if opts.node then
    local n = self.nodes[opts.node]
    if not n then errors.raise("lab:capture", link, "no node " .. tostring(opts.node)) end
    if n.backend ~= "netns" then
      errors.raise("lab:capture", link, n.name .. " is a VM: capture its port's tap, on the host side")
    end
    opts.netns, opts.node = n.name, nil
  else
    target = self.bridges[link] or link -- a bridge's handle knows its namespace
  end
  opts.file = opts.file or self:file((opts.netns and opts.netns .. "-" or "") .. link .. ".pcap")
  local c = fwsh.capture(target, opts)
  self.captures[#self.captures + 1] = c
  return c
end

--- lab:spawn_host(argv, log) -> proc: a process on the host (the server side)
function Lab:spawn_host(argv, log)
  local p = self:api("server").proc.spawn(argv, { stdout = log })
  self.procs[#self.procs + 1] = p
  return p
end

--- lab:api(where) -> the fwsh API where a part of the lab runs ("fw-1",
--  "fw-2", "client", "server"): fwsh itself, or, on a lab across hosts,
--  that host's context (fwsh.hosts)
function Lab:api(where)
  return self.at and self.at[where] or fwsh
end

--- lab:tool(where, name) -> the path of one of fwsh's lab tools (probe,
--  stream) on the host where runs
function Lab:tool(where, name)
  if not self.at then return node.tool(name) end
  return self:api(where).require("fwsh.node").tool(name)
end

-- Whether something listens on TCP port here (/proc/net/tcp of this namespace).
-- The kernel lists the listening sockets first (its listening hash, then
-- the established one), so the reading stops at the first line in another
-- state: with 100,000 connections open, the whole file took longer than
-- any wait for a listener allows.
local function listening(port)
  local f = io.open("/proc/net/tcp", "r")
  if not f then return false end
  local want, found = string.format(":%04X 00000000:0000 0A", port), false
  f:read("l") -- the header
  for line in f:lines() do
    if line:find(want, 1, true) then found = true break end
    if not line:find(" 00000000:0000 0A ", 1, true) then break end
  end
  f:close()
  return found
end
M.listening = listening

--- lab:listening(port) -> whether the server side listens on TCP port
function Lab:listening(port)
  if not self.at then return listening(port) end
  return self:api("server").require("fwsh.firewall").listening(port)
end

local tty

--- firewall.progress(text): one updating line on standard error when it is
--  a terminal, nothing when it is not; "" clears it at the end
function M.progress(text)
  if tty == nil then
    local f = io.open("/proc/self/stat", "r")
    local pid = f and f:read("l"):match("^(%d+)")
    if f then f:close() end
    local r = pid and fwsh.proc.run({ "readlink", "/proc/" .. pid .. "/fd/2" })
    tty = r ~= nil and r.ok and (r.out:find("^/dev/pts/") or r.out:find("^/dev/tty")) ~= nil
  end
  if tty then
    io.stderr:write("\r\027[K", text)
    io.stderr:flush()
  end
end

--- lab:file(name [, where]) -> the path of the lab's file name, in the lab's
--  directory on the host where ("fw-1", "fw-2", "client", "server") runs
function Lab:file(name, where)
  return (self.dir_at and self.dir_at[where or "server"] or self.dir) .. "/" .. name
end

--- lab:read(name [, where]) -> what the lab's file name holds ("" if nothing)
function Lab:read(name, where)
  if self.at then return self:api(where or "server").read_file(self:file(name, where)) or "" end
  return require("fwsh.file").read(self:file(name)) or ""
end

-- The lab's directory copied into keep (made if missing): cp, not a shell;
-- -a recreates what is not a regular file (a daemon's socket) as itself.
local function keep_files(dir, keep)
  for _, argv in ipairs({ { "mkdir", "-p", "--", keep }, { "cp", "-a", "--", dir .. "/.", keep } }) do
    local r = fwsh.proc.run(argv)
    if not r.ok then errors.raise("lab:close", keep, "the lab's files not kept: " .. (r.err or ""):gsub("%s+$", "")) end
  end
  io.stderr:write("firewall lab: its files kept in ", keep, "\n")
end

--- lab:close(): stops and reaps every process, removes nodes, bridges and
-- the lab's directory (its files copied first into build's keep, if given).
-- Also as the lab's __close (on errors, on Ctrl-C).
function Lab:close()
  if self.closed then return end
  self.closed = true
  local try = errors.collect()
  -- captures first: their files complete, and none holds a node's namespace
  for i = #self.captures, 1, -1 do try(self.captures[i].stop, self.captures[i]) end
  for i = #self.procs, 1, -1 do try(self.procs[i].stop, self.procs[i], 1) end
  for _, name in ipairs({ "client", "fw-2", "fw-1" }) do
    if self.nodes[name] then try(self.nodes[name].down, self.nodes[name]) end
  end
  -- Only what build() made: a bridge or tap that was there before (ensure
  -- accepted it) stays, with the route, if it was not ours either.
  if self.route_made then
    try(self:api("server").route.delete, { dst = T.net.client, via = self.facts.vip.server })
  end
  for i = #self.made, 1, -1 do try(node.delete_made, self.made[i]) end
  -- across hosts: each host's part, its directory, the connection
  for _, h in ipairs(self.hosts or {}) do
    local made = self.made_at[h] or {}
    local ok, nm = pcall(function() return h.require("fwsh.node") end)
    for i = #made, 1, -1 do if ok then try(nm.delete_made, made[i]) end end
    if self.host_dir[h] and not os.getenv("FWSH_LAB_KEEP") then
      try(function() h.lab_dir_remove(self.host_dir[h]) end)
    end
  end
  if self.hosts then try(require("fwsh.hosts").close, self.hosts, true) end
  if self.emulated then try(self.emulated.close, self.emulated) end
  if self.dir and self.keep then try(keep_files, self.dir, self.keep) end
  if self.dir and os.getenv("FWSH_LAB_KEEP") then
    io.stderr:write("firewall lab: logs and configuration kept in ", self.dir, "\n")
  elseif self.dir then
    try(fwsh.lab_dir_remove, self.dir)
  end
  try:done()
end
Lab.__close = function(self) Lab.close(self) end

return M
