-- outcome.lua - what each connection lived through, from fwsh-flows'
-- reports (both sides) and the resets seen on the wire: records in,
-- classes out. Pure Lua: no lab is needed to use it, so a spec can feed it
-- records made by hand.
--
-- A connection is in one class, the first that fits, over both sides:
--   reset       either side's socket ended by a reset (ECONNRESET, EPIPE, ECONNREFUSED)
--   lost_bytes  a byte differed, or the far end closed before every byte came
--   stalled     no byte came for longer than stall_ms (its longest gap, either side)
--   failed      not done in time, another error, or the server never saw it
--   survived    closed after every byte, checked at both ends
-- Who sent the reset that killed a connection: the first reset packet of
-- that connection, in time, among those captured on the client's port and
-- on the server's own link. A packet from the client's address seen on the
-- client's port was sent by the client; one from the server's address on
-- the server's link by the server. A reset coming to an end was made by a
-- firewall if it has the full TTL (64: a firewall is one hop from either
-- end and makes it itself, nft's `reject with tcp reset`), and by the far
-- end if it has one less (it was forwarded). A reset connection whose
-- packets were not captured is counted as unseen.
local M = {}

local COLUMNS = { "proto", "id", "src", "dst", "opened_ms", "established_ms", "ended_ms", "sent", "received",
                  "verified", "last_ms", "max_gap_ms", "gap_at_ms", "end", "errno", "corrupt_at", "class" }
local NUMERIC = { id = true, opened_ms = true, established_ms = true, ended_ms = true, sent = true,
                  received = true, verified = true, last_ms = true, max_gap_ms = true, gap_at_ms = true }

--- outcome.read(text) -> { [id] = record, ... } of the TCP lines of one
--  side's report (or several processes' reports concatenated); each
--  record's times are also given on the monotonic clock (t0: its process's
--  start, ended_abs = t0 + ended_ms)
function M.read(text)
  local out, t0 = {}, 0
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, 1) == "#" then
      t0 = tonumber(line:match("start_monotonic_ms ([%d.]+)")) or 0
    elseif line:sub(1, 6) ~= "proto\t" then
      local r, k = {}, 0
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        k = k + 1
        local name = COLUMNS[k]
        if name then r[name] = NUMERIC[name] and tonumber(field) or field end
      end
      if k == #COLUMNS and r.proto == "tcp" and r.id then
        r.t0 = t0
        r.ended_abs = t0 + (r.ended_ms or 0)
        out[r.id] = r
      end
    end
  end
  return out
end

local CLASSES = { "reset", "lost_bytes", "stalled", "failed", "survived" }
local RANK = {}
for i, c in ipairs(CLASSES) do RANK[c] = i end
M.classes = CLASSES

--- outcome.classify(record, stall_ms) -> the class of one side's record
function M.classify(r, stall_ms)
  if r["end"] == "reset" then return "reset" end
  if r["end"] == "corrupt" or r["end"] == "short" or r.verified ~= r.received then return "lost_bytes" end
  if (r.max_gap_ms or 0) > stall_ms then return "stalled" end
  return r["end"] == "closed" and "survived" or "failed"
end

local function ip_number(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)")
  if not a then return nil end
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

local function in_prefix(addr, prefix)
  local n, bits = ip_number(addr or ""), tonumber((prefix or ""):match("/(%d+)$"))
  if not n or not bits then return false end
  local size = 1 << (32 - bits)
  return n // size == ip_number(prefix) // size
end

