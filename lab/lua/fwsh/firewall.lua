-- firewall.lua - the fault-tolerant firewall lab on the seed topology: the
-- client (on br1) reaches the server side (br0, the host) through fw-1; if
-- fw-1 stops, fw-2 takes over. The firewalls run keepalived (VRRPv3, one
-- instance per side in one sync group, virtual MACs), conntrackd in FTFW mode
-- over br2, and a stateful per-interface nftables ruleset (libnftables).
--
--   br0  grounding, 10.0.0.1/24 = the server     net01 fw-1 eth0   net02 fw-2 eth0
--   br1  client side, 10.1.0.0/24                net11 fw-1 eth1   net12 fw-2 eth1   net13 client eth0
--   br2  sync link, 10.2.0.0/24                  net21 fw-1 eth2   net22 fw-2 eth2
--   virtual IPs: 10.1.0.1 (client's gateway, VRID 51), 10.0.0.254 (host's route to 10.1.0.0/24, VRID 52)
--
-- As a library, from any script (the scenarios, a user's own):
--   local firewall = require "fwsh.firewall"
--   local lab <close> = firewall.build{ master = "fw-1", advert_int = 0.1 }
-- firewall.main(...) is scripts/lab/firewall.lua: build it, show who is master
-- and that the client reaches the server, tear it down.
local fwsh = fwsh or require "fwsh"
local node = require "fwsh.node"
local keepalived = require "fwsh.keepalived"
local conntrackd = require "fwsh.conntrackd"
local nftables = require "fwsh.nftables"
local ftp = require "fwsh.ftp"

local M = {}
local Lab = {}
Lab.__index = Lab

M.server = "10.0.0.1"
-- VRRP's advert interval by default, seconds (firewall.build's advert_int,
-- --advert): the backup takes over after three missed adverts and a skew of
-- (256 - priority) / 256 of one, 36 ms with 10 ms adverts and priority 100.
-- A VM under TCG keeps 100 ms (about 340 ms).
M.advert_int = { netns = 0.01, qemu = 0.1 }
M.probe_port, M.stream_port, M.sync_port, M.ftp_port = 5000, 5001, 3780, 21
M.ftp_modes = ftp.modes
M.vrid = { client = 51, server = 52 }
M.vip = { client = "10.1.0.1", server = "10.0.0.254" }
M.vmac = { client = keepalived.vmac(51), server = keepalived.vmac(52) }

local FW = {
  ["fw-1"] = { eth0 = "10.0.0.2/24", eth1 = "10.1.0.2/24", eth2 = "10.2.0.1/24", sync = "10.2.0.1",
               peer = "10.2.0.2", taps = { eth0 = "net01", eth1 = "net11", eth2 = "net21" } },
  ["fw-2"] = { eth0 = "10.0.0.3/24", eth1 = "10.1.0.3/24", eth2 = "10.2.0.2/24", sync = "10.2.0.2",
               peer = "10.2.0.1", taps = { eth0 = "net02", eth1 = "net12", eth2 = "net22" } },
}

local write = require("fwsh.effect").write

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
    local ok = pcall(self:api(name).wait, { fdb = M.vmac.client, bridge = "br1", port = FW[name].taps.eth1,
                                            timeout = 0 })
    if ok then return self.nodes[name], self.nodes[name == "fw-1" and "fw-2" or "fw-1"] end
  end
end

--- lab:wait_master(name [, timeout]) -> seconds: until br1 learned the VRRP MAC on name's port
function Lab:wait_master(name, timeout)
  return (self:api(name).wait{ fdb = M.vmac.client, bridge = "br1", port = FW[name].taps.eth1,
                               timeout = (timeout or 10) * self.patience })
end

--- lab:wait_master_server(name [, timeout]) -> seconds: until br0 learned the
-- server-side VRRP MAC on name's port
function Lab:wait_master_server(name, timeout)
  return (self:api(name).wait{ fdb = M.vmac.server, bridge = "br0", port = FW[name].taps.eth0,
                               timeout = (timeout or 10) * self.patience })
end

--- lab:wait_ready(fw) -> the firewall's daemons are up: keepalived made its
-- virtual MAC interfaces, conntrackd answers on its socket
function Lab:wait_ready(fw, timeout)
  local n = self.nodes[fw]
  timeout = (timeout or 10) * self.patience
  n:wait_link("vc51", { timeout = timeout })
  n:wait_link("vs52", { timeout = timeout })
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
  error(string.format("firewall: %s's conntrackd has no replica of the connection to port %d: %s\n%s",
                      fw, port, tostring(waited), self:sync_report(port)), 2)
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
  if self.hosts then error("firewall: lab:capture: not yet on a lab across hosts", 2) end
  local opts = {}
  for k, v in pairs(o or {}) do opts[k] = v end
  local target = link
  if opts.node then
    local n = self.nodes[opts.node]
    if not n then error("firewall: lab:capture: no node " .. tostring(opts.node), 2) end
    if n.backend ~= "netns" then
      error("firewall: lab:capture: " .. n.name .. " is a VM: capture its port's tap, on the host side", 2)
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
local function listening(port)
  local f = io.open("/proc/net/tcp", "r")
  if not f then return false end
  local s = f:read("a")
  f:close()
  return s:find(string.format(":%04X 00000000:0000 0A", port)) ~= nil
end
M.listening = listening

--- lab:listening(port) -> whether the server side listens on TCP port
function Lab:listening(port)
  if not self.at then return listening(port) end
  return self:api("server").require("fwsh.firewall").listening(port)
