-- conntrack.lua - what conntrackd's replication costs against the size of
-- the table and the rate of new connections, on the namespace firewall lab:
-- replication lag (a new connection's SYN until the backup's conntrackd
-- holds it: fwsh.firewall.sync.lag) and the new master's commit
-- (`conntrackd -c` at a power-loss takeover: sync.takeover, sync.commit_ms).
--
-- usage: fwsh --sandbox bench/conntrack.lua [--sizes 1000,10000] [--rates 50,200,1000]
--          [--runs 1] [--nat] [--out bench/results/conntrack]
-- Writes OUT.tsv (one line a measurement), OUT-size.svg (lag and commit
-- time against the table) and OUT-rate.svg (lag against the rate of new
-- connections, at a table of the first size); prints the tables. Each size
-- gets a lab of its own, sized for it (firewall.build{flows=}). A table is
-- held by as many fwsh-flows processes as it needs (lab:flows_start: the
-- machine's hard limit is 20,000 descriptors a process); the takeover's
-- connections are one client's, so a table larger than that has its lag
-- measured here and its commit time in many-flows.lua's report. --nat: every
-- connection through the firewalls' source NAT (run it apart, with its own
-- --out, to report NAT and non-NAT side by side).
local fwsh = require "fwsh"
local firewall = require "fwsh.firewall"
local sync = require "fwsh.firewall.sync"
local flows = require "fwsh.firewall.flows"
local plot = require "fwsh.plot"

