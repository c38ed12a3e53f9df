-- seed-hosts.lua - the seed topology (seed.lua) stretched over one or two
-- hosts: br0, br1 and br2 on each, joined by VXLAN (fwsh.hosts.stretch, VNI
-- 4300-4302), the taps where the firewall lab puts its parts: fw-1's and
-- the client's (net01 net11 net13 net21) on the first host, fw-2's (net02
-- net12 net22) on the second; br0's address (the grounding bridge) on the
-- first. Every host is driven over one ssh connection for the whole run.
--
-- usage: fwsh --sandbox scripts/seed-hosts.lua [--hosts 2]   two hosts emulated
--            here (fwsh.emulate): built, shown, undone
--        fwsh scripts/seed-hosts.lua --hosts FILE [--keep]   the hosts FILE
--            names (fwsh.hosts.read: NAME USER@ADDRESS [key=value...] a line);
--            undone at the end unless --keep (then `fwsh down seed-hosts`
--            removes it, on every host)
-- Prints each host's part (read back there) and the time it took:
--   hosts: N   connect_ms: ...   build_ms: ...   requests: ...
local fwsh = fwsh or require "fwsh"
local hosts = require "fwsh.hosts"

local topology = {
  { name = "br0", grounding = true,  taps = { { "net01", 1 }, { "net02", 2 } } },
  { name = "br1", grounding = false, taps = { { "net11", 1 }, { "net12", 2 }, { "net13", 1 } } },
  { name = "br2", grounding = false, taps = { { "net21", 1 }, { "net22", 2 } } },
}

local o = { hosts = 2 }
local argv = { ... }
local i = 1
while argv[i] do
  if argv[i] == "--hosts" and argv[i + 1] then
    o.hosts = math.tointeger(tonumber(argv[i + 1])) or argv[i + 1]
    i = i + 2
  elseif argv[i] == "--keep" then
    o.keep = true
    i = i + 1
  else
    error("usage: seed-hosts.lua [--hosts 2|FILE] [--keep]", 0)
  end
end

local emulated, list
if type(o.hosts) == "number" then
  if o.hosts ~= 1 and o.hosts ~= 2 then error("--hosts: 1 or 2 (or a file of hosts)", 0) end
  emulated = require("fwsh.emulate").start(o.hosts)
  list = emulated
else
  list = hosts.read(o.hosts)
end
if #list < 1 or #list > 2 then error("--hosts: one or two hosts", 0) end

local ok, err = pcall(function()
  local t0 = fwsh.proc.clock()
  local hs = hosts.connect(list)
  local t1 = fwsh.proc.clock()
  for k, h in ipairs(hs) do
    for _, b in ipairs(topology) do
      h.bridge.ensure(b.name, { grounding = b.grounding and k == 1,
                                address = b.grounding and k == 1 and "10.0.0.1/24" or nil })
      for _, t in ipairs(b.taps) do
        if t[2] == k or #hs == 1 then h.tap.ensure(t[1], { bridge = b.name }) end
      end
    end
  end
  if #hs == 2 then
    for k, b in ipairs(topology) do
      hosts.stretch(b.name, hs[1], hs[2], { id = 4300 + k - 1, dev_a = list[1].dev, dev_b = list[2].dev })
    end
  end
  local t2 = fwsh.proc.clock()
  local requests = 0
  for _, h in ipairs(hs) do
    local ports = {}
    for _, b in ipairs(topology) do
      local names = {}
      for _, p in ipairs(h.bridge.get(b.name):ports()) do names[#names + 1] = p.name end
      ports[#ports + 1] = b.name .. ": " .. table.concat(names, " ")
    end
    print(string.format("host %s: %s", h.name, table.concat(ports, "; ")))
    requests = requests + h:stats().requests
  end
  print(string.format("hosts: %d   connect_ms: %.1f   build_ms: %.1f   requests: %d", #hs, (t1 - t0) * 1000,
                      (t2 - t1) * 1000, requests))
  hosts.close(hs, o.keep == true)
end)
if emulated then emulated:close() end
if not ok then error(err, 0) end