end

--- lab:traffic_start([{rate=BYTES_PER_S, replicated=true}]) -> traffic: a 10 ms
-- UDP probe and a counted TCP stream from the client to the server, running
-- through the master; returns once the stream's connection is replicated to
-- the backup (unless replicated=false)
function Lab:traffic_start(o)
  o = o or {}
  self.runs = (self.runs or 0) + 1
  local tag = tostring(self.runs)
  local t = { tag = tag }
  if not self.probe_server then
    self.probe_server = self:spawn_host({ self:tool("server", "probe"), "server", tostring(M.probe_port) })
  end
  t.stream_server = self:spawn_host({ self:tool("server", "stream"), "server", tostring(M.stream_port) },
                                    self:file("stream-server-" .. tag .. ".out", "server"))
  fwsh.wait{ fn = function() return self:listening(M.stream_port) end, interval = 0.01, timeout = 5 }
  local client = self.nodes.client
  t.probe = client:spawn({ client:tool("probe"), "client", M.server, tostring(M.probe_port), "10" },
                         { stdout = self:file("probe-" .. tag .. ".out", "client") })
  t.started = fwsh.proc.clock() -- about when the probe started: its gap_at_ms counts from there
  t.stream = client:spawn({ client:tool("stream"), "client", M.server, tostring(M.stream_port),
                            tostring(o.rate or 200000) },
                          { stdout = self:file("stream-client-" .. tag .. ".out", "client") })
  local _, backup = self:master()
  if backup and not backup.stopped and o.replicated ~= false then
    t.replicated_ms = self:synced(backup.name, M.stream_port) * 1000
  end
  return t
end

