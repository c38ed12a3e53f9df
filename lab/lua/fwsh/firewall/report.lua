-- report.lua - what the firewall lab's scenarios print: one row per run,
-- the min/median/p95/max lines, and the summary lines specs and CI read
-- (outage_ms: N, tcp_stream: survived); each run's timeline as an SVG.
local M = {}

local function median(v)
  local s = {}
  for i, x in ipairs(v) do s[i] = x end
  table.sort(s)
  if #s == 0 then return 0 end
  return #s % 2 == 1 and s[(#s + 1) // 2] or (s[#s // 2] + s[#s // 2 + 1]) / 2
end

-- The nearest-rank percentile p of v (sorted or not).
local function percentile(v, p)
  local s = {}
  for i, x in ipairs(v) do s[i] = x end
  table.sort(s)
  if #s == 0 then return 0 end
  return s[math.max(1, math.ceil(p / 100 * #s))]
end

M.percentile = percentile

--- firewall.stats(values) -> "min / median / p95 / max" of the numbers, one decimal
function M.stats(v)
  if #v == 0 then return "-" end
  return string.format("%.1f / %.1f / %.1f / %.1f", percentile(v, 0), median(v), percentile(v, 95),
                       percentile(v, 100))
end

--- firewall.report(title, results): prints one row per run (outage_ms: the
-- largest gap in probe replies; mac_ms, mac0_ms: from the fault until br1,
-- br0 learned the client-side, server-side VRRP MAC on the new master's port;
-- lost: probe replies missing) and then the summary lines every scenario ends
-- with: the min/median/p95/max lines, outage_ms (the largest), and tcp_stream
-- (the first run that did not survive)
--- firewall.plot(results, path): each run's outage timeline as an SVG
--  (fwsh.plot): path, or path-N.svg for run N of several; prints "plot: FILE"
function M.plot(results, path)
  local plot = require "fwsh.plot"
  for i, r in ipairs(results) do
    local file = #results == 1 and path or (path:gsub("%.svg$", "") .. "-" .. i .. ".svg")
    plot.timeline(file, { replies = r.replies, fault_ms = r.fault_ms, takeover_ms = r.takeover_ms,
                          outage_ms = r.outage_ms, gap_at_ms = r.gap_at_ms,
                          title = string.format("run %d: %s -> %s, %s: outage %.1f ms", i, r.from or "?",
                                                r.to or "?", r.mode or "failover", r.outage_ms or -1) })
    print("plot: " .. file)
  end
end

function M.report(title, results)
  print(string.format("%s: %d run(s)", title, #results))
  print(string.format("%-4s %-6s %-6s %10s %8s %8s %6s  %s", "run", "from", "to", "outage_ms", "mac_ms",
                      "mac0_ms", "lost", "tcp_stream"))
  local outages, macs, stream = {}, {}, "survived"
  for i, r in ipairs(results) do
    print(string.format("%-4d %-6s %-6s %10.1f %8s %8s %6s  %s (sent %s, received %s)", i, r.from or "-",
                        r.to or "-", r.outage_ms or -1, r.mac_ms and string.format("%.1f", r.mac_ms) or "-",
                        r.mac0_ms and string.format("%.1f", r.mac0_ms) or "-",
                        r.lost or "-", r.stream, tostring(r.stream_sent), tostring(r.stream_received)))
    outages[#outages + 1] = r.outage_ms or math.huge
    if r.mac_ms then macs[#macs + 1] = r.mac_ms end
    if r.stream ~= "survived" and stream == "survived" then stream = r.stream end
  end
  print("outage_ms min/median/p95/max: " .. M.stats(outages))
  if #macs > 0 then print("mac_move_ms min/median/p95/max: " .. M.stats(macs)) end
  if results[1] then
    print("nat: " .. (results[1].nat and "on" or "off"))
    local peers = {}
    for _, r in ipairs(results) do if r.peer then peers[r.peer] = true end end
    local list = {}
    for p in pairs(peers) do list[#list + 1] = p end
    table.sort(list)
    print("stream_peer: " .. (#list > 0 and table.concat(list, ", ") or "-") .. " (as the server saw it)")
  end
  local dropped, counted = 0, false
  for _, r in ipairs(results) do
    if r.dropped then dropped, counted = dropped + r.dropped, true end
  end
  if counted then
    print(string.format("dropped_forward: %d (packets the firewalls' forward chains dropped during the runs)",
                        dropped))
  end
  if results[1] and results[1].hosts then print("hosts: " .. results[1].hosts) end
  print(string.format("outage_ms: %d", math.floor(percentile(outages, 100) + 0.5)))
  print("tcp_stream: " .. stream)
  return stream == "survived"
end

return M
