-- flows.lua - many connections through the firewall lab (fwsh-flows):
-- servers on the server side, clients on the client node, each pair on a
-- port of its own (topology.flows_port...), every process bounded in
-- connections and time; at the end the two sides' reports are joined
-- (fwsh-flows merge) and each connection's outcome is decided
-- (fwsh.firewall.outcome), with the resets' senders read from a capture of
-- the resets on the client's port and on the server's own link.
local fwsh = fwsh or require "fwsh"
local T = require "fwsh.firewall.topology"
local base = require "fwsh.firewall.lab"
local outcome = require "fwsh.firewall.outcome"
local errors = require "fwsh.errors"
local read_file = require("fwsh.file").read

local M = {}
local Lab = base.Lab

-- A process holds this many connections at most: under the hard descriptor
-- limit here (20,000), with room for the listeners and the tool's own files.
M.per_process = 15000

-- Only the resets: a handful of packets even with 100,000 connections.
local RST_FILTER = "tcp[tcpflags] & tcp-rst != 0"

local function ip_add(a, k)
  local w, x, y, z = a:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)")
  local n = ((tonumber(w) * 256 + tonumber(x)) * 256 + tonumber(y)) * 256 + tonumber(z) + k
  return string.format("%d.%d.%d.%d", n >> 24 & 255, n >> 16 & 255, n >> 8 & 255, n & 255)
end

-- Reads a sysctl where this code runs; nil if it cannot.
local function sysctl_read(path)
  local f = io.open("/proc/sys/" .. path, "r")
  if not f then return nil end
  local v = f:read("l")
  f:close()
  return v
end

-- Whether this program runs in the machine's own network namespace (then the
-- server side is the host's, and its settings are not the lab's to change).
local function in_host_netns()
  local r = fwsh.proc.run({ "readlink", "/proc/self/ns/net", "/proc/1/ns/net" }, { query = true })
  local a, b = (r.out or ""):match("^([^\n]+)\n([^\n]+)")
  return not r.ok or a == nil or a == b
end

-- Splits n connections into processes of at most per each: { n1, n2, ... }.
local function split(n, per)
  local k = (n + per - 1) // per
  local out = {}
  for i = 1, k do out[i] = n // k + (i <= n % k and 1 or 0) end
  return out
end