--- lab:traffic_stop(traffic) -> { outage_ms=, sent=, received=, lost=,
--  stream = "survived" | "reset" | "lost N bytes", stream_sent=, stream_received= }
function Lab:traffic_stop(t)
  -- either may have ended on its own (the stream on a reset): what it
  -- printed says how, not a failed kill
  pcall(t.probe.kill, t.probe, "TERM")
  t.probe:wait(5)
  pcall(t.stream.kill, t.stream, "TERM")
  pcall(t.stream.wait, t.stream, 15)
  t.stream:stop(1)
  pcall(t.stream_server.wait, t.stream_server, 5)
  t.stream_server:stop(1)
  local r = {}
  local p = self:read("probe-" .. t.tag .. ".out", "client")
  r.sent, r.received, r.lost, r.outage_ms = p:match("sent (%d+) received (%d+) lost (%d+) max_gap_ms ([%d.]+)")
  r.outage_ms = tonumber(r.outage_ms)
  local gap_at = tonumber(p:match("gap_at_ms ([%d.]+)"))
  r.gap_at = t.started and gap_at and t.started + gap_at / 1000
  r.gap_at_ms, r.started = gap_at, t.started
  -- the timeline: each reply, ms from the probe's start (fwsh.plot draws it)
  r.replies = {}
  for ms in (p:match("\nreplies_ms([^\n]*)") or ""):gmatch("[%d.]+") do r.replies[#r.replies + 1] = tonumber(ms) end
  local c = self:read("stream-client-" .. t.tag .. ".out", "client")
  local s = self:read("stream-server-" .. t.tag .. ".out", "server")
  r.client_line, r.server_line = c:match("[^\n]*"), s:match("[^\n]*")
  if self.backend == "qemu" then
    -- the guest's writes reach the host's file by 9p: wait until they have
    fwsh.wait{ fn = function() return self:read("stream-client-" .. t.tag .. ".out", "client"):find("\n") ~= nil end,
               interval = 0.02, timeout = 5 }
    c = self:read("stream-client-" .. t.tag .. ".out", "client")
  end
  r.nat = self.nat
  r.hosts = self.hosts and #self.hosts or 1
  r.peer = s:match("\npeer ([%d.]+):%d+")
  local sent, acked, verdict = c:match("sent (%d+) acked (%d+) (%a+)")
  local got, sverdict = s:match("received (%d+) (%a+)")
  r.stream_sent, r.stream_received = tonumber(sent or c:match("sent (%d+)")), tonumber(got)
  if verdict == "ok" and sverdict == "ok" and tonumber(acked) == tonumber(got) then
    r.stream = "survived"
  elseif c:find("reset") or (s:find("reset")) then
    r.stream = "reset"
  elseif r.stream_sent and r.stream_received then
    r.stream = string.format("lost %d bytes", r.stream_sent - r.stream_received)
  else
    r.stream = "failed (client: " .. (r.client_line or "") .. "; server: " .. (r.server_line or "") .. ")"
  end
  return r
end

--- lab:dropped() -> { ["fw-1"] = { forward = PACKETS, input = PACKETS }, ["fw-2"] = ... }:
--  what each running firewall's ruleset dropped so far, read from its
--  counters (a firewall that is down has no entry)
function Lab:dropped()
  local out = {}
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    local n = self.nodes[name]
    if n and not n.stopped then
      local r = n:run({ "nft", "list", "counters", "table", "inet", "fwsh" })
      if r.ok then
        local d = {}
        for chain, packets in r.out:gmatch("counter (%a+)_dropped {%s*packets (%d+)") do
          d[chain] = tonumber(packets)
        end
        out[name] = d
      end
    end
  end
  return out
end

--- firewall.dropped_since(before, after) -> packets: how many more the
--  forward chains of the firewalls running at both times dropped (two
--  lab:dropped() readings)
function M.dropped_since(before, after)
  local n = 0
  for fw, d in pairs(after or {}) do
    local b = (before or {})[fw]
    if b then n = n + (d.forward or 0) - (b.forward or 0) end
  end
  return n
end

--- lab:ftp_serve([{size=BYTES, rate=BYTES_PER_S}]) -> file name: an FTP
--  server (vsftpd) on the server side, anonymous, serving one file of size
--  bytes (default 4 MiB) at rate (default 1 MiB/s, so that a transfer lasts
--  long enough to fail a firewall during it); passive ports 40000-40099.
--  Started once; stopped with the lab. Needs firewall.build{ftp=...}.
function Lab:ftp_serve(o)
  o = o or {}
  if not self.ftp then error("firewall: lab:ftp_serve needs a lab built with ftp = \"rule\" or \"none\"", 2) end
  if self.hosts then error("firewall: lab:ftp_serve: not yet on a lab across hosts", 2) end
  if self.ftp_file then return self.ftp_file end
  local root, empty = self:file("ftp"), self:file("ftp-empty")
  fwsh.proc.run({ "mkdir", "-p", "-m", "755", root, empty })
  local size = o.size or 4 * 1024 * 1024
  local block = {}
  for i = 1, 4096 do block[i] = string.char((i * 7) % 251) end
  block = table.concat(block)
  write(root .. "/data.bin", block:rep(size // #block) .. block:sub(1, size % #block), "wb")
  local conf = self:file("vsftpd.conf")
  write(conf, ftp.server_config{ address = M.server, root = root, empty = empty,
                                 log = self:file("vsftpd.log"), rate = o.rate or 1024 * 1024 })
  self.ftp_server = self:spawn_host(ftp.server_argv{ conf = conf }, self:file("vsftpd.out"))
  fwsh.wait{ fn = function() return listening(M.ftp_port) end, interval = 0.01, timeout = 5 }
  self.ftp_file, self.ftp_size = "data.bin", size
  return self.ftp_file
end

--- lab:ftp_get{mode="passive"|"active", pause=SECONDS} -> transfer: the
--  client logs in to the server (lab:ftp_serve), waits pause seconds, gets
--  the file, sends a NOOP, quits; in the background. transfer:phase() ->
--  "connecting", "logged-in", "transferring", "done"; lab:ftp_result(transfer)
--  waits for its end
function Lab:ftp_get(o)
  o = o or {}
  local file = self:ftp_serve()
  self.ftp_runs = (self.ftp_runs or 0) + 1
  local tag = "ftp-" .. self.ftp_runs
  local t = { tag = tag, log = self:file(tag .. ".log"), out = self:file(tag .. ".bin"),
              script = self:file(tag .. ".lftp"), mode = o.mode or "passive" }
  write(t.script, ftp.client_script{ host = M.server, file = file, out = t.out, log = t.log,
                                     mode = t.mode, pause = o.pause or 0 })
  local client = self.nodes.client
  t.proc = client:spawn({ "env", "HOME=" .. self.dir, "lftp", "-f", t.script },
                        { stdout = self:file(tag .. ".out") })
  t.phase = function()
    local r = ftp.client_result(self:read(tag .. ".log"))
    return r.transfer_done and "done" or r.transfer_started and "transferring"
           or r.logged_in and "logged-in" or "connecting"
  end
  return t
end

--- lab:ftp_result(transfer [, timeout]) -> { control = "survived"|"reconnected"|"lost",
--  transfer = "survived"|"failed", bytes=, connects=, data_mode= }: once the
--  client has ended (killed after timeout seconds, default 60); the file is
--  compared byte for byte with the server's
function Lab:ftp_result(t, timeout)
  local ok = pcall(t.proc.wait, t.proc, timeout or 60)
  if not ok then t.proc:stop(1) end
  local r = ftp.client_result(self:read(t.tag .. ".log"), self:read(t.tag .. ".out"))
  local got = self:read(t.tag .. ".bin")
  local want = self:read("ftp/" .. self.ftp_file)
  r.bytes = #got
  r.transfer = (r.transfer_done and got == want) and "survived" or "failed"
  r.control = r.connects == 1 and r.noops >= 2 and "survived" or r.connects > 1 and "reconnected" or "lost"
  r.mode = t.mode
  return r
end

M.modes = { "power", "hang", "client-cable", "server-cable", "sync-cut" }

--- lab:failover(mode [, {down=SECONDS}]) -> result: one experiment with traffic
--  flowing (see lab:traffic_start): the master fails as mode says, the
--  backup takes over, traffic goes on through it for 2 s, and the failed one
--  comes back as backup (nopreempt). Modes:
--    power          it loses power (node:fail "power")
--    hang           it hangs, links up (node:fail "hang")
--    client-cable   its eth1 (br1) loses its link for down seconds (default 1)
--    server-cable   its eth0 (br0) the same
--    sync-cut       its eth2 (br2, conntrackd's link) the same: nobody fails
--                   over, and traffic must not notice
--  result: the fields of lab:traffic_stop, plus mode, from, to, mac_ms
--  (br1 learned the client-side VRRP MAC on the new master's port), mac0_ms (br0)
function Lab:failover(mode, o)
  o = o or {}
  local master, backup = self:master()
  if not master then error("firewall: no firewall holds the virtual IPs", 2) end
  local cable = ({ ["client-cable"] = "eth1", ["server-cable"] = "eth0", ["sync-cut"] = "eth2" })[mode]
  if not cable and mode ~= "power" and mode ~= "hang" then
    error("firewall: failover mode is one of " .. table.concat(M.modes, ", ") .. ", not " .. tostring(mode), 2)
  end
  local dropped0 = self:dropped()
  local traffic = self:traffic_start()
  self:hold(0.5)                                  -- steady state before the failure
  local t0 = fwsh.proc.clock()
  local r = { mode = mode, from = master.name }
  if cable then
    master:cut(cable)
    master:wait_link(cable, { carrier = false, timeout = 2 * self.patience })
  else
    master:fail(mode)
  end
  if mode == "sync-cut" then
    self:hold(o.down or 1)
    r.to = (self:master() or master).name          -- nobody should have taken over
  else
    local function since() return (fwsh.proc.clock() - t0) * 1000 end
    if mode == "server-cable" then
      self:wait_master_server(backup.name); r.mac0_ms = since()
      self:wait_master(backup.name); r.mac_ms = since()
    else
      self:wait_master(backup.name); r.mac_ms = since()
      self:wait_master_server(backup.name); r.mac0_ms = since()
    end
    r.to = backup.name
    if cable then
      local left = (o.down or 1) - (fwsh.proc.clock() - t0)
      if left > 0 then self:hold(left) end
    end
  end
  if cable then
    master:restore(cable)
    master:wait_link(cable, { carrier = true, timeout = 2 * self.patience })
  end
  self:hold(2)                                     -- traffic goes on through the new master
  r.dropped = M.dropped_since(dropped0, self:dropped())
  for k, v in pairs(self:traffic_stop(traffic)) do r[k] = v end
  r.replicated_ms = traffic.replicated_ms
  -- when the largest gap began, from the fault (the probe's own start is
  -- known to a few ms): a gap long after the takeover is no detection delay
  if r.gap_at then r.gap_from_ms = (r.gap_at - t0) * 1000 end
  if r.started then
    r.fault_ms = (t0 - r.started) * 1000
    if r.mac_ms then r.takeover_ms = r.fault_ms + r.mac_ms end
  end
  if not cable then master:start() end             -- back, as backup
  self:wait_ready(master.name)
  return r
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
  local f = io.open(self:file(name), "r")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

--- lab:close(): stops and reaps every process, removes nodes, bridges and
-- the lab's directory. Also as the lab's __close (on errors, on Ctrl-C).
function Lab:close()
  if self.closed then return end
  self.closed = true
  local first
  local function try(fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok and not first then first = err end
  end
  -- captures first: their files complete, and none holds a node's namespace
  for i = #self.captures, 1, -1 do try(self.captures[i].stop, self.captures[i]) end
  for i = #self.procs, 1, -1 do try(self.procs[i].stop, self.procs[i], 1) end
  for _, name in ipairs({ "client", "fw-2", "fw-1" }) do
    if self.nodes[name] then try(self.nodes[name].down, self.nodes[name]) end
  end
  -- Only what build() made: a bridge or tap that was there before (ensure
  -- accepted it) stays, with the route, if it was not ours either.
  if self.route_made then
    try(self:api("server").route.delete, { dst = "10.1.0.0/24", via = "10.0.0.254" })
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
  if self.dir and os.getenv("FWSH_LAB_KEEP") then
    io.stderr:write("firewall lab: logs and configuration kept in ", self.dir, "\n")
  elseif self.dir then
    try(fwsh.lab_dir_remove, self.dir)
  end
  if first then error(first, 0) end
end
Lab.__close = function(self) Lab.close(self) end

-- The nodes' qemu options: the lab's own (o.qemu), with its display.
local function qemu_opts(lab, o)
  if not o.display or lab.backend ~= "qemu" then return o.qemu end
  local q = {}
  for k, v in pairs(o.qemu or {}) do q[k] = v end
  q.display = o.display
  return q
end

local client_spec, start_nodes, build_across

local function firewall_node(lab, name, o)
  local a = FW[name]
  local n = node.new{
    name = name, dir = lab.dir, backend = lab.backend, qemu = qemu_opts(lab, o),
    ports = {
      { name = "eth0", bridge = "br0", tap = a.taps.eth0, address = a.eth0 },
      { name = "eth1", bridge = "br1", tap = a.taps.eth1, address = a.eth1 },
      { name = "eth2", bridge = "br2", tap = a.taps.eth2, address = a.eth2 },
    },
    sysctls = {
      { "net/ipv6/conf/default/disable_ipv6", "1" }, { "net/ipv6/conf/all/disable_ipv6", "1" },
      { "net/ipv4/ip_forward", "1" },
      { "net/ipv4/conf/all/rp_filter", "0" }, { "net/ipv4/conf/default/rp_filter", "0" },
    },
  }
  -- where a daemon's socket, lock and pid files go: the node's own /run in
  -- a VM (a socket cannot live on the 9p share), the lab's directory otherwise
  local function run_file(what)
    return lab.backend == "qemu" and "/run/" .. what or lab:file(name .. "-" .. what)
  end
  local master = (o.master or "fw-1") == name
  local prio = master and 150 or 100
  local ctconf = lab:file(name .. "-conntrackd.conf")
  local kaconf = lab:file(name .. "-keepalived.conf")
  n.conntrackd_conf = ctconf
  write(ctconf, conntrackd.config{
    local_address = a.sync, peer_address = a.peer, interface = "eth2", port = M.sync_port,
    socket = run_file("conntrackd.ctl"), lock = run_file("conntrackd.lock"),
    log = lab:file(name .. "-conntrackd.log"),
    ignore = { "127.0.0.1", "10.2.0.1", "10.2.0.2", "10.0.0.2", "10.0.0.3", "10.1.0.2",
               "10.1.0.3", "10.1.0.1", "10.0.0.254" },
    expectations = o.ftp and { "ftp" } or nil,
  })
  local instance = function(side, iface, vip, vmac)
    return { name = side, interface = iface, vrid = M.vrid[side:lower()], priority = prio,
             advert_int = o.advert_int or M.advert_int[lab.backend], version = o.version or 3, vips = { vip },
             vmac = vmac, nopreempt = o.preempt ~= true }
  end
  write(kaconf, keepalived.config{
    router_id = name,
    sync_group = {
      name = "FW",
      -- conntrackd's primary-backup.sh, as commands keepalived runs itself:
      -- a new master commits the peer's connections into its kernel table;
      -- a backup asks the master for a full resync.
      notify_master = conntrackd.ctl(ctconf, "-c"),
      notify_backup = conntrackd.ctl(ctconf, "-n"),
    },
    instances = {
      instance("CLIENT", "eth1", "10.1.0.1/32", "vc51"),
      instance("SERVER", "eth0", "10.0.0.254/32", "vs52"),
    },
  })
  -- A restarted firewall comes back as a rebooted one would: without the
  -- virtual MAC links and addresses keepalived left, with an empty conntrack
  -- table (a VM does reboot).
  n.reset = function()
    n:exec(function()
      node.sysctl("net/ipv4/ip_forward", "1")
      for _, l in ipairs({ "vc51", "vs52" }) do
        if fwsh.link.exists(l) then fwsh.link.get(l):delete() end
      end
    end)
    n:run{ "conntrack", "-F" }
    -- and without the files a killed conntrackd left (a reboot clears /run)
    require("fwsh.effect").remove(lab:file(name .. "-conntrackd.lock"))
    require("fwsh.effect").remove(lab:file(name .. "-conntrackd.ctl"))
  end
  -- once up, before its daemons: the firewall's own settings and ruleset
  n.setup = function(self)
    if not o.tcp_loose then self:sysctl("net/netfilter/nf_conntrack_tcp_loose", "0") end
    self:nft(o.ruleset)
  end
  n:daemon("conntrackd", conntrackd.argv{ conf = ctconf })
  n:daemon("keepalived", keepalived.argv{ conf = kaconf, pid = run_file("keepalived.pid"),
                                          vrrp_pid = run_file("vrrp.pid") })
  return n
end

--- firewall.node_on_host(name, o) -> node: firewall name (fw-1, fw-2) built
--  here, in the directory o.dir, from build's options (firewall_node's o,
--  data only): how a lab across hosts builds a firewall on its host
function M.node_on_host(name, o)
  if not FW[name] then error("firewall.node_on_host: fw-1 or fw-2, not " .. tostring(name), 2) end
  local site = setmetatable({ dir = o.dir, backend = o.backend or "netns" }, Lab)
  return firewall_node(site, name, o)
end

-- The client's node: on br1, the VRRP address its gateway.
function client_spec(lab, o, dir)
  return { name = "client", dir = dir, backend = lab.backend, qemu = qemu_opts(lab, o),
    ports = { { name = "eth0", bridge = "br1", tap = "net13", address = "10.1.0.10/24" } },
    routes = { { dst = "default", via = "10.1.0.1" } },
    sysctls = { { "net/ipv6/conf/default/disable_ipv6", "1" }, { "net/ipv6/conf/all/disable_ipv6", "1" } } }
end

-- Starts the nodes, the first master first (with nopreempt, whoever timed
-- out first would win otherwise): it takes both virtual IPs before its peer
-- starts; VMs: the second firewall and the client boot side by side, once
-- the first is master.
function start_nodes(lab, o)
  local first = o.master or "fw-1"
  local second = first == "fw-1" and "fw-2" or "fw-1"
  -- VMs take seconds each: a terminal sees which step the build is at
  local function step(text) if lab.backend == "qemu" then M.progress("firewall lab: " .. text) end end
  step("booting " .. first)
  lab.nodes[first]:up()
  lab:wait_ready(first)
  lab:wait_master(first)
  step(first .. " is master; booting " .. second .. " and the client")
  lab.nodes[second]:launch()
  lab.nodes.client:launch()
  lab.nodes[second]:ready()
  lab:wait_ready(second)
  step(second .. " is backup; waiting for the client")
  lab.nodes.client:ready()
  lab.nodes.client:wait_run({ "ping", "-c1", "-W1", M.server }, 10 * lab.patience)
  step("")
end

M.vni = 4200 -- br0, br1, br2 stretched across hosts: VNI 4200, 4201, 4202

-- The lab across two hosts (o.hosts: a count, emulated here by fwsh.emulate,
-- or a list of fwsh.hosts.host options): fw-1 and the client on the first,
-- fw-2 and the server side (br0's address, the route back) on the second;
-- br0, br1 and br2 on both, stretched by VXLAN (fwsh.hosts.stretch).
function build_across(lab, o, fo)
  local hosts = require "fwsh.hosts"
  local list = o.hosts
  if type(o.hosts) == "number" then
    lab.emulated = require("fwsh.emulate").start(o.hosts)
    list = lab.emulated
  end
  if #list ~= 2 then error("firewall.build: hosts is 2: fw-1 on the first, fw-2 on the second", 0) end
  lab.made_at, lab.host_dir, lab.dir_at = {}, {}, {}
  lab.hosts = hosts.connect(list)
  local a, b = lab.hosts[1], lab.hosts[2]
  lab.at = { ["fw-1"] = a, client = a, ["fw-2"] = b, server = b }
  for _, h in ipairs(lab.hosts) do
    lab.host_dir[h] = h.lab_dir()
    local made = {}
    lab.made_at[h] = made
    local function mine(l, created)
      if created then made[#made + 1] = node.made(l) end
      return l
    end
    mine(h.bridge.ensure("br0", h == b and { grounding = true, address = M.server .. "/24" } or { grounding = false }))
    mine(h.bridge.ensure("br1", { grounding = false }))
    mine(h.bridge.ensure("br2", { grounding = false }))
  end
  for role, h in pairs(lab.at) do lab.dir_at[role] = lab.host_dir[h] end
  for k, br in ipairs({ "br0", "br1", "br2" }) do
    local va, vb = hosts.stretch(br, a, b, { id = M.vni + k - 1, dev_a = list[1].dev, dev_b = list[2].dev })
    lab.made_at[a][#lab.made_at[a] + 1] = node.made(va)
    lab.made_at[b][#lab.made_at[b] + 1] = node.made(vb)
  end
  if not o.nat then
    b.route.add{ dst = "10.1.0.0/24", via = "10.0.0.254" }
    lab.route_made = true
  end
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    local h = lab.at[name]
    local ho = {}
    for k, v in pairs(fo) do ho[k] = v end
    ho.dir = lab.dir_at[name]
    lab.nodes[name] = h.require("fwsh.firewall").node_on_host(name, ho)
  end
  lab.nodes.client = a.require("fwsh.node").new(client_spec(lab, o, lab.dir_at.client))
end

--- firewall.build{master="fw-1", advert_int=, version=3, backend="netns",
--  tcp_loose=false, nat=false, nat_to="10.0.0.254", ftp=nil, display=nil} -> lab, built and
--  running (nat: the firewalls translate the client network's addresses to
--  nat_to, the server side's virtual IP by default, and the host has no
--  route back to the client network; ftp: the client may use FTP on the
--  server, "rule" with the ftp conntrack helper set by a rule and its
--  expectations replicated by conntrackd, "none" without a helper; see
--  lab:ftp_serve; display: "vnc" or "spice", a screen on each VM, its
--  address node.display and `fwsh console LAB NODE --display`): the master holds both virtual
--  IPs and the client reaches the server. All of it, or nothing (a failure
--  tears down what was made). tcp_loose=false (default) makes the firewalls'
--  conntrack refuse to pick up a TCP connection mid-stream, so only
--  conntrackd's replicated state lets an established connection survive.
function M.build(o)
  o = o or {}
  if o.master and not FW[o.master] then error("firewall.build: master is fw-1 or fw-2", 2) end
  -- made (and a bad address refused) before anything else is
  local nat = o.nat and nftables.nat{ from = "10.1.0.0/24", out = { "eth0", "vs52" },
                                      to = o.nat_to or M.vip.server, server_net = "10.0.0.0/24" } or ""
  if o.display ~= nil and (o.backend ~= "qemu" or (o.display ~= "vnc" and o.display ~= "spice")) then
    error("firewall.build: display is \"vnc\" or \"spice\", with the qemu backend", 2)
  end
  if o.ftp ~= nil and o.ftp ~= "rule" and o.ftp ~= "none" then
    error("firewall.build: ftp is \"rule\" (a ct helper by rule) or \"none\" (no helper)", 2)
  end
  local services = { { proto = "tcp", port = M.stream_port }, { proto = "udp", port = M.probe_port },
                     { proto = "icmp" } }
  if o.ftp then
    services[#services + 1] = { proto = "tcp", port = M.ftp_port, helper = o.ftp == "rule" and "ftp" or nil }
  end
  if o.hosts ~= nil and (o.backend or "netns") ~= "netns" then
    error("firewall.build: a lab across hosts has netns nodes (qemu on hosts: not yet)", 2)
  end
  if o.hosts ~= nil and o.ftp then error("firewall.build: ftp: not yet on a lab across hosts", 2) end
  local lab = setmetatable({ nodes = {}, procs = {}, made = {}, captures = {}, bridges = {},
                             backend = o.backend or "netns", nat = o.nat == true, ftp = o.ftp }, Lab)
  -- A VM answers later than a namespace (under TCG, much later): every
  -- deadline of the lab is this many times longer.
  lab.patience = lab.backend == "qemu" and 4 or 1
  -- what each firewall node is built from (data: on a lab across hosts, it
  -- is built on its host, by firewall.node_on_host)
  local fo = {}
  for k, v in pairs(o) do if k ~= "hosts" then fo[k] = v end end
  fo.ruleset = nftables.firewall{
    client = { ifaces = { "eth1", "vc51" }, net = "10.1.0.0/24" },
    server = { ifaces = { "eth0", "vs52" }, net = "10.0.0.0/24" },
    sync = { iface = "eth2", port = M.sync_port },
    services = services,
  } .. nat
  local ok, err = pcall(function()
    if o.hosts then
      build_across(lab, o, fo)
      return start_nodes(lab, o)
    end
    -- /tmp/fwsh-LAB.XXXXXX, tagged: `fwsh down LAB` removes it if this run is killed.
    lab.dir = fwsh.lab_dir()
    local made = {}
    local function mine(l, created)
      if created then made[#made + 1] = node.made(l) end
      return l
    end
    fwsh.transaction(function()
      lab.bridges.br0 = mine(fwsh.bridge.ensure("br0", { grounding = true, address = M.server .. "/24" }))
      lab.bridges.br1 = mine(fwsh.bridge.ensure("br1", { grounding = false }))
      lab.bridges.br2 = mine(fwsh.bridge.ensure("br2", { grounding = false }))
      if lab.backend == "qemu" then
        for _, t in ipairs({ { "net01", "br0" }, { "net02", "br0" }, { "net11", "br1" },
                             { "net12", "br1" }, { "net13", "br1" }, { "net21", "br2" },
                             { "net22", "br2" } }) do
          mine(fwsh.tap.ensure(t[1], { bridge = t[2] }))
        end
      end
      -- With NAT the server answers the virtual IP, on its own network: no route back.
      if not o.nat then fwsh.route.add{ dst = "10.1.0.0/24", via = "10.0.0.254" } end
    end)
    lab.made, lab.route_made = made, not o.nat
    for _, name in ipairs({ "fw-1", "fw-2" }) do
      lab.nodes[name] = firewall_node(lab, name, fo)
    end
    lab.nodes.client = node.new(client_spec(lab, o, lab.dir))
    start_nodes(lab, o)
  end)
  if not ok then
    if lab.backend == "qemu" then M.progress("") end
    pcall(Lab.close, lab)
    error(err, 0)
  end
  return lab
end

local function median(v)
  local s = {}
  for i, x in ipairs(v) do s[i] = x end
  table.sort(s)
  if #s == 0 then return 0 end
  return #s % 2 == 1 and s[(#s + 1) // 2] or (s[#s // 2] + s[#s // 2 + 1]) / 2
end

-- The nearest-rank percentile p of v (sorted or not).
local function percentile(v, p)
  local s = {}
  for i, x in ipairs(v) do s[i] = x end
  table.sort(s)
  if #s == 0 then return 0 end
  return s[math.max(1, math.ceil(p / 100 * #s))]
end

--- firewall.stats(values) -> "min / median / p95 / max" of the numbers, one decimal
function M.stats(v)
  if #v == 0 then return "-" end
  return string.format("%.1f / %.1f / %.1f / %.1f", percentile(v, 0), median(v), percentile(v, 95),
                       percentile(v, 100))
end

--- firewall.report(title, results): prints one row per run (outage_ms: the
-- largest gap in probe replies; mac_ms, mac0_ms: from the fault until br1,
-- br0 learned the client-side, server-side VRRP MAC on the new master's port;
-- lost: probe replies missing) and then the summary lines every scenario ends
-- with: the min/median/p95/max lines, outage_ms (the largest), and tcp_stream
-- (the first run that did not survive)
--- firewall.plot(results, path): each run's outage timeline as an SVG
--  (fwsh.plot): path, or path-N.svg for run N of several; prints "plot: FILE"
function M.plot(results, path)
  local plot = require "fwsh.plot"
  for i, r in ipairs(results) do
    local file = #results == 1 and path or (path:gsub("%.svg$", "") .. "-" .. i .. ".svg")
    plot.timeline(file, { replies = r.replies, fault_ms = r.fault_ms, takeover_ms = r.takeover_ms,
                          outage_ms = r.outage_ms, gap_at_ms = r.gap_at_ms,
                          title = string.format("run %d: %s -> %s, %s: outage %.1f ms", i, r.from or "?",
                                                r.to or "?", r.mode or "failover", r.outage_ms or -1) })
    print("plot: " .. file)
  end
end

function M.report(title, results)
  print(string.format("%s: %d run(s)", title, #results))
  print(string.format("%-4s %-6s %-6s %10s %8s %8s %6s  %s", "run", "from", "to", "outage_ms", "mac_ms",
                      "mac0_ms", "lost", "tcp_stream"))
  local outages, macs, stream = {}, {}, "survived"
  for i, r in ipairs(results) do
    print(string.format("%-4d %-6s %-6s %10.1f %8s %8s %6s  %s (sent %s, received %s)", i, r.from or "-",
                        r.to or "-", r.outage_ms or -1, r.mac_ms and string.format("%.1f", r.mac_ms) or "-",
                        r.mac0_ms and string.format("%.1f", r.mac0_ms) or "-",
                        r.lost or "-", r.stream, tostring(r.stream_sent), tostring(r.stream_received)))
    outages[#outages + 1] = r.outage_ms or math.huge
    if r.mac_ms then macs[#macs + 1] = r.mac_ms end
    if r.stream ~= "survived" and stream == "survived" then stream = r.stream end
  end
  print("outage_ms min/median/p95/max: " .. M.stats(outages))
  if #macs > 0 then print("mac_move_ms min/median/p95/max: " .. M.stats(macs)) end
  if results[1] then
    print("nat: " .. (results[1].nat and "on" or "off"))
    local peers = {}
    for _, r in ipairs(results) do if r.peer then peers[r.peer] = true end end
    local list = {}
    for p in pairs(peers) do list[#list + 1] = p end
    table.sort(list)
    print("stream_peer: " .. (#list > 0 and table.concat(list, ", ") or "-") .. " (as the server saw it)")
  end
  local dropped, counted = 0, false
  for _, r in ipairs(results) do
    if r.dropped then dropped, counted = dropped + r.dropped, true end
  end
  if counted then
    print(string.format("dropped_forward: %d (packets the firewalls' forward chains dropped during the runs)",
                        dropped))
  end
  if results[1] and results[1].hosts then print("hosts: " .. results[1].hosts) end
  print(string.format("outage_ms: %d", math.floor(percentile(outages, 100) + 0.5)))
  print("tcp_stream: " .. stream)
  return stream == "survived"
end

--- firewall.args(arg) -> options from the command line: --master fw-2,
--  --advert SECONDS, --version 2|3, --reps N, --backend netns|qemu, --loose,
--  --fail power|hang (fw1-dies), --mode MODE (failover.lua: see
--  lab:failover), --down SECONDS (how long a cable stays pulled), --nat,
--  --display vnc|spice (a screen on each VM), --capture FILE (the
--  scenario's packets on br2, or on --capture-link LINK, kept as evidence
--  in FILE: see firewall.capture), --plot FILE.svg (each run's outage
--  timeline, fwsh.plot: FILE.svg, or FILE-N.svg for run N of several)
local function hosts_arg(v)
  local n = math.tointeger(tonumber(v))
  if n then return n == 2 and n or nil end
  return require("fwsh.hosts").read(v)
end

function M.args(argv)
  local usage = "--master fw-1|fw-2, --advert S, --version 2|3, --reps N, --backend netns|qemu, "
                .. "--fail power|hang, --mode " .. table.concat(M.modes, "|") .. ", --down S, --loose, --nat, "
                .. "--display vnc|spice, --capture FILE, --capture-link br0|br1|br2, --plot FILE.svg, "
                .. "--hosts 2|FILE"
  local function value(a, v, check, what)
    local x = v and check(v)
    if x == nil then error(string.format("%s needs %s (%s)", a, what, usage), 0) end
    return x
  end
  local function number(v) return tonumber(v) end
  local function count(v) local n = math.tointeger(tonumber(v)) return n and n > 0 and n or nil end
  local function one_of(...)
    local set = {}
    for _, x in ipairs({ ... }) do set[x] = x end
    return function(v) return set[v] end
  end
  local o = {}
  local i = 1
  while argv and argv[i] do
    local a, v = argv[i], argv[i + 1]
    if a == "--master" then o.master = value(a, v, one_of("fw-1", "fw-2"), "fw-1 or fw-2"); i = i + 2
    elseif a == "--advert" then o.advert_int = value(a, v, number, "seconds"); i = i + 2
    elseif a == "--version" then o.version = value(a, v, function(x) return ({ ["2"] = 2, ["3"] = 3 })[x] end, "2 or 3"); i = i + 2
    elseif a == "--reps" then o.reps = value(a, v, count, "a count"); i = i + 2
    elseif a == "--backend" then o.backend = value(a, v, one_of("netns", "qemu"), "netns or qemu"); i = i + 2
    elseif a == "--loose" then o.tcp_loose = true; i = i + 1
    elseif a == "--nat" then o.nat = true; i = i + 1
    elseif a == "--plot" then o.plot = value(a, v, function(x) return x ~= "" and x or nil end, "a file"); i = i + 2
    elseif a == "--display" then o.display = value(a, v, one_of("vnc", "spice"), "vnc or spice"); i = i + 2
    elseif a == "--fail" then o.fail = value(a, v, one_of("power", "hang"), "power or hang"); i = i + 2
    elseif a == "--mode" then o.mode = value(a, v, one_of(table.unpack(M.modes)), "a mode"); i = i + 2
    elseif a == "--down" then o.down = value(a, v, number, "seconds"); i = i + 2
    elseif a == "--capture" then o.capture = value(a, v, function(x) return x ~= "" and x or nil end, "a file"); i = i + 2
    elseif a == "--hosts" then o.hosts = value(a, v, hosts_arg, "2, or a file of hosts"); i = i + 2
    elseif a == "--capture-link" then o.capture_link = value(a, v, one_of("br0", "br1", "br2"), "br0, br1 or br2"); i = i + 2
    else error("unknown option " .. a .. " (" .. usage .. ")", 0) end
  end
  return o
end

--- firewall.capture(lab, o) -> capture or nil: with --capture FILE (o.capture),
--  lab:capture of br2 (o.capture_link) into FILE, for a scenario to keep
--  what went over the wire during its runs; firewall.capture_done(capture,
--  o) stops it and prints "capture: FILE (N packets)"
function M.capture(lab, o)
  if not o.capture then return nil end
  return lab:capture(o.capture_link or "br2", { file = o.capture })
end

function M.capture_done(c, o)
  if not c then return end
  local n, dropped = c:stop()
  print(string.format("capture: %s (%d packets%s)", o.capture, n,
                      dropped > 0 and string.format(", %d dropped by the kernel", dropped) or ""))
end

--- firewall.main(...) -> builds the lab from the command line's options (see
--  firewall.args), shows the master and a ping through it, tears it down
function M.main(...)
  local o = M.args({ ... })
  local lab <close> = M.build(o)
  if lab.backend == "qemu" then
    for _, name in ipairs({ "fw-1", "fw-2", "client" }) do
      local n = lab.nodes[name]
      print(string.format("%s: qemu pid %d, %s, booted and configured in %.1f s%s", name, n.vm:pid(),
                          n.accel, n.boot_s or -1, n.display and (", display " .. n.display) or ""))
    end
  end
  local master = lab:master()
  print(string.format("master: %s (VRRP MAC %s on br1)", master and master.name or "none", M.vmac.client))
  local r = lab.nodes.client:run{ "ping", "-c3", "-i0.2", M.server }
  io.write(r.out)
  io.write(lab.nodes[master.name]:run{ "nft", "list", "counter", "inet", "fwsh", "forward_dropped" }.out)
end

return M
