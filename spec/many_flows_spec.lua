-- many_flows_spec.lua - what each of many connections lived through in a
-- failover. First the classification alone (fwsh.firewall.outcome): records
-- made by hand, in fwsh-flows' report format, and resets in a pcap made by
-- hand, go in; each class and each sender of a reset comes out, and each
-- is produced by changing one field of a connection that survived (so the
-- check can fail). Then a small failover of the firewall lab with 1,000
-- connections (scripts/lab/scenarios/many-flows.lua, power, one run), read
-- back from the per-connection table fwsh-flows merge wrote, and nothing of
-- it left: no process, link or namespace. The same with a few connections
-- through the qemu pair (the client a VM too), pending without a guest image.
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local outcome = require "fwsh.firewall.outcome"

local HEADER = "proto\tid\tsrc\tdst\topened_ms\testablished_ms\tended_ms\tsent\treceived\tverified\t"
               .. "last_ms\tmax_gap_ms\tgap_at_ms\tend\terrno\tcorrupt_at\tclass\n"
local SERVER = "10.0.0.1"

-- One report line: a connection that survived, with the fields in over changed.
local function rec(id, src, over)
  local r = { proto = "tcp", id = id, src = src, dst = SERVER .. ":5002", opened_ms = 10, established_ms = 11,
              ended_ms = 9000, sent = 6400, received = 6400, verified = 6400, last_ms = 8990, max_gap_ms = 180,
              gap_at_ms = 4000, ["end"] = "closed", errno = "-", corrupt_at = "-", class = "survived" }
  for k, v in pairs(over or {}) do r[k] = v end
  local cols = {}
  for name in HEADER:gmatch("[^\t\n]+") do cols[#cols + 1] = tostring(r[name]) end
  return table.concat(cols, "\t") .. "\n"
end

local function report(side, t0, lines)
  return string.format("# fwsh-flows %s start_monotonic_ms %.1f stall_ms 5000\n", side, t0) .. HEADER
         .. table.concat(lines)
end

-- A pcap file (microsecond stamps) of TCP resets: { {t=MS, src=, sport=, dst=, dport=, ttl=}, ... }.
local function pcap(packets)
  local out = { string.pack("<I4I2I2i4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1) }
  local function ip(a)
    local w, x, y, z = a:match("(%d+)%.(%d+)%.(%d+)%.(%d+)")
    return string.char(tonumber(w), tonumber(x), tonumber(y), tonumber(z))
  end
  for _, p in ipairs(packets) do
    local frame = string.rep("\2", 6) .. string.rep("\4", 6) .. string.pack(">I2", 0x0800)
                  .. string.pack(">BBI2I2I2BBI2", 0x45, 0, 40, 1, 0, p.ttl, 6, 0) .. ip(p.src) .. ip(p.dst)
                  .. string.pack(">I2I2I4I4BBI2I2I2", p.sport, p.dport, 1, 0, 0x50, 0x14, 0, 0, 0)
    local sec = math.floor(p.t / 1000)
    out[#out + 1] = string.pack("<I4I4I4I4", sec, math.floor((p.t - sec * 1000) * 1000), #frame, #frame) .. frame
  end
  return table.concat(out)
end

describe("the outcome of each connection", function()
  -- connections 0..7 from the client's side and the server's; the server's
  -- clock started 100 ms after the client's
  local C0, S0 = 50000, 50100
  local function sides(over_c, over_s, drop_server)
    local c, s = {}, {}
    for id = 0, 7 do
      local src = string.format("10.1.0.%d:%d", id < 4 and 66 or 194, 40000 + id)
      c[#c + 1] = rec(id, src, over_c[id])
      if not drop_server[id] then
        -- the server sees NATed ones (10.1.0.192/26) from the virtual IP, on another port
        local ssrc = id < 4 and src or string.format("10.0.0.254:%d", 50000 + id)
        s[#s + 1] = rec(id, ssrc, over_s[id])
      end
    end
    return outcome.read(report("client", C0, c)), outcome.read(report("server", S0, s))
  end

  it("reads a report: each TCP line by id, its times also on the monotonic clock", function()
    local c = outcome.read(report("client", C0, { rec(0, "10.1.0.66:40000"), rec(7, "10.1.0.66:40007"),
                                                  (rec(9, "10.1.0.66:1"):gsub("^tcp", "udp")) })
                           .. report("client", C0 + 5, { rec(3, "10.1.0.67:40003") }))
    assert.are.same({ 0, 3, 7 }, (function() local k = {} for id in pairs(c) do k[#k + 1] = id end
                                   table.sort(k) return k end)())
    assert.are.equal(C0 + 9000, c[0].ended_abs)
    assert.are.equal(C0 + 5 + 9000, c[3].ended_abs) -- a second process's own start
    assert.are.equal("closed", c[7]["end"])
  end)

  it("finds each class, and who sent each reset, from the records and the captured resets", function()
    local c, s = sides({
      [1] = { ["end"] = "corrupt", corrupt_at = 77, verified = 77 },             -- a changed byte
      [2] = { ["end"] = "reset", errno = "ECONNRESET", ended_ms = 4200 },       -- the firewall resets the client
      [3] = { ["end"] = "reset", errno = "ECONNRESET", ended_ms = 4300 },       -- the server resets the client
      [5] = { max_gap_ms = 7000, gap_at_ms = 4000 },                             -- a stall
      [7] = { ["end"] = "reset", errno = "ECONNRESET", ended_ms = 4500 },       -- unseen on the wire
    }, {
      [4] = { ["end"] = "reset", errno = "ECONNRESET", ended_ms = 4100 },       -- the client resets the server
    }, { [6] = true })                                                           -- the server never saw 6
    local client_port = outcome.rsts(pcap{
      { t = 1e6 + 4199, src = SERVER, sport = 5002, dst = "10.1.0.66", dport = 40002, ttl = 64 },
      { t = 1e6 + 4299, src = SERVER, sport = 5002, dst = "10.1.0.66", dport = 40003, ttl = 63 },
      -- a later reset of 2, forwarded: the first one decides
      { t = 1e6 + 4250, src = SERVER, sport = 5002, dst = "10.1.0.66", dport = 40002, ttl = 63 },
    }, "client")
    local server_link = outcome.rsts(pcap{
      -- 4 is NATed: on the server's link it is the virtual IP's port 50004
      { t = 1e6 + 4150, src = "10.0.0.254", sport = 50004, dst = SERVER, dport = 5002, ttl = 63 },
    }, "server")
    assert.are.equal(3, #client_port)
    assert.are.same({ t = 1e6 + 4299, src = SERVER, sport = 5002, dst = "10.1.0.66", dport = 40003, ttl = 63,
                      where = "client" }, client_port[2])
    local rsts = { client_port[1], client_port[2], client_port[3], server_link[1] }
    local r = outcome.decide(c, s, { stall_ms = 5000, rsts = rsts, server = SERVER, nat_prefix = "10.1.0.192/26" })
    local class = {}
    for id = 0, 7 do class[id] = r.connections[id].class end
    assert.are.same({ [0] = "survived", "lost_bytes", "reset", "reset", "reset", "stalled", "failed", "reset" },
                    class)
    assert.are.same({ firewall = 1, server = 1, client = 1, unseen = 1 }, r.resets_by)
    assert.are.equal("firewall", r.connections[2].reset_by)
    assert.are.equal("server", r.connections[3].reset_by)
    assert.are.equal("client", r.connections[4].reset_by)
    assert.is_nil(r.connections[7].reset_by)
    assert.are.equal("server", r.connections[4].first_reset) -- the server's socket saw it
    assert.are.equal("client", r.connections[2].first_reset)
    assert.are.same({ 8, 1, 1, 4, 1, 1 }, { r.total, r.survived, r.stalled, r.reset, r.lost_bytes, r.failed })
    -- the halves: 0-3 from 10.1.0.66, 4-7 from 10.1.0.194 (NATed)
    assert.are.same({ 4, 1, 0, 2, 1 }, { r.plain.total, r.plain.survived, r.plain.stalled, r.plain.reset,
                                         r.plain.lost_bytes })
    assert.are.same({ 4, 0, 1, 2, 0 }, { r.nat.total, r.nat.survived, r.nat.stalled, r.nat.reset, r.nat.lost_bytes })
    -- each connection's gap: the longer side's; 8 values
    assert.are.same({ min = 180, median = 180, p99 = 7000, max = 7000, n = 8 }, r.gap)
    assert.are.same({
      "connections: total 8 survived 1 stalled 1 reset 4 lost_bytes 1",
      "resets_by: firewall 1 server 1 client 1",
      "resets_unseen: 1 (no reset packet of theirs captured)",
      "connections_failed: 1",
      "connection_gap_ms min/median/p99/max: 180.0 / 180.0 / 7000.0 / 7000.0",
    }, outcome.lines(r))
    assert.are.equal("connections_nat: total 4 survived 0 stalled 1 reset 2 lost_bytes 0", outcome.lines(r.nat, "nat")[1])
  end)

  it("counts every connection as survived when nothing happened to it, and the stall bound is an option", function()
    local c, s = sides({}, {}, {})
    local r = outcome.decide(c, s, { stall_ms = 5000, server = SERVER })
    assert.are.same({ 8, 8, 0, 0, 0, 0 }, { r.total, r.survived, r.stalled, r.reset, r.lost_bytes, r.failed })
    assert.is_nil(r.nat)
    -- the same records, a bound shorter than their 180 ms gaps: all stalled
    r = outcome.decide(c, s, { stall_ms = 100, server = SERVER })
    assert.are.equal(8, r.stalled)
  end)

  it("tells, of what did not survive, what was opened within a second of the fault", function()
    -- 4, 5, 6 and 7 stall; 5 opened 300 ms before the fault (C0 + 4000), 6
    -- long before, 7 100 ms after it (through a master whose kernel still
    -- forwarded), 4 1.5 s after it
    local c, s = sides({ [5] = { opened_ms = 3700, max_gap_ms = 7000, gap_at_ms = 3800 },
                         [6] = { max_gap_ms = 7000, gap_at_ms = 3800 },
                         [7] = { opened_ms = 4100, max_gap_ms = 7000, gap_at_ms = 4200 },
                         [4] = { opened_ms = 5500, max_gap_ms = 7000, gap_at_ms = 5600 } }, {}, {})
    local r = outcome.decide(c, s, { stall_ms = 5000, server = SERVER, fault_ms = C0 + 4000 })
    assert.are.same({ lost = 2, all = 4 }, r.young)
    assert.are.equal("not_survived_young: 2 of 4 (opened within a second of the failure, before or after it)",
                     outcome.lines(r)[3])
    assert.is_nil(outcome.decide(c, s, { stall_ms = 5000, server = SERVER }).young)
  end)

  it("finds a lost byte on either side, and a server that closed early", function()
    local c, s = sides({ [0] = { verified = 6399 } }, { [1] = { ["end"] = "short" }, [2] = { ["end"] = "corrupt" } }, {})
    local r = outcome.decide(c, s, { server = SERVER })
    assert.are.same({ "lost_bytes", "lost_bytes", "lost_bytes", "survived" },
                    { r.connections[0].class, r.connections[1].class, r.connections[2].class, r.connections[3].class })
  end)

  it("reads no resets from what is not a pcap file", function()
    assert.are.same({}, outcome.rsts("", "client"))
    assert.are.same({}, outcome.rsts(string.rep("x", 100), "client"))
  end)
end)

-- The flow tool's and the lab's processes of labs made in namespace ns, as
-- a set of pids: those in a cgroup fwsh.LAB.NSINO of ns's inode (other labs
-- may run on the machine meanwhile, in namespaces of their own).
local KINDS = { "fwsh-flows", "keepalived", "conntrackd", "fwsh-probe", "fwsh-stream", "fwsh-capture",
                "qemu-system-x86" }
local function pids(ns)
  local ino = H.run({ "stat", "-L", "-c", "%i", "/run/netns/" .. ns }):gsub("%s+$", "")
  assert(ino:match("^%d+$"), "no inode for " .. ns)
  local set = {}
  for _, name in ipairs(KINDS) do
    for pid in H.run({ "pgrep", "-x", name }):gmatch("%d+") do
      local cg = H.read_file("/proc/" .. pid .. "/cgroup") or ""
      if cg:find("%." .. ino .. "/") or cg:find("%." .. ino .. "\n") then set[pid] = name end
    end
  end
  return set
end

-- Nothing of a run is left: none of the lab's processes but those of before,
-- no link in ns but lo, the named namespaces as they were.
local function nothing_left(ns, before, netns)
  local left = {}
  for pid, name in pairs(pids(ns)) do if not before[pid] then left[#left + 1] = name .. " " .. pid end end
  assert.are.same({}, left)
  assert.are.same({ "lo" }, H.link_names(ns))
  assert.are.same(netns, H.netns_names())
end

describe("a failover with 1,000 connections", function()
  it("through the namespace pair, power: every connection accounted for, each in the table", H.ns(function(ns)
    -- fwsh-flows' C runs under the sanitizer in flows_spec, with connections
    -- of each class; a thousand of them through a failover is the lab's
    -- and the daemons' behaviour, which the plain pass checks.
    if os.getenv("LD_PRELOAD") then pending("the plain pass runs the 1,000 connections") return end
    local before, netns = pids(ns), H.netns_names()
    local base = os.tmpname()
    local tsv, json = base .. ".tsv", base .. ".json"
    -- 100 ms adverts: with 10 ms ones, a machine loaded by other work (and
    -- the sanitizer) delays the backup's keepalived past the 36 ms that make
    -- it take over, and the pair flaps while the connections run (see README)
    local out, ok = H.fwsh_cmd({ H.root .. "/scripts/lab/scenarios/many-flows.lua", "--flows", "1000", "--advert", "0.1",
                                 "--new-rate", "100", "--interval", "200", "--tsv", tsv,
                                 "--json", json, "--expect", "reset_firewall=0" },
                               { prefix = { "ip", "netns", "exec", ns }, stderr = true })
    local text = H.read_file(tsv) or ""
    os.remove(tsv)
    os.remove(json)
    os.remove(base)
    assert(ok, out)
    -- the report's lines, exactly
    local t, sv, st, rs, lb = out:match("\nconnections: total (%d+) survived (%d+) stalled (%d+) reset (%d+) lost_bytes (%d+)\n")
    assert.truthy(t, out)
    assert.truthy(out:match("\nresets_by: firewall 0 server %d+ client %d+\n"), out)
    assert.truthy(out:match("\nreplication_lag_ms p50/p99: [%d.na/]+ / [%d.na/]+\n"), out)
    assert.truthy(out:match("\ncommit_ms: [%d.na/]+\n"), out)
    assert.truthy(out:match("\nconnection_gap_ms min/median/p99/max: [%d.]+ / [%d.]+ / [%d.]+ / [%d.]+\n"), out)
    -- the table fwsh-flows merge wrote: one line per connection, ids 0.. without a hole
    -- (1,000 first, then the new ones), each in one class, agreeing with the counts
    local counts, ids, n = { survived = 0, stalled = 0, reset = 0, lost_bytes = 0, failed = 0 }, {}, 0
    for line in text:gmatch("[^\n]+") do
      local proto, id, cc, sc, class, gap = line:match("^(%a+)\t(%d+)\t([%a_]+)\t([%a_-]+)\t([%a_]+)\t([%d.]+)$")
      if proto == "tcp" then
        n = n + 1
        ids[tonumber(id)] = true
        counts[class] = counts[class] + 1
        assert.truthy(tonumber(gap) >= 0, line)
        -- a connection survived only if it did at both ends
        if class == "survived" then assert.are.same({ "survived", "survived" }, { cc, sc }) end
      end
    end
    assert.are.equal(tonumber(t), n)
    assert.truthy(n >= 1000, out)
    for id = 0, n - 1 do assert.truthy(ids[id], "no line for connection " .. id) end
    assert.are.same({ tonumber(sv), tonumber(st), tonumber(rs), tonumber(lb) },
                    { counts.survived, counts.stalled, counts.reset, counts.lost_bytes })
    -- power: no connection was reset or lost a byte (a stall is timing: on a
    -- loaded machine, and under the sanitizer, a connection can wait longer
    -- than the bound for its turn; whether most survived is the scenario's
    -- --expect survived_pct, not this spec's)
    assert.are.same({ 0, 0 }, { counts.reset, counts.lost_bytes }, out)
    assert.truthy(counts.survived > 0, out)
    -- nothing of it left
    nothing_left(ns, before, netns)
  end))
end)

describe("many connections, interrupted", function()
  local fwsh = H.fwsh
  -- A process's start time (field 22 of /proc/PID/stat), nil if it is gone.
  local function start_of(pid)
    local stat = H.read_file("/proc/" .. pid .. "/stat")
    local rest = stat and stat:match("^%d+ %b() (.*)")
    local k = 0
    for field in (rest or ""):gmatch("%S+") do
      k = k + 1
      if k == 20 then return field end
    end
  end
  -- Whether the process pid seen with start time start still exists (a
  -- zombie too: nobody reaped it).
  local function alive(pid, start) return start_of(pid) == start end
  local function starts(set)
    local out = {}
    for pid, name in pairs(set) do
      local start = start_of(pid)
      if start then out[pid] = { name = name, start = start } end
    end
    return out
  end
  -- The scenario with 3,000 connections, its signal sent once both sides'
  -- flow processes run and the first connections are up; returns the lab's
  -- processes as they were then, and the program's end.
  local function interrupt(ns, sig)
    local log = os.tmpname()
    local p = fwsh.proc.spawn({ H.build .. "/fwsh", H.root .. "/scripts/lab/scenarios/many-flows.lua",
                                "--flows", "3000", "--advert", "0.1", "--interval", "200" }, { stdout = log })
    local seen, r
    local ok, err = pcall(function()
      fwsh.wait{ fn = function()
        local n = 0
        for _, name in pairs(pids(ns)) do if name == "fwsh-flows" then n = n + 1 end end
        return n >= 2
      end, interval = 0.1, timeout = 120 }
      H.run({ "sleep", "1" })
      seen = starts(pids(ns))
      p:kill(sig)
      r = p:wait(60)
    end)
    p:stop(1)
    local text = H.read_file(log) or ""
    os.remove(log)
    if not ok then error(tostring(err) .. "\n" .. text, 0) end
    return seen, r, text
  end
  local function none_left(seen)
    local left = {}
    for pid, s in pairs(seen) do if alive(pid, s.start) then left[#left + 1] = s.name .. " " .. pid end end
    return left
  end

  it("Ctrl-C while they run leaves no process, socket, link or namespace", H.ns(function(ns)
    -- fwsh's own signal handling runs sanitized in runner_spec and sigkill_spec
    if os.getenv("LD_PRELOAD") then pending("the plain pass runs the interrupted lab") return end
    local netns = H.netns_names()
    local seen, r, text = interrupt(ns, "INT")
    assert.are.equal(130, r.code, text)
    assert.truthy(next(seen), "no lab process was seen")
    fwsh.wait{ fn = function() return #none_left(seen) == 0 end, interval = 0.1, timeout = 10 }
    assert.are.same({}, none_left(seen))
    assert.are.same({ "lo" }, H.link_names(ns))
    assert.are.same(netns, H.netns_names())
    assert.are.equal("", H.run({ "ss", "-Htan", "state", "established" }))
  end))

  it("a SIGKILL of fwsh takes the flow processes with it, and fwsh down removes the rest", H.ns(function(ns)
    -- fwsh's own signal handling runs sanitized in runner_spec and sigkill_spec
    if os.getenv("LD_PRELOAD") then pending("the plain pass runs the interrupted lab") return end
    local netns = H.netns_names()
    local seen, r, text = interrupt(ns, "KILL")
    assert.are.equal(9, r.signal, text)
    -- the flow processes went with fwsh (their parent-death signal)
    local function flows_left()
      local left = {}
      for _, x in ipairs(none_left(seen)) do if x:find("^fwsh%-flows ") then left[#left + 1] = x end end
      return left
    end
    pcall(fwsh.wait, { fn = function() return #flows_left() == 0 end, interval = 0.1, timeout = 20 })
    assert.are.same({}, flows_left())
    local out, ok = H.fwsh_cmd({ "down", "many-flows" }, { prefix = { "ip", "netns", "exec", ns }, stderr = true })
    assert(ok, out)
    fwsh.wait{ fn = function() return #none_left(seen) == 0 end, interval = 0.1, timeout = 10 }
    assert.are.same({}, none_left(seen))
    assert.are.same({ "lo" }, H.link_names(ns))
    assert.are.same(netns, H.netns_names())
  end))
end)

describe("a failover with 60 connections", function()
  it("through the qemu pair, power: the outcome lines, every connection counted (slow: three guests boot)",
     H.ns(function(ns)
    local img, why = H.guest_image()
    if not img then pending(why) return end
    -- as the other VM specs: three TCG guests beside the sanitizer pass
    -- starve on two cores; what runs here is Lua and the guests, which the
    -- plain pass checks
    if os.getenv("LD_PRELOAD") then pending("the plain pass runs the VM flows") return end
    local before, netns = pids(ns), H.netns_names()
    local base = os.tmpname()
    local tsv = base .. ".tsv"
    -- no new connections during the run: the total is then exactly --flows
    local out, ok = H.fwsh_cmd({ H.root .. "/scripts/lab/scenarios/many-flows.lua", "--backend", "qemu",
                                 "--flows", "60", "--interval", "200", "--tsv", tsv },
                               { prefix = { "ip", "netns", "exec", ns }, stderr = true })
    local text = H.read_file(tsv) or ""
    os.remove(tsv)
    os.remove(base)
    assert(ok, out)
    local t = out:match("\nconnections: total (%d+) survived %d+ stalled %d+ reset %d+ lost_bytes %d+\n")
    assert.are.equal("60", t, out)
    assert.truthy(out:match("\nresets_by: firewall %d+ server %d+ client %d+\n"), out)
    assert.truthy(out:match("\nreplication_lag_ms p50/p99: [%d.na/]+ / [%d.na/]+\n"), out)
    assert.truthy(out:match("\ncommit_ms: [%d.na/]+\n"), out)
    assert.truthy(out:match("\nconnection_gap_ms min/median/p99/max: [%d.]+ / [%d.]+ / [%d.]+ / [%d.]+\n"), out)
    -- the table fwsh-flows merge wrote from the guest's and the host's reports:
    -- one line for each of the 60, ids 0..59
    local ids, n = {}, 0
    for line in text:gmatch("[^\n]+") do
      local id = line:match("^tcp\t(%d+)\t")
      if id then n, ids[tonumber(id)] = n + 1, true end
    end
    assert.are.equal(60, n, text)
    for id = 0, 59 do assert.truthy(ids[id], "no line for connection " .. id) end
    -- nothing of it left: no VM, daemon or flow process, no link, no namespace
    nothing_left(ns, before, netns)
  end))
end)
