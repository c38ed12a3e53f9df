-- lookups.lua - what one lookup costs through fwsh, in CPU time (µs), in a
-- namespace where bench/build.lua has made br000.. and t000-0..: the kinds of
-- RTM_GETLINK round trip that fwsh.bridge.add and fwsh.tap.add make today.
--
-- usage: fwsh --netns NS bench/lookups.lua [K]
local K = tonumber(arg[1] or 2000)

local function per_call(label, fn)
  fn() -- warm
  local t0 = os.clock()
  for _ = 1, K do fn() end
  print(string.format("%-52s %7.1f us", label, (os.clock() - t0) / K * 1e6))
end

local br = fwsh.link.get("br000")
per_call("fwsh.link.get(bridge name): GETLINK, handle", function() fwsh.link.get("br000") end)
per_call("fwsh.link.get(tap name): GETLINK, handle", function() fwsh.link.get("t000-0") end)
per_call("fwsh.link.exists(missing): GETLINK -> ENODEV", function() fwsh.link.exists("nope") end)
per_call("bridge handle .name: GETLINK by ifindex", function() return br.name end)
per_call("Lua call, no kernel (fwsh.lab())", function() fwsh.lab() end)