-- The client's addresses for one half: enough for its connections to a
-- port (32,000 each with the client's port range 1024-65535, so 2 at
-- least), from the half's /26.
local function sources(prefix, n)
  local count = math.max(2, math.min(60, (n + 31999) // 32000 * 2))
  return ip_add(prefix:match("^[^/]+"), 2), count
end

-- Adds the addresses (a/24 each) to port in the client node: in its
-- namespace, or in a VM by the guest image's fwsh, one run for all of them
-- (each request to a TCG guest's agent costs tens of ms).
local function add_addresses(client, port, list)
  if #list == 0 then return end
  if client.backend == "netns" then
    client:exec(function()
      local l = fwsh.link.get(port)
      for _, a in ipairs(list) do fwsh.addr.ensure(l, a .. "/24") end
    end)
    return
  end
  local quoted = {}
  for i, a in ipairs(list) do quoted[i] = string.format("%q", a .. "/24") end
  local r = client:run{ "fwsh", "-e", string.format(
    "local l = fwsh.link.get(%q) for _, a in ipairs{ %s } do fwsh.addr.ensure(l, a) end", port, table.concat(quoted, ", ")) }
  if not r.ok then
    errors.raise("lab:flows_start", client.name, "its flow addresses on " .. port .. ": " .. r.out .. r.err, 3)
  end
end

-- A firewall's nf_conntrack_max, read in the node (a VM's is its own
-- kernel's); nil where nothing can be asked (a firewall's own image).
local function conntrack_max(n)
  if n.backend == "netns" then
    return n:exec(function() return tonumber(sysctl_read("net/netfilter/nf_conntrack_max")) end)
  end
  if n.agentless then return nil end
  local r = n:run{ "cat", "/proc/sys/net/netfilter/nf_conntrack_max" }
  return r.ok and tonumber(r.out:match("%d+")) or nil
end

local function check_int(v, what, min, max)
  if math.type(v) ~= "integer" or v < min or v > max then
    errors.raise("lab:flows_start", what, string.format("a whole number in [%d, %d] expected, got %s", min, max,
                                                        tostring(v)), 3)
  end
  return v
end

--- lab:flows_start{flows=N, new_rate=R, nat=false, interval=MS, chunk=BYTES,
--  stall_ms=MS, duration=SECONDS, open_rate=R} -> flows: N connections from
--  the client node to the server side through the master, plus R new ones a
--  second while they run; returns once the first N are up. nat=true: half of
--  them from the addresses a lab built with nat="half" translates. N is
--  split into processes of at most flows.per_process connections (each pair
--  on its own port; their descriptor limits the tool raises for itself), the
--  client gets enough addresses that no half runs out of source ports, and
--  its port range is widened (a sysctl of the client's namespace); the
--  server side's somaxconn is raised only in a namespace the run made (not
--  the machine's own). The firewalls' conntrack table size is read back
--  (flows.conntrack_max): a namespace cannot change it; a VM's is its own
--  kernel's, which firewall.build's flows raises. On the qemu backend the
--  client is a VM: fwsh-flows runs there from the guest image, its files
--  in the lab's directory (the guest's 9p share). duration (default
--  600) bounds the run: every process stops by itself then. Each client's
--  and server's report goes to the lab's directory; lab:flows_stop(flows)
--  ends them and says what each connection lived through.
function Lab:flows_start(o)
  o = o or {}
  if self.hosts then errors.raise("lab:flows_start", "flows", "not yet on a lab across hosts") end
  if self.nodes.client.agentless then
    errors.raise("lab:flows_start", "client", "its own image has no fwsh-flows (and no agent to start it)")
  end
  local n = check_int(o.flows, "flows", 1, M.per_process * T.flows_ports)
  local new_rate = check_int(o.new_rate or 0, "new_rate", 0, 100000)
  local interval = check_int(o.interval or 1000, "interval", 10, 60000)
  local chunk = check_int(o.chunk or 64, "chunk", 1, 8192)
  local stall_ms = check_int(o.stall_ms or 5000, "stall_ms", interval + 1, 3600000)
  local duration = check_int(o.duration or 600, "duration", 1, 3600)
  -- a TCG client and firewall lose SYNs sent faster (their queues overflow),
  -- and each loss adds a backoff of seconds to that connection's gap: 2,000
  -- opened at 5,000/s through the qemu pair all stalled, at 200/s 1,959
  -- survived (measured under load)
  local open_rate = check_int(o.open_rate or (self.backend == "qemu" and 200 or 5000), "open_rate", 1, 1000000)
  if o.nat and self.nat ~= "half" then
    errors.raise("lab:flows_start", "nat", "needs a lab built with nat = \"half\" (firewall.build)")
  end
  local f = { clients = {}, servers = {}, n = n, nat = o.nat and true or false, stall_ms = stall_ms,
              started = fwsh.proc.clock() }
  self.flows_runs = (self.flows_runs or 0) + 1
  f.tag = "flows-" .. self.flows_runs
  -- the halves: { prefix, connections }
  local halves = o.nat and { { T.flows_src.plain, n - n // 2 }, { T.flows_src.nat, n // 2 } }
                       or { { T.flows_src.plain, n } }
  -- each process keeps room for its share of the new connections of a
  -- run's first 30 s (a failover's run, from the mark to the stop; a longer
  -- run opens new ones until its processes are full)
  local room = math.min(M.per_process // 2, new_rate * 30 // #halves)
  local plan = {}
  for _, h in ipairs(halves) do
    local first, count = sources(h[1], h[2])
    for _, k in ipairs(split(h[2], M.per_process - room)) do
      plan[#plan + 1] = { n = k, src = first, count = count }
    end
  end
  if #plan > T.flows_ports then
    errors.raise("lab:flows_start", "flows", string.format("%d processes needed, the lab has %d ports for them",
                                                           #plan, T.flows_ports))
  end
  -- the client: its addresses (once per lab) and a port range for many
  local client = self.nodes.client
  self.flows_addresses = self.flows_addresses or {}
  local new = {}
  for _, p in ipairs(plan) do
    for k = 0, p.count - 1 do
      local a = ip_add(p.src, k)
      if not self.flows_addresses[a] then
        new[#new + 1] = a
        self.flows_addresses[a] = true
      end
    end
  end
  add_addresses(client, T.client.port, new)
  client:sysctl("net/ipv4/ip_local_port_range", "1024 65535")
  if not in_host_netns() then
    require("fwsh.node").sysctl("net/core/somaxconn", "65535")
  end
  f.somaxconn = tonumber(sysctl_read("net/core/somaxconn"))
  f.conntrack_max = {}
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    f.conntrack_max[name] = conntrack_max(self.nodes[name])
  end
  -- what the resets were and where they went, from the start
  f.captures = {
    client = self:capture(T.client.tap, { filter = RST_FILTER, promisc = false,
                                          file = self:file(f.tag .. "-rst-client.pcap") }),
    server = self:capture("br0", { filter = RST_FILTER, promisc = false, file = self:file(f.tag .. "-rst-server.pcap") }),
  }
  local tool = self:tool("server", "flows")
  -- opening is the kernel's work more than the tool's: on a loaded machine
  -- 10,000 took more than 30 s here (and a TCG guest is slower: patience)
  local opened_s = (60 + n / 200) * self.patience
  local server_s = duration + opened_s + 2 * n / 1000 + 60
  -- the servers first, all listening before any connection exists (with
  -- tens of thousands open, reading /proc/net/tcp to see a listener is slow)
  local id = 0
  for i, p in ipairs(plan) do
    p.port = T.flows_port + i - 1
    p.rate = n > 0 and new_rate * p.n / n or 0
    p.new_max = math.max(0, math.min(M.per_process - p.n, math.ceil(p.rate * duration)))
    p.id_base, id = id, id + p.n + p.new_max
    local sfile = self:file(f.tag .. "-server-" .. i)
    f.servers[i] = { proc = self:spawn_host({ tool, "server", "--listen", T.server .. ":" .. p.port,
                                              "--duration", tostring(math.ceil(server_s)),
                                              "--stall-ms", tostring(stall_ms), "--report", sfile .. ".tsv" },
                                            sfile .. ".out"), out = sfile .. ".out", tsv = sfile .. ".tsv" }
  end
  local up, why = pcall(fwsh.wait, { fn = function()
    for _, p in ipairs(plan) do if not self:listening(p.port) then return false end end
    return true
  end, interval = 0.02, timeout = 30 })
  if not up then
    pcall(self.flows_stop, self, f)
    errors.raise("lab:flows_start", f.tag, "its servers do not listen: " .. tostring(why))
  end
  for i, p in ipairs(plan) do
    local cfile = self:file(f.tag .. "-client-" .. i)
    f.clients[i] = { out = cfile .. ".out", tsv = cfile .. ".tsv", n = p.n }
    f.clients[i].proc = client:spawn({ client:tool("flows"), "client", "--connect", T.server .. ":" .. p.port,
      "--src", p.src .. "+" .. p.count, "--flows", tostring(p.n), "--open-rate", tostring(open_rate),
      "--new-rate", tostring(math.ceil(p.rate)), "--new-max", tostring(p.new_max),
      "--interval", tostring(interval), "--chunk", tostring(chunk), "--stall-ms", tostring(stall_ms),
      "--duration", tostring(duration), "--id-base", tostring(p.id_base), "--report", cfile .. ".tsv" },
      { stdout = cfile .. ".out" })
  end
  f.plan = plan
  -- up: each client has said its first connections are (or failed)
  local ok, err = pcall(fwsh.wait, { fn = function()
    for _, c in ipairs(f.clients) do
      if not self:read(c.out:match("[^/]+$")):find("ready:", 1, true) then
        if not c.proc:running() then
          errors.raise("lab:flows_start", c.out, "the client ended before its connections were up:\n"
                       .. self:read(c.out:match("[^/]+$")))
        end
        return false
      end
    end
    return true
  end, interval = 0.05, timeout = opened_s })
  if not ok then
    local late = {}
    for i, c in ipairs(f.clients) do
      local text = self:read(c.out:match("[^/]+$"))
      if not text:find("ready:", 1, true) then
        late[#late + 1] = string.format("client %d (%d connections): %s", i, c.n,
                                        text:match("([^\r\n]*)[\r\n]*$") or "")
      end
    end
    pcall(self.flows_stop, self, f)
    if #late == 0 or tostring(err):find("ended before", 1, true) then error(err, 0) end
    errors.raise("lab:flows_start", f.tag, string.format("connections not up after %.0f s: %s", opened_s,
                                                         table.concat(late, "; ")))
  end
  -- the mark: each connection's longest gap counts from here, not from an
  -- opening that with 100,000 connections holds some of them up for seconds
  for _, list in ipairs({ f.servers, f.clients }) do
    for _, p in ipairs(list) do pcall(p.proc.kill, p.proc, "USR1") end
  end
  f.ready = fwsh.proc.clock()
  return f
end

-- The backup's conntrackd's external cache (its peer's connections), as
-- its statistics (conntrackd -s) say: current active entries, and entries
-- created since it started.
local function external(lab, fw)
  local n = lab.nodes[fw]
  local conntrackd = require "fwsh.conntrackd"
  local r = n:run(conntrackd.ctl(n.conntrackd_conf, "-s"))
  local ext = (r.out or ""):match("cache external:(.-)\n%s*\n") or (r.out or ""):match("cache external:(.*)") or ""
  return tonumber(ext:match("current active connections:%s*(%d+)")) or 0,
         tonumber(ext:match("connections created:%s*(%d+)")) or 0
end

--- lab:flows_created(fw) -> n: how many entries fw's conntrackd has taken
--  from its peer since it started (the base of lab:flows_synced's since)
function Lab:flows_created(fw)
  return select(2, external(self, fw))
end

--- lab:flows_synced(fw, count [, timeout [, since]]) -> seconds, entries:
--  waits (timeout: 20 s and 1 s per 2,000 connections) until fw's
--  conntrackd has count connections in its external cache (its peer's):
--  with since (lab:flows_created before they were opened), count entries
--  taken since then (entries of earlier runs stay in the cache for a while,
--  so its current count says nothing of the new ones); returns how long it
--  took and how many it had (nil, entries if they did not come in time: a
--  failover then shows what replication had not done yet)
function Lab:flows_synced(fw, count, timeout, since)
  local have = 0
  local function entries()
    local active, created = external(self, fw)
    have = since and created - since or active
    return have >= count
  end
  local ok, waited = pcall(fwsh.wait, { fn = entries, interval = 0.2,
                                        timeout = (timeout or 20 + count / 2000) * self.patience })
  return ok and waited or nil, have
end

-- The summary's numbers a process printed: rss_kb, and the ones after it.
local function summary(text)
  return { rss_kb = tonumber(text:match("rss_kb: (%d+)")), fd_limit = tonumber(text:match("fd_limit: (%d+)")),
           send_lag_ms = tonumber(text:match("send_lag_ms max: (%d+)")),
           cpu_s = (tonumber(text:match("cpu_s: user ([%d.]+)")) or 0) + (tonumber(text:match("sys ([%d.]+)")) or 0) }
end

--- lab:flows_stop(flows [, {fault=SECONDS}]) -> result:
--  the clients end their streams and drain, then the servers stop, the
--  reports are joined; result (fwsh.firewall.outcome.decide's, plus):
--  { merged = PATH (fwsh-flows merge's TSV), client_tsv =, server_tsv =,
--    rss_kb = { client = MAX, server = MAX }, processes = K, somaxconn =,
--    conntrack_max = { ["fw-1"] = N, ... }, rst_packets = N }.
--  fault (a fwsh.proc.clock() time) tells the outcome when the failure
--  was (result.fault_gap_start/_end); nothing of the flows runs afterwards (on an error too).
function Lab:flows_stop(f, o)
  o = o or {}
  local c = errors.collect()
  for _, cl in ipairs(f.clients) do pcall(cl.proc.kill, cl.proc, "TERM") end
  -- the drain: 5 s, or 2 ms a connection (fwsh-flows' own bound), and some
  local drain = math.max(5, 2 * f.n / 1000) + 10
  for _, cl in ipairs(f.clients) do
    if not pcall(cl.proc.wait, cl.proc, drain) then c:try(cl.proc.stop, cl.proc, 1) end
  end
  for _, s in ipairs(f.servers) do pcall(s.proc.kill, s.proc, "TERM") end
  for _, s in ipairs(f.servers) do
    if not pcall(s.proc.wait, s.proc, 10) then c:try(s.proc.stop, s.proc, 1) end
  end
  local rst = {}
  for side, cap in pairs(f.captures or {}) do
    c:try(cap.stop, cap)
    rst[side] = cap.file
  end
  c:done()
  -- the reports, each side's concatenated (merge reads several processes' lines as one)
  local function cat(list, name)
    local parts = {}
    for _, p in ipairs(list) do parts[#parts + 1] = self:read(p.tsv:match("[^/]+$")) end
    local path = self:file(f.tag .. "-" .. name .. ".tsv")
    base.write(path, table.concat(parts))
    return path, table.concat(parts)
  end
  local ctsv, ctext = cat(f.clients, "client")
  local stsv, stext = cat(f.servers, "server")
  local merged = self:file(f.tag .. "-merged.tsv")
  local m = fwsh.proc.run({ self:tool("server", "flows"), "merge", ctsv, stsv, merged })
  local packets = {}
  for side, file in pairs(rst) do
    local bytes = read_file(file) or ""
    for _, p in ipairs(outcome.rsts(bytes, side)) do packets[#packets + 1] = p end
  end
  local r = outcome.decide(outcome.read(ctext), outcome.read(stext), {
    stall_ms = f.stall_ms, nat_prefix = f.nat and T.flows_src.nat or nil, rsts = packets,
    server = T.server, fault_ms = o.fault and o.fault * 1000,
  })
  r.merged, r.client_tsv, r.server_tsv, r.merge_summary = merged, ctsv, stsv, m.out
  r.rst_packets, r.processes = #packets, #f.clients
  r.somaxconn, r.conntrack_max = f.somaxconn, f.conntrack_max
  r.rss_kb = { client = 0, server = 0 }
  for side, list in pairs({ client = f.clients, server = f.servers }) do
    for _, p in ipairs(list) do
      local s = summary(self:read(p.out:match("[^/]+$")))
      if s.rss_kb and s.rss_kb > r.rss_kb[side] then r.rss_kb[side] = s.rss_kb end
      if side == "client" and s.send_lag_ms then r.send_lag_ms = math.max(r.send_lag_ms or 0, s.send_lag_ms) end
    end
  end
  return r
end

return M
