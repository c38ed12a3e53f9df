-- many-flows.lua - a failover with many connections running through the
-- firewalls: what each of them lived through. Before the failure, --flows N
-- connections (fwsh-flows) run from the client to the server, N more open
-- at --new-rate a second all along (so that some are younger than the
-- replication lag when the master fails); the master fails as --mode says
-- (lab:failover: power, hang, client-cable, server-cable, sync-cut), and
-- the connections go on through the new master for longer than the stall
-- bound (--stall-ms, 5000) before they end and both sides' reports are
-- joined.
--
-- usage: fwsh --sandbox scripts/lab/scenarios/many-flows.lua --flows N [--new-rate R] [--nat]
--            [--mode M] [--reps K] [--fix on|off] [--backend netns|qemu] [--stall-ms MS]
--            [--interval MS (default: flows / 10, within 100..2000)] [--open-rate R] [--plot FILE.svg]
--            [--lag-table N (default: flows, at most 10,000)]
--            [--expect EXPR] [--json FILE] [--junit FILE] [--tsv FILE]
-- --tsv FILE keeps each run's per-connection table (fwsh-flows merge's:
-- proto, id, client's class, server's class, class, longest gap in ms),
-- FILE-N.tsv for run N of several.
-- --nat: half of the connections come from client addresses the firewalls
-- translate (firewall.build{nat = "half"}), half from addresses they route.
-- --open-rate R: the first N connections are opened at R a second (5000 by
-- default, lab:flows_start's open_rate): a connection's time from its
-- first SYN to established counts in its longest gap.
-- --fix: passed to the lab (o.fix), the fix of the reset window: on by
-- default, off with --backend qemu (the VMs' image has no fwsh-notify). With
-- --backend qemu the firewalls and the client are VMs (fwsh-flows runs in
-- the client's; the servers on the host).
--
-- Each run prints (scripts and CI read these lines):
--   connections: total T survived S stalled X reset R lost_bytes L
--   resets_by: firewall F server V client C
--   replication_lag_ms p50/p99: A / B        (fwsh.firewall.sync; n/a without it)
--   commit_ms: C                             (the new master's conntrackd -c; n/a without it)
--   connection_gap_ms min/median/p99/max: a / b / c / d
-- and with --nat the connections and gap lines of each half again, their
-- first word suffixed: connections_nat:, connections_plain:,
-- connection_gap_ms_nat ..., connection_gap_ms_plain ...; see
-- fwsh.firewall.outcome for the classes and for how the sender of a reset
-- is told. With --plot FILE.svg, also each run's gap distribution,
-- FILE-gaps.svg (FILE-gaps-N.svg for run N). The verdict's values per run:
-- total, survived, stalled, reset, lost_bytes, failed, survived_pct,
-- reset_firewall, reset_server, reset_client, gap_p99_ms, gap_max_ms,
-- replication_lag_p99_ms, commit_ms (e.g. --expect reset_firewall=0
-- --expect survived_pct>=99.9).
local firewall = require "fwsh.firewall"
local outcome = require "fwsh.firewall.outcome"
local plot = require "fwsh.plot"
local has_sync, sync = pcall(require, "fwsh.firewall.sync")

-- Each connection sends every interval ms: 100 for a few thousand, longer
-- for more (the machine carries flows * 2000 / interval packets a second),
-- at most 2 s so that a 5 s stall bound still sees a stall. A connection's
-- longest gap includes one interval of its own rhythm.
local function interval_for(flows) return math.min(2000, math.max(100, flows // 10)) end

local function num(v) return v and string.format("%.1f", v) or "n/a" end

firewall.scenario{
  args = { ... },
  options = { ["--flows"] = "flows", ["--new-rate"] = "new_rate", ["--stall-ms"] = "stall_ms",
              ["--interval"] = "interval", ["--open-rate"] = "open_rate", ["--lag-table"] = "lag_table",
              ["--tsv"] = { "tsv", "a file" } },
  prepare = function(o)
    o.flows = math.tointeger(o.flows or 1000)
    if not o.flows or o.flows < 1 then error("many-flows: --flows takes a whole number of connections", 0) end
    if o.nat then o.nat = "half" end
    -- the fix needs fwsh-notify in the firewalls, which the VM image has not
    o.fix = o.fix or (o.backend == "qemu" and "off" or "on")
    if o.lag_table then
      o.lag_table = math.tointeger(tonumber(o.lag_table))
      if not o.lag_table or o.lag_table < 1 then error("many-flows: --lag-table takes a whole number of connections", 0) end
    end
  end,
  title = function(o)
    return string.format("many flows: %d connections, %d new/s, %s%s, fix %s", o.flows, o.new_rate or 0,
                         o.mode or "power", o.nat and ", half NATed" or "", o.fix)
  end,
  run = function(lab, o, i)
    local r = lab:failover(o.mode or "power", { down = o.down, flows = {
      flows = o.flows, new_rate = math.tointeger(o.new_rate or 0), nat = o.nat == "half",
      stall_ms = math.tointeger(o.stall_ms or 5000), interval = math.tointeger(o.interval or interval_for(o.flows)),
      open_rate = o.open_rate and math.tointeger(o.open_rate) } })
    local f = r.flows
    print(string.format("run %d: %s -> %s, MAC moved after %s ms, %d flow processes, RSS max client %d kB "
                        .. "server %d kB, client send lag max %s ms", i, r.from, r.to or "-", num(r.mac_ms),
                        f.processes, f.rss_kb.client, f.rss_kb.server, num(f.send_lag_ms)))
    -- the firewalls' conntrack limit as read back in them (a VM's is its own)
    print(string.format("conntrack_max: fw-1 %s fw-2 %s", tostring(f.conntrack_max["fw-1"] or "n/a"),
                        tostring(f.conntrack_max["fw-2"] or "n/a")))
    for _, line in ipairs(outcome.lines(f)) do print(line) end
    if f.nat then
      for _, half in ipairs({ "nat", "plain" }) do
        for _, line in ipairs(outcome.lines(f[half], half)) do print(line) end
      end
    end
    io.stdout:flush()
    -- the commit of this takeover; the lag, measured after it on a table of
    -- its own (--lag-table, default the run's connections up to 10,000:
    -- bench/conntrack.lua measures it against the table's size)
    local commit, cwhy = nil, "no fwsh.firewall.sync"
    if has_sync and r.to then commit, cwhy = sync.commit_ms(lab, r.to) end
    print("commit_ms: " .. num(commit))
    if not commit then io.stderr:write("commit time: ", tostring(cwhy), "\n") end
    local lag, why = nil, "no fwsh.firewall.sync"
    local lag_table = o.lag_table or math.min(o.flows, 10000)
    if has_sync then lag, why = sync.lag(lab, { flows = lag_table }) end
    print(string.format("replication_lag_ms p50/p99: %s / %s", num(lag and lag.p50), num(lag and lag.p99)))
    print(string.format("replication_lag_table: %d (connections open while the lag was measured)", lag_table))
    if not lag then io.stderr:write("replication lag: ", tostring(why), "\n") end
    r.replication_lag_p50_ms, r.replication_lag_p99_ms = lag and lag.p50, lag and lag.p99
    r.commit_ms = commit
    print(string.format("flows_replicated: %d of %d before the failure%s", r.flows_replicated or 0, o.flows,
                        r.flows_synced_s and string.format(" (in %.1f s)", r.flows_synced_s) or " (not all in time)"))
    if o.tsv then
      -- kept: the lab's directory goes with the lab
      local file = (o.reps or 1) > 1 and (o.tsv:gsub("%.tsv$", "") .. "-" .. i .. ".tsv") or o.tsv
      local src = assert(io.open(f.merged, "r"))
      require("fwsh.effect").write(file, src:read("a"))
      src:close()
      print("flows_report: " .. file)
    end
    for _, c in ipairs(outcome.classes) do r[c] = f[c] end
    r.total = f.total
    r.survived_pct = f.total > 0 and 100 * f.survived / f.total or 0
    r.reset_firewall, r.reset_server, r.reset_client = f.resets_by.firewall, f.resets_by.server, f.resets_by.client
    r.gap_p99_ms, r.gap_max_ms = f.gap.p99, f.gap.max
    r.rss_client_kb, r.rss_server_kb = f.rss_kb.client, f.rss_kb.server
    if o.plot then
      local file = o.plot:gsub("%.svg$", "") .. "-gaps" .. ((o.reps or 1) > 1 and ("-" .. i) or "") .. ".svg"
      local series = { { label = "all connections", values = f.gap_values } }
      if f.nat then
        series[2] = { label = "NATed", values = f.nat.gap_values }
        series[3] = { label = "not NATed", values = f.plain.gap_values }
      end
      plot.cdf(file, { series = series, xlabel = "each connection's longest gap, ms",
                       title = string.format("run %d: %s, %d connections: each one's longest gap", i,
                                             r.mode, f.total) })
      print("plot: " .. file)
    end
    return r
  end,
}
