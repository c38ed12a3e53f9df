-- vm-advert.lua - how short VRRP's adverts can be on the qemu firewall pair
-- before the pair stops being stable, and what each length gives in a
-- failover: for each advert length, a lab of VMs with it, a steady spell
-- (--steady seconds, the probe and the stream running) in which br1's FDB
-- is read every 20 ms to count how often the client-side VRRP MAC changed
-- port (a flap: the backup took over without a failure), then --reps
-- failovers in each --modes mode with their outage.
--
-- usage: fwsh --sandbox bench/vm-advert.lua [--adverts 0.01,0.02,0.05,0.1] [--modes power,hang]
--          [--reps 3] [--steady 10]
-- Prints one line a measurement and, last, the shortest advert with no flap
-- and no failover over 1 s: "stable_advert: S".
local fwsh = require "fwsh"
local firewall = require "fwsh.firewall"

local o = { adverts = { 0.01, 0.02, 0.05, 0.1 }, modes = { "power", "hang" }, reps = 3, steady = 10 }
local i = 1
while i <= #arg do
  local k, v = arg[i], arg[i + 1]
  local function list(num)
    local t = {}
    for x in (v or ""):gmatch("[^,]+") do t[#t + 1] = num and tonumber(x) or x end
    if #t == 0 then error("bench/vm-advert.lua: " .. k .. " takes a list", 0) end
    return t
  end
  if k == "--adverts" then o.adverts = list(true)
  elseif k == "--modes" then o.modes = list(false)
  elseif k == "--reps" then o.reps = math.tointeger(tonumber(v))
  elseif k == "--steady" then o.steady = tonumber(v)
  else error("usage: fwsh --sandbox bench/vm-advert.lua [--adverts 0.01,0.05] [--modes power,hang] [--reps 3] [--steady 10]", 0) end
  i = i + 2
end

local function fmt(v) return v and string.format("%.1f", v) or "-" end
local stable
for _, adv in ipairs(o.adverts) do
  local lab <close> = firewall.build{ backend = "qemu", advert_int = adv }
  -- the steady spell: who holds the MAC, every 20 ms
  local t = lab:traffic_start{}
  local flaps, samples, last = 0, 0, (lab:master() or {}).name
  local t_end = fwsh.proc.clock() + o.steady
  while fwsh.proc.clock() < t_end do
    local m = lab:master()
    local name = m and m.name or "none"
    samples = samples + 1
    if name ~= last then flaps = flaps + 1; last = name end
    lab:hold(0.02)
  end
  local steady = lab:traffic_stop(t)
  print(string.format("advert %.3f s: steady %d s, %d samples, %d changes of master, probe's largest gap %s ms",
                      adv, o.steady, samples, flaps, fmt(steady.outage_ms)))
  local worst = 0
  for _, mode in ipairs(o.modes) do
    for rep = 1, o.reps do
      local r = lab:failover(mode)
      worst = math.max(worst, r.outage_ms or math.huge)
      print(string.format("advert %.3f s: %s run %d: %s -> %s outage_ms %s mac_ms %s stream %s", adv, mode, rep,
                          r.from, r.to or "-", fmt(r.outage_ms), fmt(r.mac_ms), tostring(r.tcp_stream or r.stream)))
      io.stdout:flush()
    end
  end
  if flaps == 0 and worst < 1000 and not stable then stable = adv end
end
print("stable_advert: " .. (stable and string.format("%.3f", stable) or "none of those tried"))
