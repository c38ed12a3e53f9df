-- config_spec.lua - the generated configuration (keepalived, conntrackd,
-- nftables): built from validated values only. A name or address with a
-- newline, brace, quote or semicolon is refused with a clear error and never
-- written; keepalived itself accepts what is generated (keepalived -t).
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local keepalived = require "fwsh.keepalived"
local conntrackd = require "fwsh.conntrackd"
local nftables = require "fwsh.nftables"

local function ka(over)
  local c = {
    router_id = "fw-1",
    sync_group = { name = "FW", notify_master = { "/usr/sbin/conntrackd", "-C", "/tmp/ct.conf", "-c" } },
    instances = { { name = "CLIENT", interface = "eth1", vrid = 51, priority = 150, advert_int = 0.1,
                    version = 3, vips = { "10.1.0.1/32" }, vmac = "vc51", nopreempt = true },
                  { name = "SERVER", interface = "eth0", vrid = 52, priority = 150, advert_int = 0.1,
                    version = 3, vips = { "10.0.0.254/32" }, vmac = "vs52", nopreempt = true } },
  }
  for k, v in pairs(over or {}) do c[k] = v end
  return c
end

local function inst(over)
  local i = { name = "CLIENT", interface = "eth1", vrid = 51, priority = 150, vips = { "10.1.0.1" } }
  for k, v in pairs(over) do i[k] = v end
  return { instances = { i }, router_id = "fw-1" }
end

local function ct(over)
  local c = { local_address = "10.2.0.1", peer_address = "10.2.0.2", interface = "eth2",
              socket = "/tmp/x/ct.ctl", lock = "/tmp/x/ct.lock", ignore = { "127.0.0.1" } }
  for k, v in pairs(over) do c[k] = v end
  return c
end

local function fw(over)
  local c = { client = { ifaces = { "eth1" }, net = "10.1.0.0/24" },
              server = { ifaces = { "eth0" }, net = "10.0.0.0/24" }, sync = { iface = "eth2" },
              services = { { proto = "tcp", port = 5001 } } }
  for k, v in pairs(over) do c[k] = v end
  return c
end

