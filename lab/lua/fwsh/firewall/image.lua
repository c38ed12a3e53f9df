-- image.lua - firewalls from the user's own VM images (firewall.build's
-- image option, --image on every scenario): what each firewall boots from,
-- and its node, which fwsh neither configures nor runs anything in.
local node = require "fwsh.node"
local T = require "fwsh.firewall.topology"
local errors = require "fwsh.errors"

local M = {}

local PORTS = { "eth0", "eth1", "eth2" }

--- image.check(o) -> o.image as { ["fw-1"] = {disk=, ...}, ... } (or nil):
--  image is one path for both firewalls, or { ["fw-1"] = PATH | {disk=,
--  format=, kernel=, initrd=, append=, ready=}, ... }; kernel, initrd,
--  append, ready_line and ready_port (o's) are the defaults of each. Raises
--  before anything is made.
function M.check(o)
  if o.image == nil then return nil end
  local function bad(why) errors.raise("firewall.build", "image", why, 4) end
  if (o.backend or "qemu") ~= "qemu" then bad("a firewall's own image is a qemu VM: backend = \"qemu\"") end
  if o.hosts ~= nil then bad("not yet on a lab across hosts") end
  if o.ftp ~= nil then bad("ftp needs the lab's own ruleset and conntrackd (its helper, its expectations)") end
  local given = o.image
  if type(given) == "string" then given = { ["fw-1"] = given, ["fw-2"] = given } end
  if type(given) ~= "table" then bad("a disk image's path, or { [\"fw-1\"] = PATH, ... }") end
  local out = {}
  for name, v in pairs(given) do
    if not T.fw[name] then bad(string.format("%q is not a firewall (fw-1, fw-2)", tostring(name))) end
    if type(v) == "string" then v = { disk = v } end
    if type(v) ~= "table" or type(v.disk) ~= "string" then bad(name .. ": a disk image's path, or { disk = PATH, ... }") end
    local ready = v.ready
    if ready == nil then
      if o.ready_line == nil and o.ready_port == nil then
        bad(name .. ": when is it ready? ready_line (--ready-line PATTERN: its console prints it) "
            .. "or ready_port (--ready-port N: it answers there, on its server-side address)")
      end
      ready = { console = o.ready_line, port = o.ready_port,
                address = o.ready_port and T.host(T.fw[name].eth0) or nil, timeout = o.ready_timeout }
    end
    out[name] = { disk = v.disk, format = v.format, kernel = v.kernel or o.kernel, initrd = v.initrd or o.initrd,
                  append = v.append or o.append, ready = ready }
  end
  return out
end

--- image.node(lab, name, img, q) -> the firewall's node, from its own image
--  img (image.check's), with the lab's qemu options q: its NICs on the
--  firewall's taps in the seed's order (eth0 br0 the server side, eth1 br1
--  the client side, eth2 br2 the sync link), nothing else from fwsh. The
--  lab's measurements from outside hold when the image is the lab's
--  firewall by its addresses (topology: fw-1 10.0.0.2, 10.1.0.2, 10.2.0.1)
--  and its VRRP (VRIDs 51 client side, 52 server side, keepalived's
--  virtual MACs, use_vmac): who is master is read from the bridges.
function M.node(lab, name, img, q)
  local qemu = {}
  for k, v in pairs(q or {}) do qemu[k] = v end
  qemu.image = nil -- not the lab's guest
  for k, v in pairs(img) do qemu[k] = v end
  local a = T.fw[name]
  local ports = {}
  for i, p in ipairs(PORTS) do ports[i] = { name = p, bridge = T.port_bridge[p], tap = a.taps[p] } end
  return node.new{ name = name, dir = lab.dir, backend = "qemu", qemu = qemu, ports = ports }
end

return M
