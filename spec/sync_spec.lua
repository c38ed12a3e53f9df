-- sync_spec.lua - conntrackd on the firewall lab, at the size of its table:
-- its configuration follows the declared number of connections (read back
-- from the file the lab wrote, and conntrackd running with it); replication
-- lag and commit time are measured (fwsh.firewall.sync); and the RST window
-- of a takeover (the new master gets the virtual IPs before its
-- `conntrackd -c` is done) resets connections with the fix off and none
-- with it on, in one run. What happened to each connection is what
-- fwsh-flows recorded at both ends; the gate's state is nft's own listing.
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local conntrackd = require "fwsh.conntrackd"
local firewall = require "fwsh.firewall"
local sync = require "fwsh.firewall.sync"
local json = require "dkjson"
local T = require "fwsh.firewall.topology"

-- conntrackd.conf's value for key (the first line that sets it)
local function value(text, key)
  return tonumber(text:match("\n%s*" .. key .. " (%d+)\n"))
end

local function conf_of(lab, fw) return H.read_file(lab:file(fw .. "-conntrackd.conf")) end

-- The elements of the ruleset's gate on node fw, as nft lists them (JSON);
-- nil if the ruleset has no gate.
local function gate(fw)
  local out, ok = H.run({ "ip", "netns", "exec", fw, "nft", "-j", "list", "set", "inet", "fwsh", "pending" })
  if not ok then return nil end
  for _, item in ipairs(json.decode(out).nftables) do
    if item.set then return item.set.elem or {} end
  end
  error("no set in " .. out)
end

