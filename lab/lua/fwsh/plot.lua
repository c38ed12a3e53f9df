--- fwsh.plot - a failover's outage timeline as an SVG, written from Lua (no
-- tool): each probe reply a tick on the time axis, the largest gap shaded and
-- labelled with its length, the failure and the takeover (the VRRP MAC on the
-- new master's port) as vertical lines.
--
-- plot.timeline(path, { replies = { ms, ... }, fault_ms =, takeover_ms =,
--   outage_ms =, gap_at_ms =, title = }) -> path; times in ms from the
--   probe's start (lab:failover's and fw1-dies' results carry them)
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

local COLORS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b" }

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
    local color = COLORS[(i - 1) % #COLORS + 1]
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
