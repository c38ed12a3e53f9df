-- seed.lua - the seed topology: three bridges and seven taps for the
-- fault-tolerant firewall lab (fw-1, fw-2, a client, the host).
--
--   br0  grounding: addressed, in the main routing table   net01 net02
--   br1  non-grounding: no address, no route, no IPv6       net11 net12 net13
--   br2  non-grounding                                      net21 net22
--
-- usage: fwsh scripts/seed.lua [up [ADDRESS]]   build it (ADDRESS for br0,
--                                                default 10.0.0.1/24)
--        fwsh scripts/seed.lua down             remove what it made
-- Running it again changes nothing; down removes only links tagged with this
-- lab ("fwsh:seed"), never a same-named link that something else made.
local fwsh = fwsh or require "fwsh"

local command = arg and arg[1] or "up"
local address = arg and arg[2] or "10.0.0.1/24"

local topology = {
  { name = "br0", grounding = true,  taps = { "net01", "net02" } },
  { name = "br1", grounding = false, taps = { "net11", "net12", "net13" } },
  { name = "br2", grounding = false, taps = { "net21", "net22" } },
}

fwsh.lab("seed")

local function ours(name)
  return fwsh.link.exists(name) and fwsh.link.get(name):info().lab == fwsh.lab()
end

if command == "down" then
  for i = #topology, 1, -1 do
    local b = topology[i]
    for _, tap in ipairs(b.taps) do
      if ours(tap) then fwsh.link.get(tap):delete() end
    end
    if ours(b.name) then fwsh.link.get(b.name):delete() end
  end
elseif command == "up" then
  -- All of it or none of it: a failure halfway undoes what this run made.
  fwsh.transaction(function()
    for _, b in ipairs(topology) do
      local br = fwsh.bridge.ensure(b.name, {
        grounding = b.grounding,
        address = b.grounding and address or nil,
      })
      for _, tap in ipairs(b.taps) do
        fwsh.tap.ensure(tap, { bridge = br })
      end
    end
  end)
  fwsh.show()
  for _, b in ipairs(topology) do
    local grounding, why = fwsh.bridge.get(b.name):grounding()
    print(string.format("%s: %s%s", b.name, grounding and "grounding" or "non-grounding",
                        why.why ~= "" and " (" .. why.why .. ")" or " (no address, no route)"))
  end
else
  error("usage: seed.lua [up [ADDRESS] | down]", 0)
end
