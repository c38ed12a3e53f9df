-- traffic.lua - the firewall lab's experiments: a UDP probe and a counted
-- TCP stream through the master, an FTP transfer, the drop counters, and a
-- failover of one kind with traffic flowing. Methods of the lab
-- (fwsh.firewall.lab); what they measure is flat, for reports and verdicts.
local fwsh = fwsh or require "fwsh"
local ftp = require "fwsh.ftp"
local T = require "fwsh.firewall.topology"
local base = require "fwsh.firewall.lab"
local errors = require "fwsh.errors"
require "fwsh.firewall.flows" -- lab:flows_start, lab:flows_stop: failover's o.flows

local M = {}
local Lab = base.Lab
local write, listening = base.write, base.listening

--- lab:traffic_start([{rate=BYTES_PER_S, replicated=true, backup=NODE}]) -> traffic:
-- a 10 ms UDP probe and a counted TCP stream from the client to the server,
-- running through the master; returns once the stream's connection is
-- replicated to the backup (unless replicated=false, or the backup runs its
-- own image: nothing asks its conntrackd; backup: that node, else the one
-- lab:master() says now), or once lab:synced gave up: a replication that
-- did not come is a result (traffic.replicated "no", the conntrackds' report
-- on standard error), for a verdict to name, not an error
function Lab:traffic_start(o)
  o = o or {}
  self.runs = (self.runs or 0) + 1
  local tag = tostring(self.runs)
  local t = { tag = tag }
  if not self.probe_server then
    self.probe_server = self:spawn_host({ self:tool("server", "probe"), "server", tostring(T.probe_port) })
  end
  t.stream_server = self:spawn_host({ self:tool("server", "stream"), "server", tostring(T.stream_port) },
                                    self:file("stream-server-" .. tag .. ".out", "server"))
  fwsh.wait{ fn = function() return self:listening(T.stream_port) end, interval = 0.01, timeout = 5 }
  local client = self.nodes.client
  t.probe = client:spawn({ client:tool("probe"), "client", T.server, tostring(T.probe_port), "10" },
                         { stdout = self:file("probe-" .. tag .. ".out", "client") })
  t.started = fwsh.proc.clock() -- about when the probe started: its gap_at_ms counts from there
  t.stream = client:spawn({ client:tool("stream"), "client", T.server, tostring(T.stream_port),
                            tostring(o.rate or 200000) },
                          { stdout = self:file("stream-client-" .. tag .. ".out", "client") })
  -- the caller may know the backup better than the FDB does now: with many
  -- connections running the virtual MACs move between the two firewalls' ports
  local backup = o.backup or select(2, self:master())
  if backup and not backup.stopped and o.replicated ~= false and not backup.agentless then
    local ok, waited = pcall(self.synced, self, backup.name, T.stream_port)
    if ok then
      t.replicated, t.replicated_ms = "yes", waited * 1000
    else
      t.replicated = "no"
      io.stderr:write(tostring(waited), "\n")
    end
  end
  return t
end

--- lab:traffic_stop(traffic) -> { outage_ms=, sent=, received=, lost=,
--  stream = "survived" | "reset" | "lost N bytes", stream_sent=, stream_received=,
--  replicated = "yes" | "no" | nil (not waited for), replicated_ms= }
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
  r.replicated, r.replicated_ms = t.replicated, t.replicated_ms
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
--  counters (a firewall that is down, or runs its own image, has no entry)
function Lab:dropped()
  local out = {}
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    local n = self.nodes[name]
    if n and not n.stopped and not n.agentless then
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
--  lab:dropped() readings); nil when none was read both times (firewalls
--  from their own images: nothing is read inside them)
function M.dropped_since(before, after)
  local n, counted = 0, false
  for fw, d in pairs(after or {}) do
    local b = (before or {})[fw]
    if b then n, counted = n + (d.forward or 0) - (b.forward or 0), true end
  end
  return counted and n or nil
end

