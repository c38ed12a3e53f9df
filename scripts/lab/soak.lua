-- soak.lua - failovers in a row (default 100), cycling through the modes
-- (power, hang, client-cable, server-cable, sync-cut: see lab:failover), so
-- that the master alternates, and then the proof that nothing was left:
--   processes  no child of fwsh remains, in any state (zombies included),
--              once the lab is closed (fwsh is the subreaper of all it starts)
--   links, named namespaces, this lab's directories: the same as before the lab
--   file descriptors of fwsh: as many after the last failover as after the first
-- It prints each mode's distribution (min / median / p95 / max) and ends with
-- "N failovers, N leaks".
--
-- With --flows N, each failover also carries N connections (fwsh-flows, a
-- byte every 100 ms each, --new-rate R new ones a second): each run's
-- outcome of them is printed, and for the runs over 100 ms when the
-- connections' own gaps began and ended, from the fault: whether the
-- probe's long gap was the path's (every connection's gap as long) or the
-- probe's own.
--
-- usage: fwsh --sandbox scripts/lab/soak.lua [--runs 100] [--advert S] [--backend qemu] [--master fw-2]
--            [--expect EXPR] [--json FILE] [--junit FILE]   (firewall.scenario runs it: a step a failover)
--            [--flows N [--new-rate R]] [--mode M (only that mode)]
local firewall = require "fwsh.firewall"
local errors = require "fwsh.errors"

local function my_pid()
  local f = assert(io.open("/proc/self/stat", "r"))
  local pid = f:read("l"):match("^(%d+)")
  f:close()
  return pid
end
local me = my_pid()

local function lines(argv, partial)
  local r = fwsh.proc.run(argv)
  assert(r.ok or partial, table.concat(argv, " ") .. ": " .. r.err)
  local t = {}
  for l in r.out:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

-- What must be the same after the lab as before it.
local function state()
  local s = { procs = {}, links = {}, netns = {}, dirs = {} }
  for _, l in ipairs(lines({ "ps", "-e", "-o", "pid=,ppid=,stat=,comm=" })) do
    local pid, ppid, stat, comm = l:match("^%s*(%d+)%s+(%d+)%s+(%S+)%s+(.*)$")
    if ppid == me and comm ~= "ps" then s.procs[#s.procs + 1] = comm .. " " .. pid .. " (" .. stat .. ")" end
  end
  for _, l in ipairs(fwsh.link.list()) do s.links[#s.links + 1] = l.name end
  for _, n in ipairs(fwsh.netns.list()) do s.netns[#s.netns + 1] = n end
  -- this lab's directories only: without --sandbox the root is /tmp, where
  -- other labs on the machine make and remove theirs meanwhile
  local root, prefix = os.getenv("FWSH_LAB_ROOT") or "/tmp", "fwsh-" .. fwsh.lab() .. "."
  for _, d in ipairs(lines({ "ls", "-a", root })) do
    if d:sub(1, #prefix) == prefix then s.dirs[#s.dirs + 1] = root .. "/" .. d end
  end
  for _, k in ipairs({ "procs", "links", "netns", "dirs" }) do table.sort(s[k]) end
  return s
end

-- fwsh's open files, as "fd -> what": those in two listings in a row, since
-- each listing also shows the pipes fwsh has to the ls making it (new ones
-- each time, some closed while ls runs).
local function fds()
  local function list()
    local t = {}
    for _, l in ipairs(lines({ "ls", "-l", "/proc/" .. me .. "/fd" }, true)) do
      local fd, what = l:match("(%d+) %-> (.*)$")
      if fd then t[fd .. " -> " .. what] = true end
    end
    return t
  end
  local a, b, both = list(), list(), {}
  for k in pairs(a) do if b[k] then both[#both + 1] = k end end
  table.sort(both)
  return both
end

local function diff(what, before, after, out)
  local had = {}
  for _, x in ipairs(before) do had[x] = true end
  for _, x in ipairs(after) do
    if not had[x] then out[#out + 1] = what .. " " .. x end
  end
end

local before = state()
local by_mode, fds_first, fds_last, t0 = {}, nil, nil, nil
local results = firewall.scenario{
  args = { ... },
  -- --flows: the flow tool's ports in the ruleset (and conntrackd sized for them)
  options = { ["--runs"] = "runs", ["--flows"] = "flows", ["--new-rate"] = "new_rate" },
  reps = function(o)
    local n = o.runs == nil and 100 or math.tointeger(o.runs)
    if not n or n < 1 then errors.raise("soak", "--runs", "needs a count", 0) end
    return n
  end,
  title = function(o)
    return string.format("soak: %d failovers, adverts every %g s, %s backend", o.runs or 100,
                         o.advert_int or firewall.advert_int[o.backend or "netns"], o.backend or "netns")
  end,
  run = function(lab, o, i)
    t0 = t0 or fwsh.proc.clock()
    local mode = o.mode or firewall.modes[(i - 1) % #firewall.modes + 1]
    local r = lab:failover(mode, { down = o.down, flows = o.flows and {
      flows = o.flows, new_rate = o.new_rate or 0, interval = 100, stall_ms = 5000 } })
    by_mode[mode] = by_mode[mode] or {}
    table.insert(by_mode[mode], r)
    if i == 1 then fds_first = fds() end
    fds_last = fds()
    if r.flows then
      local f = r.flows
      print(string.format("run %d %s: connections: total %d survived %d stalled %d reset %d lost_bytes %d; "
                          .. "probe gap %.1f ms from %s ms", i, mode, f.total, f.survived, f.stalled, f.reset,
                          f.lost_bytes, r.outage_ms or -1, r.gap_from_ms and string.format("%.0f", r.gap_from_ms) or "?"))
    end
    firewall.progress(string.format("soak: %d/%d %-12s %s -> %s %7.1f ms %-10s %4.0f s", i, o.runs or 100, mode,
                                    r.from, r.to, r.outage_ms or -1, r.stream, fwsh.proc.clock() - t0))
    return r
  end,
  after = function() firewall.progress("") end,
}

print(string.format("%-13s %5s  %-34s %-34s %s", "by mode", "runs", "outage_ms min/median/p95/max",
                    "mac_move_ms min/median/p95/max", "tcp_stream"))
local all_survived = true
for _, mode in ipairs(firewall.modes) do
  local rs = by_mode[mode] or {}
  local outages, macs, survived = {}, {}, 0
  for _, r in ipairs(rs) do
    outages[#outages + 1] = r.outage_ms or math.huge
    if r.mac_ms then macs[#macs + 1] = r.mac_ms end
    if r.stream == "survived" then survived = survived + 1 else all_survived = false end
  end
  if #rs > 0 then
    print(string.format("%-13s %5d  %-34s %-34s survived %d/%d", mode, #rs, firewall.stats(outages),
                        firewall.stats(macs), survived, #rs))
  end
end

-- Runs over 100 ms, with when their gap began, counted from the fault.
for i, r in ipairs(results) do
  if (r.outage_ms or 0) > 100 then
    print(string.format("over 100 ms: run %d, %s, %s -> %s: %.1f ms, from %s ms after the fault; MACs moved at %s / %s ms",
                        i, r.mode, r.from, r.to, r.outage_ms,
                        r.gap_from_ms and string.format("%.0f", r.gap_from_ms) or "?",
                        r.mac_ms and string.format("%.0f", r.mac_ms) or "-",
                        r.mac0_ms and string.format("%.0f", r.mac0_ms) or "-"))
    if r.flows then
      for _, line in ipairs(require("fwsh.firewall.outcome").lines(r.flows)) do print("  " .. line) end
    end
  end
end

local after, leaks = state(), {}
for _, k in ipairs({ "procs", "links", "netns", "dirs" }) do diff(k, before[k], after[k], leaks) end
if fds_last and fds_first and #fds_last > #fds_first then
  diff("fd", fds_first, fds_last, leaks)
end
for _, l in ipairs(leaks) do print("leak: " .. l) end
print(string.format("file descriptors of fwsh: %d after the first failover, %d after the last",
                    fds_first and #fds_first or -1, fds_last and #fds_last or -1))
print(string.format("%d failovers, %d leaks", #results, #leaks))
if #leaks > 0 or not all_survived then os.exit(1) end
