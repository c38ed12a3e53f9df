-- sync.lua - what conntrackd's replication costs, measured on a built lab:
-- how long a new connection takes to reach the backup's conntrackd
-- (sync.lag), how long the new master's `conntrackd -c` took at the last
-- takeover (sync.commit_ms), and a takeover with many connections flowing
-- that counts what each of them lived through (sync.takeover: the RST
-- window, with the lab's fix on or off).
--
-- Connections come from fwsh-flows: a server on the server side (the host
-- or its namespace), a client in the client node, its sources o.sources
-- addresses added to the client's port (10.1.0.101 ...), through the
-- firewalls to a port the ruleset lets in (the stream's, 5001).
local fwsh = fwsh or require "fwsh"
local conntrackd = require "fwsh.conntrackd"
local T = require "fwsh.firewall.topology"
local errors = require "fwsh.errors"

local M = {}

local FIRST_SOURCE = 101 -- the client's extra addresses: 10.1.0.101 and up

local function count(o, field, default, lo, hi)
  local v = o[field] == nil and default or o[field]
  if math.type(v) ~= "integer" or v < lo or v > hi then
    errors.raise("firewall.sync", field, string.format("an integer from %d to %d expected", lo, hi), 3)
  end
  return v
end

-- The client's source addresses: added once (a second run finds them there).
local function sources(lab, n)
  local prefix = T.net.client:match("^(%d+%.%d+%.%d+%.)")
  lab.nodes.client:exec(function(p, k, port)
    local l = fwsh.link.get(port)
    for i = 0, k - 1 do fwsh.addr.ensure(l, p .. (FIRST_SOURCE + i) .. "/24") end
  end, prefix, n, T.client.port)
  return string.format("%s%d+%d", prefix, FIRST_SOURCE, n)
end

-- One fwsh-flows pair: a server on the server side, a client in the client
-- node opening o.flows connections at o.open_rate a second, each sending 64
-- bytes every o.interval ms, for o.duration seconds; returns once they are
-- up. f.tag names its files: TAG-client.tsv/.out, TAG-server.tsv/.out.
local function flows_start(lab, o)
  lab.flow_runs = (lab.flow_runs or 0) + 1
  local tag = "sync-" .. lab.flow_runs
  local f = { tag = tag, port = o.port or T.stream_port }
  f.addr = T.server .. ":" .. f.port
  f.server = lab:spawn_host({ lab:tool("server", "flows"), "server", "--listen", f.addr,
                              "--duration", tostring(o.duration + 60), "--report", lab:file(tag .. "-server.tsv") },
                            lab:file(tag .. "-server.out"))
  fwsh.wait{ fn = function() return lab:listening(f.port) end, interval = 0.01, timeout = 5 }
  local client = lab.nodes.client
  f.client = client:spawn({ client:tool("flows"), "client", "--connect", f.addr, "--src", sources(lab, o.sources),
                            "--flows", tostring(o.flows), "--open-rate", tostring(o.open_rate),
                            "--interval", tostring(o.interval), "--duration", tostring(o.duration),
                            "--report", lab:file(tag .. "-client.tsv") },
                          { stdout = lab:file(tag .. "-client.out") })
  local ok, err = pcall(fwsh.wait, { fn = function() return lab:read(tag .. "-client.out"):find("ready:") ~= nil end,
                                     interval = 0.02, timeout = 30 + o.flows / o.open_rate * 20 })
  if not ok then
    pcall(f.client.stop, f.client, 1)
    pcall(f.server.stop, f.server, 1)
    errors.raise("firewall.sync", "fwsh-flows", "the client's connections did not come up: " .. tostring(err)
                 .. "\n" .. lab:read(tag .. "-client.out"))
  end
  f.ready = fwsh.proc.clock()
  return f
end

-- Waits for the client's end (its --duration, then its drain; early: ends
-- it now, as its duration would), stops the server;
-- -> { client=, server=, merged= } summaries' text
local function flows_stop(lab, f, timeout, early)
  local c = f.client
  if early then pcall(c.kill, c, "TERM") end
  pcall(c.wait, c, timeout)
  c:stop(1)
  pcall(f.server.kill, f.server, "TERM")
  pcall(f.server.wait, f.server, 10)
  f.server:stop(1)
  local merged = fwsh.proc.run({ lab:tool("server", "flows"), "merge", lab:file(f.tag .. "-client.tsv"),
                                 lab:file(f.tag .. "-server.tsv") })
  return { client = lab:read(f.tag .. "-client.out"), server = lab:read(f.tag .. "-server.out"),
           merged = merged.out or "" }
end

-- The summary line of fwsh-flows' text: { total=, survived=, stalled=, reset=, lost_bytes= }
local function outcome(text)
  local t, s, x, r, l = (text or ""):match(
    "connections: total (%d+) survived (%d+) stalled (%d+) reset (%d+) lost_bytes (%d+)")
  return { total = tonumber(t), survived = tonumber(s), stalled = tonumber(x), reset = tonumber(r),
           lost_bytes = tonumber(l) }
end
M.outcome = outcome

-- The client's report: when each TCP connection was opened (its SYN),
-- CLOCK_MONOTONIC ms, in order.
local function opened(text)
  local start = tonumber(text:match("start_monotonic_ms ([%d.]+)"))
  local list = {}
  for line in text:gmatch("[^\n]+") do
    local at = line:match("^tcp\t%d+\t%S+\t%S+\t([%d.]+)")
    if at and start then list[#list + 1] = start + tonumber(at) end
  end
  table.sort(list)
  return list
end

-- fwsh-ctstat's lines: { { t0, t1, created }, ... }
local function counts(text)
  local list = {}
  for t0, t1, created in text:gmatch("([%d.]+) ([%d.]+) (%d+) %d+\n") do
    list[#list + 1] = { tonumber(t0), tonumber(t1), tonumber(created) }
  end
  return list
end

local function percentile(sorted, p)
  if #sorted == 0 then return nil end
  return sorted[math.max(1, math.ceil(p / 100 * #sorted))]
end

--- sync.lag(lab [, o]) -> { p50 = ms, p99 = ms, samples = n, resolution_ms =,
--  opened =, replicated =, table =, outcome = } | nil, reason: replication
--  lag. o.flows connections (default 100: the table) are opened first; once
--  the backup's conntrackd has taken all it will of them (its count still
--  for 300 ms), o.new (200) more are opened at o.rate (50) a second by a
--  second client, while fwsh-ctstat asks the backup's conntrackd every 5 ms
--  how many entries its external cache has taken. conntrackd replicates in
--  the order the master's kernel reports new connections, so the m-th of
--  the new connections is the m-th entry the backup took after the table:
--  its lag is from its SYN (the client's report, the same monotonic clock)
--  until the count reached m, taken as the middle of the time that can have
--  happened in (after the later of its SYN and the request before, by the
--  end of this one); resolution_ms is half that time on average. opened:
--  new connections the client opened, replicated: entries the backup took
--  meanwhile (fewer: some were lost, and the later lags are too long by one
--  new connection's interval each); table: the entries the backup held
--  when the new ones began. Other fields of o: sources (50 client
--  addresses), interval (ms between a connection's chunks, 1000),
--  open_rate (2000 a second), port. Needs the netns backend (the tool runs
--  beside the socket).
function M.lag(lab, o)
  o = o or {}
  local c = { flows = count(o, "flows", 100, 1, conntrackd.max_flows), new = count(o, "new", 200, 1, 100000),
              rate = count(o, "rate", 50, 1, 100000), sources = count(o, "sources", 50, 1, 150),
              interval = count(o, "interval", 1000, 1, 60000), open_rate = count(o, "open_rate", 2000, 1, 100000),
              port = o.port }
  if lab.backend ~= "netns" then return nil, "sync.lag needs the netns backend" end
  local _, backup = lab:master()
  if not backup or backup.stopped then return nil, "no backup firewall is running" end
  local new_s = c.new / c.rate
  local SETTLE = 30
  -- the clients are ended when done (flows_stop's early): a duration only
  -- long enough for a loaded machine's slow opening (here 160 a second)
  c.duration = math.ceil(c.flows / c.open_rate * 20 + 30 + SETTLE + new_s + 5)
  local stat_file = "ctstat-" .. ((lab.flow_runs or 0) + 1) .. ".out"
  local stat = backup:spawn({ backup:tool("ctstat"), lab:file(backup.name .. "-conntrackd.ctl"), "5",
                              tostring(c.duration + 30) }, { stdout = lab:file(stat_file) })
  fwsh.wait{ fn = function() return lab:read(stat_file):find("\n") ~= nil end, interval = 0.01, timeout = 5 }
  local base = counts(lab:read(stat_file))[1][3]
  -- the table: lab:flows_start's processes (as many as the descriptors
  -- of one process make necessary), on the lab's flow ports
  local ok, tf = pcall(lab.flows_start, lab, { flows = c.flows, open_rate = c.open_rate, interval = c.interval,
                                               duration = c.duration, stall_ms = math.max(5000, 2 * c.interval) })
  if not ok then
    stat:stop(1)
    error(tf, 0)
  end
  -- the table is in: the count has not moved for 300 ms
  local ref
  pcall(fwsh.wait, { interval = 0.05, timeout = SETTLE, fn = function()
    local polls = counts(lab:read(stat_file))
    local last = polls[#polls]
    for i = #polls, 1, -1 do
      if polls[i][3] ~= last[3] then return false end
      if last[2] - polls[i][1] >= 300 then ref = polls[#polls]; return true end
    end
    return false
  end })
  if not ref then
    stat:stop(1)
    lab:flows_stop(tf)
    return nil, "the backup's conntrackd kept taking entries of the table for " .. SETTLE .. " s"
  end
  -- the new connections: one client of its own, opening them at c.rate
  local nok, f = pcall(flows_start, lab, { flows = c.new, open_rate = c.rate, interval = c.interval,
                                           duration = math.ceil(new_s + 2), sources = c.sources, port = c.port })
  if nok then lab:hold(1.5) end
  pcall(stat.kill, stat, "TERM")
  pcall(stat.wait, stat, 5)
  stat:stop(1)
  local table_r = lab:flows_stop(tf)
  if not nok then error(f, 0) end
  local result = flows_stop(lab, f, 30, false)
  local name = f.tag .. "-client"
  local born = opened(lab:read(name .. ".tsv"))
  local polls = counts(lab:read(stat_file))
  local lags, windows = {}, {}
  local i = 1
  while i <= #polls and polls[i][1] < ref[1] do i = i + 1 end
  for m, at in ipairs(born) do
    while i <= #polls and polls[i][3] - ref[3] < m do i = i + 1 end
    if i > #polls then break end
    local from = math.max(polls[i - 1][1], at)
    lags[#lags + 1] = math.max(0, (from + polls[i][2]) / 2 - at)
    windows[#windows + 1] = (polls[i][2] - from) / 2
  end
  table.sort(lags)
  local replicated = polls[#polls][3] - ref[3]
  if #lags == 0 then
    return nil, string.format("none of the %d new connections reached the backup (it took %d entries): %s",
                              #born, replicated, lab:read(name .. ".out"))
  end
  local sum = 0
  for _, w in ipairs(windows) do sum = sum + w end
  return { p50 = percentile(lags, 50), p99 = percentile(lags, 99), samples = #lags,
           resolution_ms = sum / #windows, opened = #born, replicated = replicated, table = ref[3] - base,
           outcome = { total = table_r.total, survived = table_r.survived, stalled = table_r.stalled,
                       reset = table_r.reset, lost_bytes = table_r.lost_bytes },
           new_outcome = outcome(result.merged), text = result }
end

--- sync.notifications(lab, fw) -> { { event=, launched=, started=, ends = { ms... },
--  status = { n... } }, ... }: what fwsh-notify recorded on fw, in order
function M.notifications(lab, fw)
  local list = {}
  for line in lab:read(fw .. "-notify.log"):gmatch("[^\n]+") do
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    local n = { event = words[1], launched = tonumber(words[2]), started = tonumber(words[3]), ends = {}, status = {} }
    for i = 4, #words - 1, 2 do
      n.ends[#n.ends + 1] = tonumber(words[i])
      n.status[#n.status + 1] = tonumber(words[i + 1])
    end
    list[#list + 1] = n
  end
  return list
end

--- sync.commit_ms(lab, fw) -> ms, notification | nil, reason: how long
--  `conntrackd -c` took when fw last became master (fwsh-notify's record:
--  the commit is the master notification's first command)
function M.commit_ms(lab, fw)
  if not lab.nodes[fw] then return nil, "no firewall " .. tostring(fw) end
  local last
  for _, n in ipairs(M.notifications(lab, fw)) do
    if n.event == "master" then last = n end
  end
  if not last then return nil, fw .. " has no master notification recorded (fwsh-notify: netns backend)" end
  if not last.ends[1] then return nil, fw .. "'s last master notification has no command's end" end
  if last.status[1] ~= 0 then
    return nil, string.format("%s's conntrackd -c exited %d", fw, last.status[1])
  end
  return last.ends[1] - last.started, last
end

-- The gate's counter on fw: packets held until the commit (nil without the gate)
local function gate_dropped(node)
  local r = node:run({ "nft", "list", "counter", "inet", "fwsh", "pending_dropped" })
  return r.ok and tonumber(r.out:match("packets (%d+)")) or nil
end

--- sync.takeover(lab [, o]) -> result: o.flows connections (default 1000,
--  o.sources client addresses) flowing, each sending every o.interval ms
--  (50); after o.before seconds (2) the master loses power, the backup
--  takes over, traffic goes on o.after seconds (3), the old master comes
--  back as backup. result: connections (the pair's merged outcome: total,
--  survived, stalled, reset, lost_bytes), server_reset (connections the
--  server saw reset), from, to, mac_ms (br1 learned the new master's MAC,
--  from the power loss), notify_ms (keepalived ran the new master's notify,
--  from the power loss), commit_ms, gate_ms (the gate opened, from the power
--  loss; nil with the fix off), gate_dropped (packets the gate held)
function M.takeover(lab, o)
  o = o or {}
  local c = { flows = count(o, "flows", 1000, 1, conntrackd.max_flows),
              sources = count(o, "sources", 50, 1, 150), interval = count(o, "interval", 50, 1, 60000),
              open_rate = count(o, "open_rate", 2000, 1, 100000), port = o.port }
  local before, after = o.before or 2, o.after or 3
  c.duration = math.ceil(c.flows / c.open_rate * 20 + 30 + before + after + 3)
  local master, backup = lab:master()
  if not master or not backup then errors.raise("firewall.sync", "takeover", "no master and backup now") end
  local f = flows_start(lab, c)
  lab:hold(before)
  local notified = #M.notifications(lab, backup.name)
  local t0 = fwsh.proc.clock()
  master:fail("power")
  lab:wait_master(backup.name)
  local r = { from = master.name, to = backup.name, mac_ms = (fwsh.proc.clock() - t0) * 1000 }
  lab:hold(after)
  r.gate_dropped = gate_dropped(backup)
  local s = flows_stop(lab, f, 60 + c.flows / 200, true)
  r.connections = outcome(s.merged)
  r.client, r.server = outcome(s.client), outcome(s.server)
  r.server_reset = r.server.reset
  r.text = s
  local n = M.notifications(lab, backup.name)[notified + 1]
  if n and n.event == "master" then
    r.notify_ms = n.launched - t0 * 1000
    r.commit_ms = n.ends[1] and n.ends[1] - n.started
    if lab.fix_on and n.ends[2] then r.gate_ms = n.ends[2] - t0 * 1000 end
  end
  master:start()
  lab:wait_ready(master.name)
  return r
end

return M
