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

-- One fwsh-flows pair: o.flows connections opened at o.open_rate a second,
-- then o.new more at o.rate a second, each sending 64 bytes every o.interval
-- ms, for o.duration seconds; returns once the first o.flows are up.
local function flows_start(lab, o)
  lab.flow_runs = (lab.flow_runs or 0) + 1
  local tag = "sync-" .. lab.flow_runs
  local f = { tag = tag, port = o.port or T.stream_port }
  local addr = T.server .. ":" .. f.port
  f.server = lab:spawn_host({ lab:tool("server", "flows"), "server", "--listen", addr,
                              "--duration", tostring(o.duration + 60), "--report", lab:file(tag .. "-server.tsv") },
                            lab:file(tag .. "-server.out"))
  fwsh.wait{ fn = function() return lab:listening(f.port) end, interval = 0.01, timeout = 5 }
  local client = lab.nodes.client
  local argv = { client:tool("flows"), "client", "--connect", addr, "--src", sources(lab, o.sources),
                 "--flows", tostring(o.flows), "--open-rate", tostring(o.open_rate),
                 "--interval", tostring(o.interval), "--duration", tostring(o.duration),
                 "--report", lab:file(tag .. "-client.tsv") }
  if o.new > 0 then
    table.move({ "--new-rate", tostring(o.rate), "--new-max", tostring(o.new) }, 1, 4, #argv + 1, argv)
  end
  f.client = client:spawn(argv, { stdout = lab:file(tag .. "-client.out") })
  local ok, err = pcall(fwsh.wait, { fn = function() return lab:read(tag .. "-client.out"):find("ready:") ~= nil end,
                                     interval = 0.02, timeout = 10 + o.flows / o.open_rate * 2 })
  if not ok then
    pcall(f.client.stop, f.client, 1)
    pcall(f.server.stop, f.server, 1)
    errors.raise("firewall.sync", "fwsh-flows", "the client's connections did not come up: " .. tostring(err)
                 .. "\n" .. lab:read(tag .. "-client.out"))
  end
  f.ready = fwsh.proc.clock()
  return f
end

-- Waits for the client's end (its --duration, then its drain), stops the
-- server; -> { client=, server=, merged= } summaries' text
local function flows_stop(lab, f, timeout)
  pcall(f.client.wait, f.client, timeout)
  f.client:stop(1)
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

-- The client's report: TCP connections by their source "addr:port", each
-- with when it was opened (CLOCK_MONOTONIC ms).
local function opened(text)
  local start = tonumber(text:match("start_monotonic_ms ([%d.]+)"))
  local by = {}
  for line in text:gmatch("[^\n]+") do
    local proto, src, at = line:match("^(%a+)\t%d+\t(%S+)\t%S+\t([%d.]+)")
    if proto == "tcp" and start then by[src] = start + tonumber(at) end
  end
  return by
end

-- What a conntrackd cache dump holds: { ["addr:sport"] = true } for port
local function entries(text, port)
  local seen = {}
  for src, sport in text:gmatch("src=(%S+) dst=%S+ sport=(%d+) dport=" .. port .. "%f[^%d]") do
    seen[src .. ":" .. sport] = true
  end
  return seen
end

local function percentile(sorted, p)
  if #sorted == 0 then return nil end
  return sorted[math.max(1, math.ceil(p / 100 * #sorted))]
end

--- sync.lag(lab [, o]) -> { p50 = ms, p99 = ms, samples = n, resolution_ms =, table = n } |
--  nil, reason: replication lag. o.flows connections (default 100) are
--  opened first, then o.new (200) more at o.rate (50) a second; while
--  those open, the backup's external cache (`conntrackd -e`) is read again
--  and again. A connection's lag: from its SYN (the client's clock, the same
--  monotonic clock as here) until the first dump that holds it, taken as
--  the middle of the time it can have appeared in (after the later of its
--  SYN and the start of the dump before, by the end of this one);
--  resolution_ms is half that time on average: what a dump of a table this
--  large allows. table: the entries of the last dump. Other fields of o:
--  sources (50 client addresses), interval (ms between a connection's
--  chunks, 1000), open_rate (2000 a second), port.
function M.lag(lab, o)
  o = o or {}
  local c = { flows = count(o, "flows", 100, 1, conntrackd.max_flows), new = count(o, "new", 200, 1, 100000),
              rate = count(o, "rate", 50, 1, 100000), sources = count(o, "sources", 50, 1, 150),
              interval = count(o, "interval", 1000, 1, 60000), open_rate = count(o, "open_rate", 2000, 1, 100000),
              port = o.port }
  local _, backup = lab:master()
  if not backup or backup.stopped then return nil, "no backup firewall is running" end
  local new_s = c.new / c.rate
  c.duration = math.ceil(c.flows / c.open_rate + new_s + 3)
  local f = flows_start(lab, c)
  local first = {}       -- source -> { after = s, by = s }
  local prev = fwsh.proc.clock()
  local periods, last_table = {}, 0
  local t_end = f.ready + new_s + 1.5
  while fwsh.proc.clock() < t_end do
    local t_a = fwsh.proc.clock()
    local r = backup:run(conntrackd.ctl(backup.conntrackd_conf, "-e"))
    local t_b = fwsh.proc.clock()
    if r.ok then
      local seen = entries(r.out, f.port)
      last_table = 0
      for src in pairs(seen) do
        last_table = last_table + 1
        if not first[src] then first[src] = { after = prev, by = t_b } end
      end
      periods[#periods + 1] = t_b - prev
      prev = t_a
    end
  end
  local result = flows_stop(lab, f, c.duration + 30)
  local born = opened(lab:read(f.tag .. "-client.tsv"))
  local lags = {}
  local t_first = f.ready * 1000
  for src, at in pairs(born) do
    local s = first[src]
    if s and at >= t_first then
      local from = math.max(s.after * 1000, at)
      lags[#lags + 1] = math.max(0, (from + s.by * 1000) / 2 - at)
    end
  end
  table.sort(lags)
  if #lags == 0 then
    return nil, "no connection opened while the backup's cache was read reached it: "
                .. (outcome(result.merged).total and result.merged or result.client)
  end
  local sum = 0
  for _, p in ipairs(periods) do sum = sum + p end
  return { p50 = percentile(lags, 50), p99 = percentile(lags, 99), samples = #lags,
           resolution_ms = sum / #periods * 1000 / 2, table = last_table, dumps = #periods,
           outcome = outcome(result.merged), text = result }
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
  local c = { flows = count(o, "flows", 1000, 1, conntrackd.max_flows), new = 0, rate = 1,
              sources = count(o, "sources", 50, 1, 150), interval = count(o, "interval", 50, 1, 60000),
              open_rate = count(o, "open_rate", 2000, 1, 100000), port = o.port }
  local before, after = o.before or 2, o.after or 3
  c.duration = math.ceil(c.flows / c.open_rate + before + after + 3)
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
  local s = flows_stop(lab, f, c.duration + 30)
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