--- lab:ftp_serve([{size=BYTES, rate=BYTES_PER_S}]) -> file name: an FTP
--  server (vsftpd) on the server side, anonymous, serving one file of size
--  bytes (default 4 MiB) at rate (default 1 MiB/s, so that a transfer lasts
--  long enough to fail a firewall during it); passive ports 40000-40099.
--  Started once; stopped with the lab. Needs firewall.build{ftp=...}.
function Lab:ftp_serve(o)
  o = o or {}
  if not self.ftp then errors.raise("lab:ftp_serve", T.server, "needs a lab built with ftp = \"rule\" or \"none\"") end
  if self.hosts then errors.raise("lab:ftp_serve", T.server, "not yet on a lab across hosts") end
  if self.ftp_file then return self.ftp_file end
  local root, empty = self:file("ftp"), self:file("ftp-empty")
  fwsh.proc.run({ "mkdir", "-p", "-m", "755", root, empty })
  local size = o.size or 4 * 1024 * 1024
  local block = {}
  for i = 1, 4096 do block[i] = string.char((i * 7) % 251) end
  block = table.concat(block)
  write(root .. "/data.bin", block:rep(size // #block) .. block:sub(1, size % #block), "wb")
  local conf = self:file("vsftpd.conf")
  write(conf, ftp.server_config{ address = T.server, root = root, empty = empty,
                                 log = self:file("vsftpd.log"), rate = o.rate or 1024 * 1024 })
  self.ftp_server = self:spawn_host(ftp.server_argv{ conf = conf }, self:file("vsftpd.out"))
  fwsh.wait{ fn = function() return listening(T.ftp_port) end, interval = 0.01, timeout = 5 }
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
  write(t.script, ftp.client_script{ host = T.server, file = file, out = t.out, log = t.log,
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

-- Whether a pulled cable is seen inside the node as its carrier, to wait for:
-- not in a VM whose tap goes down (qemu.cable = "tap": it keeps its carrier),
-- and nothing is asked inside an own image (its link is seen by the traffic).
local function sees_carrier(n)
  return not n.agentless and n.qemu.cable ~= "tap"
end

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
--  o.flows = lab:flows_start's options: many connections run too, from
--  before the failure (their first ones replicated to the backup, as far
--  as it does in time) until traffic has gone on through the new master for
--  longer than their stall bound; result.flows is lab:flows_stop's result
--  (each connection's outcome), result.flows_synced_s how long the backup
--  took to hold them, result.flows_replicated how many it held
function Lab:failover(mode, o)
  o = o or {}
  local master, backup = self:master()
  if not master then errors.raise("lab:failover", mode, "no firewall holds the virtual IPs") end
  local cable = ({ ["client-cable"] = "eth1", ["server-cable"] = "eth0", ["sync-cut"] = "eth2" })[mode]
  if not cable and mode ~= "power" and mode ~= "hang" then
    errors.raise("lab:failover", tostring(mode), "the mode is one of " .. table.concat(M.modes, ", "))
  end
  local dropped0 = self:dropped()
  local since = o.flows and self:flows_created(backup.name)
  local flows = o.flows and self:flows_start(o.flows)
  local synced, replicated
  if flows then synced, replicated = self:flows_synced(backup.name, flows.n, nil, since) end
  local traffic = self:traffic_start{ backup = backup }
  self:hold(0.5)                                  -- steady state before the failure
  local t0 = fwsh.proc.clock()
  local r = { mode = mode, from = master.name }
  if cable then
    master:cut(cable)
    if sees_carrier(master) then
      master:wait_link(cable, { carrier = false, timeout = 2 * self.patience })
    end
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
    if sees_carrier(master) then
      master:wait_link(cable, { carrier = true, timeout = 2 * self.patience })
    end
  end
  -- traffic goes on through the new master (with flows: until a stall would show)
  self:hold(flows and math.max(2, flows.stall_ms / 1000 + 1) or 2)
  r.dropped = M.dropped_since(dropped0, self:dropped())
  for k, v in pairs(self:traffic_stop(traffic)) do r[k] = v end
  if flows then
    r.flows = self:flows_stop(flows, { fault = t0 })
    r.flows_synced_s, r.flows_replicated = synced, replicated
  end
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

return M
