-- plot.lua CSV - an SVG of build time against interfaces, from the samples
-- `bench/run --sizes ... --csv F` keeps (columns: size method run wall_us
-- user_ms sys_ms rss_kb): the median of each method at each size, both axes
-- logarithmic, and a dotted line of linear growth from the floor's smallest
-- size (a method whose cost per interface is flat runs parallel to it).
--
-- usage: lua5.4 bench/plot.lua samples.csv > plot.svg
local path = assert(arg[1], "usage: lua5.4 bench/plot.lua samples.csv > plot.svg")

local samples, sizes, seen = {}, {}, {}
for line in io.lines(path) do
  local size, method, wall = line:match("^(%d+) (%S+) %d+ (%d+)")
  if size then
    size, wall = tonumber(size), tonumber(wall) / 1e6
    local k = method .. " " .. size
    samples[k] = samples[k] or {}
    table.insert(samples[k], wall)
    if not seen[size] then seen[size] = true; sizes[#sizes + 1] = size end
  end
end
table.sort(sizes)
assert(#sizes > 0, "plot.lua: no samples in " .. path)

local function median(v)
  table.sort(v)
  local n = #v
  return n % 2 == 1 and v[(n + 1) // 2] or (v[n // 2] + v[n // 2 + 1]) / 2
end

local METHODS = {
  { key = "floor", label = "floor -a (batched raw rtnetlink, fwsh's tags)", color = "#555555" },
  { key = "floork", label = "floor -a -k (and fwsh's kill-safe order)", color = "#9467bd" },
  { key = "fwsh", label = "fwsh.batch", color = "#1f77b4" },
  { key = "ipbatch", label = "ip -batch", color = "#d62728" },
  { key = "percmd", label = "one ip/brctl process per step", color = "#2ca02c" },
}

local points, lo, hi = {}, math.huge, 0
for _, m in ipairs(METHODS) do
  points[m.key] = {}
  for _, s in ipairs(sizes) do
    local v = samples[m.key .. " " .. s]
    if v then
      local t = median(v)
      table.insert(points[m.key], { s, t })
      lo, hi = math.min(lo, t), math.max(hi, t)
    end
  end
end

-- Axes: decades around the data.
local W, H, L, R, T, B = 720, 460, 80, 20, 40, 120
local xlo, xhi = 10 ^ math.floor(math.log(sizes[1], 10)), 10 ^ math.ceil(math.log(sizes[#sizes], 10))
local ylo, yhi = 10 ^ math.floor(math.log(lo, 10)), 10 ^ math.ceil(math.log(hi, 10))
local function x(v) return L + (math.log(v, 10) - math.log(xlo, 10)) / (math.log(xhi, 10) - math.log(xlo, 10)) * (W - L - R) end
local function y(v) return H - B - (math.log(v, 10) - math.log(ylo, 10)) / (math.log(yhi, 10) - math.log(ylo, 10)) * (H - T - B) end
local function num(v)
  if v >= 1 then return string.format("%g", v) end
  return string.format("%.3g", v)
end

local out = {}
local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">', W, H)
add('<rect width="100%%" height="100%%" fill="white"/>')
add('<text x="%d" y="22" font-size="15">Building N bridges x 4 taps: time against interfaces (medians)</text>', L)
-- grid and ticks
local d = xlo
while d <= xhi do
  add('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>', x(d), T, x(d), H - B)
  add('<text x="%.1f" y="%d" text-anchor="middle">%s</text>', x(d), H - B + 16, num(d))
  d = d * 10
end
d = ylo
while d <= yhi do
  add('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>', L, y(d), W - R, y(d))
  add('<text x="%d" y="%.1f" text-anchor="end">%s s</text>', L - 6, y(d) + 4, num(d))
  d = d * 10
end
add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, H - B, W - R, H - B)
add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>', L, T, L, H - B)
add('<text x="%d" y="%d" text-anchor="middle">interfaces</text>', (L + W - R) // 2, H - B + 34)
-- linear growth from the floor's first point
local f1 = points.floor[1]
if f1 then
  local s2 = sizes[#sizes]
  add('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="2,4"/>',
      x(f1[1]), y(f1[2]), x(s2), y(f1[2] * s2 / f1[1]))
end
for _, m in ipairs(METHODS) do
  local p = points[m.key]
  if #p > 0 then
    local path = {}
    for i, pt in ipairs(p) do path[i] = string.format("%s%.1f,%.1f", i == 1 and "M" or "L", x(pt[1]), y(pt[2])) end
    add('<path d="%s" fill="none" stroke="%s" stroke-width="2"/>', table.concat(path, " "), m.color)
    for _, pt in ipairs(p) do
      add('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %d interfaces: %.3f s</title></circle>',
          x(pt[1]), y(pt[2]), m.color, m.label, pt[1], pt[2])
    end
  end
end
-- legend
local ly = H - B + 56
for _, m in ipairs(METHODS) do
  if #points[m.key] > 0 then
    add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>', L, ly - 4, L + 24, ly - 4, m.color)
    add('<text x="%d" y="%d">%s</text>', L + 30, ly, m.label)
    ly = ly + 16
  end
end
if f1 then
  add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999" stroke-dasharray="2,4"/>', L + 380, H - B + 52, L + 404,
      H - B + 52)
  add('<text x="%d" y="%d">linear growth from the floor at %d</text>', L + 410, H - B + 56, f1[1])
end
add("</svg>")
io.write(table.concat(out, "\n"), "\n")