describe("generated configuration", function()
  it("keepalived: VRRPv3 with sub-second adverts, the sync group and its notify commands", function()
    local text = keepalived.config(ka())
    assert.truthy(text:find("advert_int 0.1\n", 1, true))
    assert.truthy(text:find("version 3\n", 1, true))
    assert.truthy(text:find('notify_master "/usr/sbin/conntrackd -C /tmp/ct.conf -c"', 1, true))
    assert.truthy(text:find("use_vmac vc51\n", 1, true))
    assert.are.equal("00:00:5e:00:01:33", keepalived.vmac(51))
  end)

  it("keepalived accepts what is generated (keepalived --config-test)", H.ns(function(ns)
    local _, has = H.run({ "sh", "-c", "command -v keepalived" })
    if not has then pending("keepalived is not installed") return end
    H.fwsh.veth.add("eth1", "peer1")
    H.fwsh.veth.add("eth0", "peer0")
    local path = os.tmpname()
    local f = io.open(path, "w")
    f:write(keepalived.config(ka()))
    f:close()
    local out, ok = H.run({ "ip", "netns", "exec", ns, "keepalived", "--config-test", "--use-file", path },
                          { stderr = true })
    os.remove(path)
    assert.is_true(ok, out)
  end))

  for _, bad in ipairs({ "fw\n1", "fw{1", "fw}1", 'fw"1', "fw;1", "fw'1", "fw 1", "fw#1" }) do
    it("refuses the name " .. string.format("%q", bad):gsub("\n", "n") .. " everywhere", function()
      H.raises(function() keepalived.config(ka{ router_id = bad }) end, "keepalived: router_id", "refused")
      H.raises(function() keepalived.config(inst{ name = bad }) end, "keepalived: instances[1].name", "refused")
      H.raises(function() keepalived.config(inst{ interface = bad }) end, "instances[1].interface", "refused")
      H.raises(function() conntrackd.config(ct{ interface = bad }) end, "conntrackd: interface", "refused")
      H.raises(function() nftables.firewall(fw{ client = { ifaces = { bad }, net = "10.1.0.0/24" } }) end,
               "nftables: client.ifaces[1]", "refused")
    end)
  end

  for _, bad in ipairs({ "10.1.0.1\n", "10.1.0.1;", "10.1.0.1}", '"10.1.0.1"', "10.1.0.256", "10.1.0.1/33", "a.b.c.d" }) do
    it("refuses the address " .. string.format("%q", bad):gsub("\n", "n"), function()
      H.raises(function() keepalived.config(inst{ vips = { bad } }) end, "keepalived: instances[1].vips[1]", "refused")
      H.raises(function() conntrackd.config(ct{ local_address = bad }) end, "conntrackd: local_address", "refused")
      H.raises(function() conntrackd.config(ct{ ignore = { bad } }) end, "conntrackd: ignore[1]", "refused")
      H.raises(function() nftables.firewall(fw{ server = { ifaces = { "eth0" }, net = bad } }) end,
               "nftables: server.net", "refused")
    end)
  end

  it("refuses paths and commands that could break out of their line", function()
    H.raises(function() conntrackd.config(ct{ socket = "/tmp/a b" }) end, "conntrackd: socket", "refused")
    H.raises(function() conntrackd.config(ct{ lock = "relative" }) end, "conntrackd: lock", "refused")
    H.raises(function()
      keepalived.config(ka{ sync_group = { name = "FW", notify_master = { "/bin/x", "a\"; rm -rf /" } } })
    end, "keepalived: sync_group.notify_master[2]", "refused")
    H.raises(function() conntrackd.ctl("/tmp/c", "-X") end, "unknown control flag")
    assert.are.same({ "/usr/sbin/conntrackd", "-C", "/tmp/c", "-f", "external" }, conntrackd.ctl("/tmp/c", "-f", "external"))
    H.raises(function() conntrackd.ctl("/tmp/c", "-c", "external") end, "only -f takes a cache")
    H.raises(function() conntrackd.ctl("/tmp/c", "-f", "all; rm") end, "only -f takes a cache")
  end)

  it("refuses numbers out of range, and VRRPv2 with sub-second adverts", function()
    H.raises(function() keepalived.config(inst{ vrid = 256 }) end, "vrid", "from 1 to 255")
    H.raises(function() keepalived.config(inst{ priority = 0 }) end, "priority", "from 1 to 254")
    H.raises(function() keepalived.config(inst{ version = 2, advert_int = 0.1 }) end, "sub-second needs version = 3")
    H.raises(function() conntrackd.config(ct{ port = 70000 }) end, "conntrackd: port", "from 1 to 65535")
    H.raises(function() nftables.firewall(fw{ services = { { proto = "sctp;", port = 1 } } }) end, "services[1].proto")
    H.raises(function() nftables.firewall(fw{ services = { { proto = "gre" } } }) end,
             "services[1].proto \"gre\" refused: tcp, udp or icmp")
    H.raises(function() nftables.firewall(fw{ services = { { proto = "tcp", port = 0 } } }) end,
             "services[1].port", "from 1 to 65535")
    H.raises(function() nftables.firewall(fw{ services = { { proto = "udp", port = "53" } } }) end,
             "services[1].port")
  end)

  it("refuses a list with a hole or another key, rather than writing less", function()
    -- ipairs would stop at the hole: keepalived got an empty virtual_ipaddress {}
    H.raises(function() keepalived.config(inst{ vips = { nil, "10.0.0.1/24" } }) end,
             "keepalived: instances[1].vips", "[1] is nil")
    H.raises(function() keepalived.config(inst{ vips = { "10.0.0.1/24", extra = "10.0.0.2/24" } }) end,
             "keepalived: instances[1].vips", "a list expected")
    H.raises(function() keepalived.config(inst{ track_interfaces = { nil, "eth0" } }) end,
             "instances[1].track_interfaces", "[1] is nil")
    H.raises(function() keepalived.config({ router_id = "fw-1", instances = { [2] = {} } }) end,
             "keepalived: instances", "[1] is nil")
    H.raises(function() conntrackd.config(ct{ ignore = { nil, "127.0.0.1" } }) end, "conntrackd: ignore", "[1] is nil")
    H.raises(function() conntrackd.config(ct{ expectations = { nil, "ftp" } }) end, "conntrackd: expectations")
    H.raises(function() nftables.firewall(fw{ client = { ifaces = { nil, "eth1" }, net = "10.1.0.0/24" } }) end,
             "nftables: client.ifaces", "[1] is nil")
    H.raises(function() nftables.firewall(fw{ services = { nil, { proto = "tcp", port = 1 } } }) end,
             "nftables: services", "[1] is nil")
    H.raises(function()
      keepalived.config(ka{ sync_group = { name = "FW", notify_master = { "/bin/x", nil, "y" } } })
    end, "keepalived: sync_group.notify_master")
  end)
end)