--- outcome.rsts(pcap, where) -> { {t=MS, src=, sport=, dst=, dport=, ttl=, where=}, ... }:
--  the TCP resets in a pcap file's bytes (Ethernet, as fwsh.capture writes
--  it; microsecond or nanosecond stamps, either byte order); where says
--  where it was captured ("client": the client's port, "server": the
--  server's link)
function M.rsts(bytes, where)
  local out = {}
  if #bytes < 24 then return out end
  local magic = string.unpack("<I4", bytes)
  local e, frac
  if magic == 0xa1b2c3d4 then e, frac = "<", 1e-3
  elseif magic == 0xa1b23c4d then e, frac = "<", 1e-6
  elseif magic == 0xd4c3b2a1 then e, frac = ">", 1e-3
  elseif magic == 0x4d3cb2a1 then e, frac = ">", 1e-6
  else return out end
  local pos = 25
  while pos + 16 <= #bytes + 1 do
    local sec, sub, incl = string.unpack(e .. "I4I4I4", bytes, pos)
    local p = pos + 16
    pos = p + incl
    if pos > #bytes + 1 then break end
    -- Ethernet, IPv4, TCP with RST
    if incl >= 54 and string.unpack(">I2", bytes, p + 12) == 0x0800 then
      local ip = p + 14
      local ihl = (bytes:byte(ip) & 15) * 4
      if bytes:byte(ip + 9) == 6 then
        local tcp = ip + ihl
        local flags = bytes:byte(tcp + 13) or 0
        if flags & 4 ~= 0 then
          local function addr(at) return string.format("%d.%d.%d.%d", bytes:byte(at, at + 3)) end
          out[#out + 1] = { t = sec * 1000 + sub * frac, ttl = bytes:byte(ip + 8), src = addr(ip + 12),
                            dst = addr(ip + 16), sport = string.unpack(">I2", bytes, tcp),
                            dport = string.unpack(">I2", bytes, tcp + 2), where = where }
        end
      end
    end
  end
  return out
end

--- outcome.sender(packet, server) -> "client" | "server" | "firewall", key:
--  who sent a captured reset, and the connection's client-side address:port
--  as seen where it was captured (see the header)
function M.sender(p, server)
  if p.where == "server" then
    if p.src == server then return "server", p.dst .. ":" .. p.dport end
    return p.ttl >= 64 and "firewall" or "client", p.src .. ":" .. p.sport
  end
  if p.dst ~= server and p.src ~= server then return nil end
  if p.dst == server then return "client", p.src .. ":" .. p.sport end
  return p.ttl >= 64 and "firewall" or "server", p.dst .. ":" .. p.dport
end

-- The nearest-rank percentile p of sorted values s.
local function rank(s, p)
  if #s == 0 then return nil end
  return s[math.min(#s, math.max(1, math.floor(p / 100 * #s) + 1))]
end

--- outcome.gaps(values) -> { min=, median=, p99=, max= } (nil each for none)
function M.gaps(v)
  local s = {}
  for i, x in ipairs(v) do s[i] = x end
  table.sort(s)
  return { min = s[1], median = rank(s, 50), p99 = rank(s, 99), max = s[#s], n = #s }
end

local function tally(list)
  local t = { total = #list, resets_by = { firewall = 0, server = 0, client = 0, unseen = 0 } }
  for _, c in ipairs(CLASSES) do t[c] = 0 end
  local gaps, starts, ends = {}, {}, {}
  for _, c in ipairs(list) do
    t[c.class] = t[c.class] + 1
    if c.class == "reset" then t.resets_by[c.reset_by or "unseen"] = t.resets_by[c.reset_by or "unseen"] + 1 end
    if c.gap then gaps[#gaps + 1] = c.gap end
    -- the gaps that the fault made: begun within a second of it
    if c.gap_from_fault and c.gap_from_fault > -1000 and c.gap_from_fault < 1000 then
      starts[#starts + 1], ends[#ends + 1] = c.gap_from_fault, c.gap_from_fault + c.gap
    end
  end
  t.gap, t.gap_values = M.gaps(gaps), gaps
  t.fault_gap_start, t.fault_gap_end = M.gaps(starts), M.gaps(ends)
  return t
end

--- outcome.decide(client, server, {stall_ms=, nat_prefix=, rsts=, server=, fault_ms=})
--  -> result: client and server are outcome.read's tables; every client
--  connection gets { id=, class=, gap=MS (the longer of the two sides'
--  longest gaps), nat=, reset_by=, first_reset="client"|"server" (which
--  end saw its reset first) }. result: { total=, survived=, stalled=,
--  reset=, lost_bytes=, failed=, resets_by = { firewall=, server=, client=,
--  unseen= }, gap = { min=, median=, p99=, max= }, gap_values = {...},
--  young = { lost=, all= } (with o.fault_ms: of the connections that did
--  not survive, all, how many were opened within a second of the fault,
--  before or after it),
--  fault_gap_start, fault_gap_end = { min=, median=, p99=, max=, n= } (with
--  o.fault_ms, the fault on the monotonic clock: of the connections whose
--  longest gap began within a second of it, when it began and ended, in
--  ms from the fault),
--  connections = { [id] = connection }, nat = <the same for the NAT half>,
--  plain = <and for the rest> } (nat and plain with nat_prefix only)
function M.decide(client, server, o)
  local stall = o.stall_ms or 5000
  local conns, list, by_key = {}, {}, {}
  local ids = {}
  for id in pairs(client) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local c, s = client[id], server[id]
    local cls = M.classify(c, stall)
    if s then
      local sc = M.classify(s, stall)
      if RANK[sc] < RANK[cls] then cls = sc end
    elseif RANK[cls] > RANK.failed then
      cls = "failed"
    end
    local gap = c.established_ms and c.established_ms > 0 and c.max_gap_ms or nil
    if s and s.max_gap_ms and (gap == nil or s.max_gap_ms > gap) then gap = s.max_gap_ms end
    local x = { id = id, class = cls, gap = gap, nat = in_prefix(c.src:match("^[^:]+"), o.nat_prefix),
                src = c.src, server_src = s and s.src }
    -- when that gap began, from the fault (the side whose gap it is)
    if gap and o.fault_ms then
      local side = s and s.max_gap_ms == gap and s or c
      x.gap_from_fault = side.t0 + side.gap_at_ms - o.fault_ms
    end
    if o.fault_ms and c.opened_ms then x.opened_from_fault = c.t0 + c.opened_ms - o.fault_ms end
    if cls == "reset" then
      local ct = c["end"] == "reset" and c.ended_abs or math.huge
      local st = s and s["end"] == "reset" and s.ended_abs or math.huge
      x.first_reset = ct <= st and "client" or "server"
    end
    conns[id], list[#list + 1] = x, x
    by_key[c.src] = x
    if s and s.src ~= c.src then by_key[s.src] = by_key[s.src] or x end
  end
  -- each connection's first reset on the wire says who sent it
  local rsts = {}
  for i, p in ipairs(o.rsts or {}) do rsts[i] = p end
  table.sort(rsts, function(a, b) return a.t < b.t end)
  for _, p in ipairs(rsts) do
    local who, key = M.sender(p, o.server)
    local x = key and by_key[key]
    if x and not x.reset_by then x.reset_by, x.reset_at = who, p.t end
  end
  for _, x in ipairs(list) do
    if x.class ~= "reset" then x.reset_by = nil end
  end
  local r = tally(list)
  r.connections = conns
  -- what did not survive, and of it what was opened within a second of
  -- the fault: before it, younger than conntrackd's replication can carry;
  -- after it, through a master that fails while its kernel still forwards
  -- (a hang stops its daemons, a power loss takes some milliseconds), whose
  -- conntrackd never sends it. The backup never heard of it, and without
  -- nf_conntrack_tcp_loose the new master drops its packets for good.
  if o.fault_ms then
    r.young = { lost = 0, all = 0 }
    for _, x in ipairs(list) do
      if x.class ~= "survived" then
        r.young.all = r.young.all + 1
        local a = x.opened_from_fault
        if a and a > -1000 and a <= 1000 then r.young.lost = r.young.lost + 1 end
      end
    end
  end
  if o.nat_prefix then
    local halves = { nat = {}, plain = {} }
    for _, x in ipairs(list) do
      local h = halves[x.nat and "nat" or "plain"]
      h[#h + 1] = x
    end
    r.nat, r.plain = tally(halves.nat), tally(halves.plain)
  end
  return r
end

local function ms(v) return v and string.format("%.1f", v) or "-" end

--- outcome.lines(result [, name]) -> the report's lines for a result of
--  decide (name: "nat" or "plain", the lines of that half, their first
--  word suffixed: connections_nat:, connection_gap_ms_nat ...)
function M.lines(r, name)
  local sfx = name and ("_" .. name) or ""
  local out = {
    string.format("connections%s: total %d survived %d stalled %d reset %d lost_bytes %d", sfx, r.total,
                  r.survived, r.stalled, r.reset, r.lost_bytes),
  }
  if not name then
    out[#out + 1] = string.format("resets_by: firewall %d server %d client %d", r.resets_by.firewall,
                                  r.resets_by.server, r.resets_by.client)
    if r.resets_by.unseen > 0 then
      out[#out + 1] = string.format("resets_unseen: %d (no reset packet of theirs captured)", r.resets_by.unseen)
    end
    if r.failed > 0 then out[#out + 1] = string.format("connections_failed: %d", r.failed) end
    if r.young then
      out[#out + 1] = string.format("not_survived_young: %d of %d (opened within a second of the failure, before or after it)",
                                    r.young.lost, r.young.all)
    end
  end
  out[#out + 1] = string.format("connection_gap_ms%s min/median/p99/max: %s / %s / %s / %s", sfx, ms(r.gap.min),
                                ms(r.gap.median), ms(r.gap.p99), ms(r.gap.max))
  if not name and r.fault_gap_start and r.fault_gap_start.n > 0 then
    local a, b = r.fault_gap_start, r.fault_gap_end
    out[#out + 1] = string.format("fault_gap_ms from/to min/median/p99/max: %s / %s / %s / %s to %s / %s / %s / %s"
                                  .. " (%d connections)", ms(a.min), ms(a.median), ms(a.p99), ms(a.max), ms(b.min),
                                  ms(b.median), ms(b.p99), ms(b.max), a.n)
  end
  return out
end

return M