-- The last line fwsh-notify wrote for event on fw: { launched, started, end1, status1, ... }
local function last_notify(lab, fw, event)
  local last
  for line in (H.read_file(lab:file(fw .. "-notify.log")) or ""):gmatch("[^\n]+") do
    if line:match("^" .. event .. " ") then
      last = {}
      for w in line:gmatch("%S+", #event + 1) do last[#last + 1] = tonumber(w) end
    end
  end
  return last
end

describe("conntrackd sized for the table", function()
  it("keeps the sizes of before for a small or undeclared table; the netlink buffer follows any", function()
    local base = { local_address = "10.2.0.1", peer_address = "10.2.0.2", interface = "eth2",
                   socket = "/tmp/x/ct.ctl", lock = "/tmp/x/ct.lock" }
    for _, flows in ipairs({ false, 1, 8192, 16000 }) do
      base.flows = flows or nil
      local text = conntrackd.config(base)
      -- twice conntrackd's commit step, so that a flush after a commit is taken
      assert.are.equal(16384, value(text, "HashSize"))
      assert.are.equal(65536, value(text, "HashLimit"))
      -- 256 bytes a connection, a power of two, 2 MB at least; four times that at most
      local nl = flows == 16000 and 4194304 or 2097152
      assert.are.equal(nl, value(text, "NetlinkBufferSize"))
      assert.are.equal(4 * nl, value(text, "NetlinkBufferSizeMaxGrowth"))
      assert.are.equal(1249280, value(text, "SndSocketBuffer"))
      assert.are.equal(1249280, value(text, "RcvSocketBuffer"))
    end
  end)

  it("refuses a count that is no count of connections", function()
    local base = { local_address = "10.2.0.1", peer_address = "10.2.0.2", interface = "eth2",
                   socket = "/tmp/x/ct.ctl", lock = "/tmp/x/ct.lock" }
    for _, bad in ipairs({ 0, -1, 1.5, "1000", conntrackd.max_flows + 1 }) do
      base.flows = bad
      H.raises(function() conntrackd.config(base) end, "conntrackd: flows", "refused")
      H.raises(function() firewall.build{ flows = bad } end, "firewall.build", "flows")
    end
  end)

  it("refuses a fix that is neither on nor off, and the fix on VMs, before building", H.ns(function(ns)
    H.raises(function() firewall.build{ fix = "maybe" } end, "firewall.build", "fix is \"on\"")
    H.raises(function() firewall.build{ fix = true } end, "firewall.build", "fix is \"on\"")
    H.raises(function() firewall.build{ fix = "on", backend = "qemu" } end, "firewall.build", "netns backend")
    -- a configuration of one's own has no gate: fix and flows are the files'
    H.raises(function() firewall.build{ fix = "on", config = "/nonexistent" } end, "firewall.build", "fix",
             "comes from the configuration")
    H.raises(function() firewall.build{ flows = 1000, config = "/nonexistent" } end, "firewall.build", "flows",
             "comes from the configuration")
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("refuses a table the host's nf_conntrack_max cannot hold, before building", H.ns(function(ns)
    local max = tonumber(H.read_file("/proc/sys/net/netfilter/nf_conntrack_max"))
    if not max or max // 2 + 1 > conntrackd.max_flows then pending("nf_conntrack_max is not readable or too large") return end
    H.raises(function() firewall.build{ flows = max // 2 + 1 } end, "firewall.build", "nf_conntrack_max", tostring(max))
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("writes 100,000 connections' sizes and conntrackd runs with them", H.ns(function()
    local max = tonumber(H.read_file("/proc/sys/net/netfilter/nf_conntrack_max"))
    if not max or max < 200000 then pending("nf_conntrack_max " .. tostring(max) .. " < 200000") return end
    local lab <close> = firewall.build{ flows = 100000 }
    for _, fw in ipairs({ "fw-1", "fw-2" }) do
      local text = conf_of(lab, fw)
      assert.are.equal(262144, value(text, "HashLimit"), text)
      assert.are.equal(32768, value(text, "HashSize"))
      assert.are.equal(33554432, value(text, "NetlinkBufferSize"))
      assert.are.equal(134217728, value(text, "NetlinkBufferSizeMaxGrowth"))
      assert.are.equal(8388608, value(text, "SndSocketBuffer"))
      assert.are.equal(8388608, value(text, "RcvSocketBuffer"))
      -- the daemon took it: it answers, and says so in its own statistics
      local out, ok = H.run({ "ip", "netns", "exec", fw, "conntrackd", "-C", lab:file(fw .. "-conntrackd.conf"), "-s" })
      assert(ok, out)
      assert.truthy(out:find("cache internal", 1, true), out)
      -- under the normal scheduler: it asked for SCHED_RR 99 and was
      -- refused, so its commit cannot starve keepalived
      assert.are.equal(0, H.sched_policy(lab.nodes[fw].daemons.conntrackd.proc:pid()))
      assert.truthy(H.read_file(lab:file(fw .. "-conntrackd.log")):find("scheduler configuration failed", 1, true))
    end
  end))
end)

-- The labs here advertise every 100 ms, not the default 10: on two cores
-- shared with other work a starved backup took over for a moment again and
-- again (its notifications recorded it), and those flaps stalled
-- connections that the measurement is not about.
describe("export", function()
  it("writes no gate: a firewall outside the lab has no fwsh-notify to open it", function()
    local texts = require("fwsh.firewall.config").generated{}
    assert.is_nil(texts["fw-1"].ruleset:find("pending", 1, true))
    assert.truthy(texts["fw-1"].keepalived:find('notify_master "/usr/sbin/conntrackd -C /etc/conntrackd/conntrackd.conf -c"', 1, true))
    local sized = require("fwsh.firewall.config").generated{ flows = 100000 }
    assert.are.equal(262144, value(sized["fw-2"].conntrackd, "HashLimit"))
    -- adverts follow the table too: 10 ms up to 30,000 connections, 100 ms above
    -- unless asked (at 100,000, 10 ms flapped 335 times in one run here)
    assert.truthy(sized["fw-1"].keepalived:find("\n  advert_int 0.1\n", 1, true))
    assert.truthy(texts["fw-1"].keepalived:find("\n  advert_int 0.01\n", 1, true))
    local r = require("fwsh.firewall.config").generated{ flows = 30000 }
    assert.truthy(r["fw-1"].keepalived:find("\n  advert_int 0.01\n", 1, true))
    r = require("fwsh.firewall.config").generated{ flows = 100000, advert_int = 0.02 }
    assert.truthy(r["fw-1"].keepalived:find("\n  advert_int 0.02\n", 1, true))
  end)
end)

describe("replication lag and commit time", function()
  it("are measured on a small lab: 200 new connections, one takeover", H.ns(function()
    -- This and the RST window are measurements of conntrackd and keepalived
    -- through the lab (Lua); fwsh's C under a lab runs in the sanitizer pass
    -- in the cases above and in failover_spec's scenarios.
    if os.getenv("LD_PRELOAD") then pending("the plain pass measures the lag and the commit") return end
    local lab <close> = firewall.build{ flows = 400, advert_int = 0.1 }
    local r = assert(sync.lag(lab, { flows = 200, new = 200, rate = 50 }))
    assert.truthy(r.samples > 0 and r.samples <= 200, r.samples)
    assert.truthy(r.p50 > 0 and r.p99 >= r.p50, string.format("p50 %s p99 %s", r.p50, r.p99))
    assert.truthy(r.resolution_ms > 0 and r.resolution_ms < r.p99 + 50, r.resolution_ms)
    -- what it counted is what the tools recorded: the client's report of the
    -- new connections, and the backup's conntrackd's own statistics
    local tsv = H.read_file(lab:file("sync-1-client.tsv"))
    local n = 0
    for line in tsv:gmatch("[^\n]+") do if line:match("^tcp\t") then n = n + 1 end end
    assert.are.equal(200, n, tsv:sub(1, 600))
    assert.are.equal(200, r.opened)
    assert.truthy(r.table >= 200, r.table)
    local stats, ok = H.run({ "ip", "netns", "exec", "fw-2", "conntrackd", "-C", lab:file("fw-2-conntrackd.conf"), "-s" })
    assert(ok, stats)
    local created = tonumber(stats:match("cache external:%s*current active connections:%s*%d+%s*connections created:%s*(%d+)"))
    assert.truthy(created and created >= 400, stats)

    local t = sync.takeover(lab, { flows = 300 })
    assert.are.same({ "fw-1", "fw-2" }, { t.from, t.to })
    local ms = assert(sync.commit_ms(lab, "fw-2"))
    assert.truthy(ms > 0, ms)
    -- what fwsh-notify wrote: conntrackd -c exited 0, and the time is its line's
    local line = last_notify(lab, "fw-2", "master")
    assert.are.equal(0, line[4])
    assert.truthy(math.abs((line[3] - line[2]) - ms) < 0.01, ms)
    assert.are.equal(300, t.connections.survived)
  end))
end)

-- The connections to the flow tool's ports in fw's kernel table (their
-- original direction's destination port), as conntrack lists them.
local function tracked(fw)
  local out, ok = H.run({ "ip", "netns", "exec", fw, "conntrack", "-L", "-p", "tcp" })
  assert(ok, out)
  local n = 0
  for line in out:gmatch("[^\n]+") do
    local port = tonumber(line:match("dport=(%d+)"))
    if port and port >= T.flows_port and port < T.flows_port + T.flows_ports then n = n + 1 end
  end
  return n
end

-- The connections in fw's conntrackd's external cache, as its statistics say.
local function external(lab, fw)
  local out, ok = H.run({ "ip", "netns", "exec", fw, "conntrackd", "-C", lab:file(fw .. "-conntrackd.conf"), "-s" })
  assert(ok, out)
  return assert(tonumber(out:match("cache external:%s*current active connections:%s*(%d+)")), out)
end

describe("a takeover leaves no connection behind", function()
  -- The old master's kernel table still holds the connections it carried,
  -- which live on in the new master, and the new master's external cache
  -- what it committed: never refreshed, either would hold the tuples and
  -- NAT ports the next takeover's commit needs ("File exists").
  it("the new master empties its committed cache; the backup's table is purged PurgeTimeout later", H.ns(function()
    if os.getenv("LD_PRELOAD") then pending("the plain pass runs the purge") return end
    local lab <close> = firewall.build{ nat = "half", flows = 400, advert_int = 0.1 }
    local r = lab:failover("client-cable", { flows = { flows = 200, nat = true, stall_ms = 3000, interval = 100 } })
    assert.are.same({ "fw-1", "fw-2" }, { r.from, r.to })
    assert.are.equal(200, r.flows.survived, H.read_file(r.flows.merged))
    -- fw-2 committed them, and its external cache was emptied after
    -- (conntrackd 1.4.7 refuses the flush after a one-step commit: HashSize)
    local log2 = H.read_file(lab:file("fw-2-conntrackd.log"))
    assert.truthy(log2:find("flushing external cache", 1, true), log2)
    assert.is_nil(log2:find("ignoring flush command", 1, true), log2)
    assert.truthy(external(lab, "fw-2") < 200, external(lab, "fw-2"))
    -- fwsh-notify's record: the commit, the gate and the flush each exited 0
    local master = last_notify(lab, "fw-2", "master")
    assert.are.same({ 0, 0, 0 }, { master[4], master[6], master[8] })
    -- fw-2 carried them to the end (closed since: TIME_WAIT), fw-1 carried
    -- them before the cable was pulled and holds none of them now
    assert.truthy(tracked("fw-2") >= 200, tracked("fw-2"))
    H.wait_for(function() return tracked("fw-1") == 0 end, 10)
    assert.are.equal(0, tracked("fw-1"))
    -- conntrackd did it: fwsh-notify ran the purge request (exit 0) between
    -- closing the gate and the resync request, and conntrackd's log says so
    local line = last_notify(lab, "fw-1", "backup")
    assert.are.same({ 0, 0, 0 }, { line[4], line[6], line[8] })
    local log = H.read_file(lab:file("fw-1-conntrackd.log"))
    assert.truthy(log:find("flushing conntrack table in 5 secs", 1, true), log)
    assert.truthy(log:find("flushing kernel conntrack table (scheduled)", 1, true), log)
  end))
end)

describe("the RST window of a takeover", function()
  -- As keepalived's users have it (its bug report #2254): NAT, and the kernel
  -- picking up a TCP connection mid-stream (nf_conntrack_tcp_loose 1).
  local function run(fix)
    local lab <close> = firewall.build{ nat = true, tcp_loose = true, fix = fix, flows = 1000, advert_int = 0.1 }
    local r = sync.takeover(lab, { flows = 1000 })
    local new_master, old = gate("fw-2"), gate("fw-1")
    return r, new_master, old
  end

  it("resets connections with the fix off and none with it on", H.ns(function()
    if os.getenv("LD_PRELOAD") then pending("the plain pass measures the RST window") return end
    local off, off_gate = run("off")
    local on, on_gate, backup_gate = run("on")
    local msg = string.format("off: %s\non: %s", off.text.merged, on.text.merged)
    -- off: no gate in the ruleset at all; some connections reset
    assert.is_nil(off_gate)
    assert.truthy(off.connections.total == 1000 and off.connections.reset > 0, msg)
    -- on: every connection survived; the gate held packets, opened on the
    -- new master after its commit, and is closed again on the backup
    assert.are.equal(1000, on.connections.total, msg)
    assert.are.equal(0, on.connections.reset, msg)
    assert.are.equal(1000, on.connections.survived, msg)
    assert.truthy(on.gate_dropped and on.gate_dropped > 0, msg)
    assert.are.same({}, on_gate)
    assert.are.same({ "tcp" }, backup_gate)
    assert.truthy(on.gate_ms and on.gate_ms > on.notify_ms, msg)
  end))
end)
