--- fwsh.plot - a failover's outage timeline as an SVG, written from Lua (no
-- tool): each probe reply a tick on the time axis, the largest gap shaded and
-- labelled with its length, the failure and the takeover (the VRRP MAC on the
-- new master's port) as vertical lines.
--
-- plot.timeline(path, { replies = { ms, ... }, fault_ms =, takeover_ms =,
--   outage_ms =, gap_at_ms =, title = }) -> path; times in ms from the
--   probe's start (lab:failover's and fw1-dies' results carry them)
--
-- plot.cdf(path, { series = { {label=, values={ms, ...}}, ... }, title=,
--   xlabel= }) -> path: the distribution of each series (a connection's
--   longest gap, one value each) as a step curve: the share of values at or
--   below x, on a log time axis when the values span more than two decades
--
-- plot.curves(path, { title =, x_label =, y_label =, log_x = true,
--   series = { { name =, points = { { x, y }, ... } }, ... } }) -> path: one
--   line with its points marked per series (a measurement against a size:
--   replication lag and commit time against the table)
local M = {}

local function esc(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

function M.timeline(path, r)
  if type(path) ~= "string" then require("fwsh.errors").raise("plot.timeline", nil, "a file path expected") end
  local replies = r.replies or {}
  local t_end = 0
  for _, t in ipairs(replies) do if t > t_end then t_end = t end end
  for _, t in ipairs({ r.fault_ms or 0, r.takeover_ms or 0 }) do if t > t_end then t_end = t end end
  t_end = math.max(t_end, 1) * 1.02
  local W, H, L, R, T, B = 900, 220, 50, 20, 40, 60
  local function x(ms) return L + ms / t_end * (W - L - R) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">', W, H)
  add('<rect width="100%%" height="100%%" fill="white"/>')
  add('<text x="%d" y="22" font-size="14">%s</text>', L, esc(r.title or "outage timeline: probe replies"))
  -- the largest gap, shaded
  if r.gap_at_ms and r.outage_ms then
    add('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#ffd6d6"/>', x(r.gap_at_ms), T,
        math.max(1, x(r.gap_at_ms + r.outage_ms) - x(r.gap_at_ms)), H - T - B)
    add('<text x="%.1f" y="%d" fill="#b00000">no reply for %.1f ms</text>', x(r.gap_at_ms + r.outage_ms) + 4,
        T + 14, r.outage_ms)
  end
  -- one tick per reply
  local ticks = {}
  for _, t in ipairs(replies) do
    ticks[#ticks + 1] = string.format("M%.1f,%dv%d", x(t), T + 30, H - T - B - 60)
  end
  if #ticks > 0 then add('<path d="%s" stroke="#1f77b4" stroke-width="1"/>', table.concat(ticks, "")) end
  -- the failure and the takeover
  local function mark(ms, color, label, dy)
    if not ms then return end
    add('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="5,3"/>', x(ms), T,
        x(ms), H - B, color)
    add('<text x="%.1f" y="%d" fill="%s">%s</text>', x(ms) + 4, H - B - 6 - dy, color, esc(label))
  end
  mark(r.fault_ms, "#d62728", string.format("failure (%.0f ms)", r.fault_ms or 0), 0)
  mark(r.takeover_ms, "#2ca02c",
       string.format("takeover: VRRP MAC moved (+%.1f ms)", (r.takeover_ms or 0) - (r.fault_ms or 0)), 16)
  -- the time axis, ticks every round step
  add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, H - B, W - R, H - B)
  local step = 10 ^ math.floor(math.log(t_end / 5, 10))
  if t_end / step > 10 then step = step * 2 end
  if t_end / step > 10 then step = step * 2.5 end
  local s = 0
  while s <= t_end do
    add('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>', x(s), H - B, x(s), H - B + 5)
    add('<text x="%.1f" y="%d" text-anchor="middle">%g</text>', x(s), H - B + 18, s / 1000)
    s = s + step
  end
  add('<text x="%d" y="%d" text-anchor="middle">seconds since the probe started (%d replies, one tick each)</text>',
      (L + W - R) // 2, H - B + 36, #replies)
  add("</svg>")
  require("fwsh.effect").write(path, table.concat(out, "\n") .. "\n")
  return path
end

local COLORS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd" }

function M.cdf(path, o)
  if type(path) ~= "string" then require("fwsh.errors").raise("plot.cdf", nil, "a file path expected") end
  local lo, hi = math.huge, 0
  local series = {}
  for i, s in ipairs(o.series or {}) do
    local v = {}
    for k, x in ipairs(s.values or {}) do v[k] = x end
    table.sort(v)
    series[i] = { label = s.label or ("series " .. i), v = v }
    if v[1] then lo, hi = math.min(lo, v[1]), math.max(hi, v[#v]) end
  end
  if hi <= 0 then lo, hi = 0, 1 end
  lo = math.max(lo, 0.1)
  local log = hi / lo > 100
  local W, H, L, R, T, B = 900, 320, 60, 20, 40, 60
  local function fx(ms)
    if log then
      local a, b = math.log(lo, 10), math.log(hi * 1.05, 10)
      return L + (math.log(math.max(ms, lo), 10) - a) / (b - a) * (W - L - R)
    end
    return L + ms / (hi * 1.05) * (W - L - R)
  end
  local function fy(share) return H - B - share * (H - T - B) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">', W, H)
  add('<rect width="100%%" height="100%%" fill="white"/>')
  add('<text x="%d" y="22" font-size="14">%s</text>', L, esc(o.title or "distribution"))
  for i, s in ipairs(series) do
    local n, d = #s.v, {}
    -- at most ~2,000 steps: 100,000 connections make a curve, not a file of points
    local step = math.max(1, n // 2000)
    for k = 1, n, step do
      d[#d + 1] = string.format("%s%.1f,%.1f", k == 1 and "M" or "L", fx(s.v[k]), fy((k - 1) / n))
      d[#d + 1] = string.format("L%.1f,%.1f", fx(s.v[k]), fy(math.min(k + step - 1, n) / n))
    end
    local color = COLORS[(i - 1) % #COLORS + 1]
    if #d > 0 then add('<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>', table.concat(d), color) end
    add('<text x="%d" y="%d" fill="%s">%s (%d)</text>', L + 10, T + 16 * i, color, esc(s.label), n)
  end
  add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, H - B, W - R, H - B)
  add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, T, L, H - B)
  for _, share in ipairs({ 0, 0.5, 0.99, 1 }) do
    add('<text x="%d" y="%.1f" text-anchor="end">%g</text>', L - 4, fy(share) + 4, share)
    add('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>', L, fy(share), W - R, fy(share))
  end
  local ticks = {}
  if log then
    local e = math.floor(math.log(lo, 10))
    while 10 ^ e <= hi * 1.05 do
      if 10 ^ e >= lo then ticks[#ticks + 1] = 10 ^ e end
      e = e + 1
    end
  else
    local st = 10 ^ math.floor(math.log(hi / 5, 10))
    if hi / st > 10 then st = st * 2 end
    if hi / st > 10 then st = st * 2.5 end
    for x = 0, hi * 1.05, st do ticks[#ticks + 1] = x end
  end
  for _, x in ipairs(ticks) do
    add('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>', fx(x), H - B, fx(x), H - B + 5)
    add('<text x="%.1f" y="%d" text-anchor="middle">%g</text>', fx(x), H - B + 18, x)
  end
  add('<text x="%d" y="%d" text-anchor="middle">%s</text>', (L + W - R) // 2, H - B + 36,
      esc((o.xlabel or "ms") .. (log and " (log scale)" or "") .. "; y: share of values at or below"))
  add("</svg>")
  require("fwsh.effect").write(path, table.concat(out, "\n") .. "\n")
  return path
end

local CURVE_COLORS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b" }

function M.curves(path, c)
  local errors = require "fwsh.errors"
  if type(path) ~= "string" then errors.raise("plot.curves", nil, "a file path expected") end
  if type(c) ~= "table" or type(c.series) ~= "table" then errors.raise("plot.curves", path, "a series list expected") end
  local xlo, xhi, yhi = math.huge, -math.huge, 0
  for _, s in ipairs(c.series) do
    for _, p in ipairs(s.points or {}) do
      if type(p[1]) ~= "number" or type(p[2]) ~= "number" or (c.log_x and p[1] <= 0) then
        errors.raise("plot.curves", path, "points are { x, y } numbers (x > 0 on a log axis)")
      end
      xlo, xhi, yhi = math.min(xlo, p[1]), math.max(xhi, p[1]), math.max(yhi, p[2])
    end
  end
  if xlo > xhi then errors.raise("plot.curves", path, "no points") end
  local fx = c.log_x and function(v) return math.log(v, 10) end or function(v) return v end
  local a, b = fx(xlo), fx(xhi)
  if b - a < 1e-9 then a, b = a - 1, b + 1 end
  yhi = yhi > 0 and yhi * 1.1 or 1
  local W, H, L, R, T, B = 760, 420, 70, 180, 40, 60
  local function x(v) return L + (fx(v) - a) / (b - a) * (W - L - R) end
  local function y(v) return H - B - v / yhi * (H - T - B) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">', W, H)
  add('<rect width="100%%" height="100%%" fill="white"/>')
  add('<text x="%d" y="22" font-size="14">%s</text>', L, esc(c.title or ""))
  add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, H - B, W - R, H - B)
  add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, T, L, H - B)
  -- y ticks: five round steps
  local step = 10 ^ math.floor(math.log(yhi / 5, 10))
  if yhi / step > 10 then step = step * 2 end
  if yhi / step > 10 then step = step * 2.5 end
  for v = 0, yhi, step do
    add('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>', L, y(v), W - R, y(v))
    add('<text x="%d" y="%.1f" text-anchor="end">%g</text>', L - 6, y(v) + 4, v)
  end
  -- x ticks: the x values measured
  local seen = {}
  for _, s in ipairs(c.series) do
    for _, p in ipairs(s.points or {}) do
      if not seen[p[1]] then
        seen[p[1]] = true
        add('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>', x(p[1]), H - B, x(p[1]), H - B + 5)
        add('<text x="%.1f" y="%d" text-anchor="middle">%g</text>', x(p[1]), H - B + 18, p[1])
      end
    end
  end
  add('<text x="%d" y="%d" text-anchor="middle">%s</text>', (L + W - R) // 2, H - B + 38, esc(c.x_label or ""))
  add('<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>', (T + H - B) // 2,
      (T + H - B) // 2, esc(c.y_label or ""))
  for i, s in ipairs(c.series) do
    local color = CURVE_COLORS[(i - 1) % #CURVE_COLORS + 1]
    local pts = {}
    for _, p in ipairs(s.points or {}) do pts[#pts + 1] = { x(p[1]), y(p[2]) } end
    table.sort(pts, function(p, q) return p[1] < q[1] end)
    local d = {}
    for j, p in ipairs(pts) do d[j] = string.format("%s%.1f,%.1f", j == 1 and "M" or "L", p[1], p[2]) end
    if #d > 0 then add('<path d="%s" fill="none" stroke="%s" stroke-width="2"/>', table.concat(d), color) end
    for _, p in ipairs(pts) do add('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>', p[1], p[2], color) end
    add('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>', W - R + 12, T + 18 * (i - 1), color)
    add('<text x="%d" y="%d">%s</text>', W - R + 30, T + 18 * (i - 1) + 11, esc(s.name or ("series " .. i)))
  end
  add("</svg>")
  require("fwsh.effect").write(path, table.concat(out, "\n") .. "\n")
  return path
end

return M