local o = { sizes = { 1000, 10000 }, rates = { 50, 200, 1000 }, runs = 1, out = "bench/results/conntrack", nat = false }
local i = 1
while i <= #arg do
  local k, v = arg[i], arg[i + 1]
  local function list()
    local t = {}
    for n in (v or ""):gmatch("%d+") do t[#t + 1] = math.tointeger(tonumber(n)) end
    if #t == 0 then error("bench/conntrack.lua: " .. k .. " takes a list of numbers: 1000,10000", 0) end
    return t
  end
  if k == "--sizes" then o.sizes = list()
  elseif k == "--rates" then o.rates = list()
  elseif k == "--runs" then o.runs = list()[1]
  elseif k == "--out" and v then o.out = v
  elseif k == "--nat" then o.nat = true; i = i - 1
  else error("usage: fwsh --sandbox bench/conntrack.lua [--sizes 1000,10000] [--rates 50,200,1000] "
             .. "[--runs 1] [--nat] [--out PREFIX]", 0) end
  i = i + 2
end

local NEW_SECONDS = 4 -- each lag measurement: new connections opened for this long
local rows = {}
local tsv = assert(io.open(o.out .. ".tsv", "w"))
tsv:write("what\ttable\trate\trun\tlag_p50_ms\tlag_p99_ms\tsamples\tresolution_ms\tcommit_ms\tnotify_ms\tgate_ms",
          "\tmac_ms\ttotal\tsurvived\treset\tstalled\tload1\n")

local function load1()
  local f = io.open("/proc/loadavg", "r")
  local s = f and f:read("l") or ""
  if f then f:close() end
  return s:match("^(%S+)") or "?"
end

local function fmt(v) return v and string.format("%.1f", v) or "-" end

local function record(row)
  rows[#rows + 1] = row
  local c = row.connections or {}
  tsv:write(table.concat({ row.what, row.table, row.rate or "-", row.run, fmt(row.p50), fmt(row.p99),
                           row.samples or "-", fmt(row.resolution_ms), fmt(row.commit_ms), fmt(row.notify_ms),
                           fmt(row.gate_ms), fmt(row.mac_ms), c.total or "-", c.survived or "-", c.reset or "-",
                           c.stalled or "-", row.load1 }, "\t"), "\n")
  tsv:flush()
  io.stdout:write(string.format("%-8s table %6d rate %5s run %d: lag p50/p99 %s / %s ms (%s samples, +-%s ms)"
                                .. " commit %s ms gate %s ms connections %s reset %s  load %s\n",
                                row.what, row.table, tostring(row.rate or "-"), row.run, fmt(row.p50), fmt(row.p99),
                                tostring(row.samples or "-"), fmt(row.resolution_ms), fmt(row.commit_ms),
                                fmt(row.gate_ms), tostring(c.total or "-"), tostring(c.reset or "-"), row.load1))
  io.stdout:flush()
end

-- A lab for a table of n connections (and the new ones a lag run opens).
-- Adverts every 100 ms: on a shared machine 10 ms ones let a starved backup
-- take over for a moment, which is not what is measured here.
local function with_lab(n, fn)
  local lab <close> = firewall.build{ flows = n, advert_int = 0.1, nat = o.nat }
  fn(lab)
end

for run = 1, o.runs do
  -- against the table: lag of 200 new connections at 50 a second, then a takeover
  for _, n in ipairs(o.sizes) do
    with_lab(n + 200, function(lab)
      local interval = n > 2000 and 1000 or 200
      local r, why = sync.lag(lab, { flows = n, new = 200, rate = 50, interval = interval })
      if not r then error("lag at " .. n .. ": " .. why, 0) end
      record{ what = "lag", table = n, rate = 50, run = run, p50 = r.p50, p99 = r.p99, samples = r.samples,
              resolution_ms = r.resolution_ms, connections = r.outcome, load1 = load1() }
      -- the takeover's own flows are one client's (at most per_process);
      -- a larger table's commit is many-flows.lua's commit_ms line
      if n > flows.per_process then return end
      local t = sync.takeover(lab, { flows = n, interval = interval })
      record{ what = "takeover", table = n, run = run, commit_ms = t.commit_ms, notify_ms = t.notify_ms,
              gate_ms = t.gate_ms, mac_ms = t.mac_ms, connections = t.connections, load1 = load1() }
    end)
  end
  -- against the rate of new connections, at the first size
  local n = o.sizes[1]
  for _, rate in ipairs(o.rates) do
    local new = rate * NEW_SECONDS
    with_lab(n + new, function(lab)
      local r, why = sync.lag(lab, { flows = n, new = new, rate = rate, interval = 1000 })
      if not r then error("lag at rate " .. rate .. ": " .. why, 0) end
      record{ what = "lag-rate", table = n, rate = rate, run = run, p50 = r.p50, p99 = r.p99, samples = r.samples,
              resolution_ms = r.resolution_ms, connections = r.outcome, load1 = load1() }
    end)
  end
end
tsv:close()

-- The plots: medians over the runs
local function median(v)
  table.sort(v)
  local k = #v
  return k % 2 == 1 and v[(k + 1) // 2] or (v[k // 2] + v[k // 2 + 1]) / 2
end
local function series(what, key, field)
  local by, xs = {}, {}
  for _, r in ipairs(rows) do
    if r.what == what and r[field] then
      local x = r[key]
      if not by[x] then by[x] = {}; xs[#xs + 1] = x end
      table.insert(by[x], r[field])
    end
  end
  local pts = {}
  for _, x in ipairs(xs) do pts[#pts + 1] = { x, median(by[x]) } end
  return pts
end
local loads = {}
for _, r in ipairs(rows) do loads[#loads + 1] = tonumber(r.load1) or 0 end
local note = string.format("%s (load %.1f-%.1f on 2 cores)", o.nat and ", NAT" or "", math.min(table.unpack(loads)),
                           math.max(table.unpack(loads)))
plot.curves(o.out .. "-size.svg", {
  title = "conntrackd against the table's size" .. note, x_label = "connections in the table",
  y_label = "ms", log_x = true,
  series = { { name = "lag p50", points = series("lag", "table", "p50") },
             { name = "lag p99", points = series("lag", "table", "p99") },
             { name = "conntrackd -c", points = series("takeover", "table", "commit_ms") },
             { name = "gate open (from fault)", points = series("takeover", "table", "gate_ms") } } })
plot.curves(o.out .. "-rate.svg", {
  title = string.format("replication lag against new connections a second, table %d", o.sizes[1]) .. note,
  x_label = "new connections a second", y_label = "ms", log_x = true,
  series = { { name = "lag p50", points = series("lag-rate", "rate", "p50") },
             { name = "lag p99", points = series("lag-rate", "rate", "p99") } } })
print("results: " .. o.out .. ".tsv, " .. o.out .. "-size.svg, " .. o.out .. "-rate.svg")
