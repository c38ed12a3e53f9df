-- many-flows.lua - a power failover of the namespace firewall pair against
-- the number of connections it carries (half of them NATed, 100 new ones a
-- second, the lab's default fix): for each size, one run of
-- scripts/lab/scenarios/many-flows.lua, its report kept, and one plot of
-- what survived, the new master's commit and the connections' gap p99
-- against the size.
--
-- usage: fwsh --sandbox bench/many-flows.lua [--sizes 1000,10000,30000,100000] [--out bench/results/many-flows]
--        fwsh bench/many-flows.lua --from OUT-1000.log OUT-10000.log ...   (the plot from kept reports)
-- Writes OUT-N.log (each run's report) and OUT-curve.svg; prints one line a size.
local fwsh = require "fwsh"
local plot = require "fwsh.plot"

local o = { sizes = { 1000, 10000, 30000, 100000 }, out = "bench/results/many-flows", from = nil }
local i = 1
while i <= #arg do
  local k, v = arg[i], arg[i + 1]
  if k == "--sizes" and v then
    o.sizes = {}
    for n in v:gmatch("%d+") do o.sizes[#o.sizes + 1] = math.tointeger(tonumber(n)) end
    i = i + 2
  elseif k == "--out" and v then o.out = v; i = i + 2
  elseif k == "--from" then
    o.from = {}
    for j = i + 1, #arg do o.from[#o.from + 1] = arg[j] end
    i = #arg + 1
  else
    error("usage: fwsh --sandbox bench/many-flows.lua [--sizes 1000,10000] [--out PREFIX] | --from LOG...", 0)
  end
end

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

-- One report's figures: { n, total, survived_pct, stalled, reset, commit_ms, gap_p99_ms }
local function figures(text)
  local n = tonumber(text:match("many flows: (%d+) connections"))
  local t, s, x, r = text:match("\nconnections: total (%d+) survived (%d+) stalled (%d+) reset (%d+)")
  if not (n and t) then return nil end
  return { n = n, total = tonumber(t), survived_pct = 100 * tonumber(s) / tonumber(t), stalled = tonumber(x),
           reset = tonumber(r), commit_ms = tonumber(text:match("\ncommit_ms: ([%d.]+)")),
           gap_p99_ms = tonumber(text:match("\nconnection_gap_ms min/median/p99/max: [%d.]+ / [%d.]+ / ([%d.]+)")) }
end

local runs = {}
if o.from then
  for _, path in ipairs(o.from) do runs[#runs + 1] = assert(figures(read(path)), path .. ": no report") end
else
  -- the program that runs this script: arg's first entry (arg[-1] is
  -- the last option before the script, --sandbox under fwsh --sandbox)
  local first = -1
  while arg[first - 1] do first = first - 1 end
  local self = arg[first] or "fwsh"
  for _, n in ipairs(o.sizes) do
    local r = fwsh.proc.run({ self, "scripts/lab/scenarios/many-flows.lua", "--flows", tostring(n), "--nat",
                              "--mode", "power", "--new-rate", "100", "--lag-table", "1000" }, { timeout = 1800 })
    local path = string.format("%s-%d.log", o.out, n)
    require("fwsh.effect").write(path, (r.out or "") .. (r.err or ""))
    runs[#runs + 1] = figures(r.out or "") or error(path .. ": the run printed no report", 0)
  end
end
table.sort(runs, function(a, b) return a.n < b.n end)
local surv, commit, gap = {}, {}, {}
for _, r in ipairs(runs) do
  print(string.format("%7d connections: %d in all, %.2f %% survived, %d stalled, %d reset, commit %s ms, gap p99 %s ms",
                      r.n, r.total, r.survived_pct, r.stalled, r.reset, tostring(r.commit_ms), tostring(r.gap_p99_ms)))
  surv[#surv + 1] = { r.n, r.survived_pct }
  if r.commit_ms then commit[#commit + 1] = { r.n, r.commit_ms / 1000 } end
  if r.gap_p99_ms then gap[#gap + 1] = { r.n, r.gap_p99_ms / 1000 } end
end
plot.curves(o.out .. "-curve.svg", {
  title = "a power failover against the connections it carries (half NATed, the fix on)",
  xlabel = "connections", ylabel = "% survived; seconds", log_x = true,
  series = { { label = "survived, %", points = surv }, { label = "conntrackd -c, s", points = commit },
             { label = "each connection's longest gap, p99, s", points = gap } },
})
print("plot: " .. o.out .. "-curve.svg")
