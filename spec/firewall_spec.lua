-- firewall_spec.lua - the firewall lab library (require "fwsh.firewall"): a
-- build that fails tears down what it made and nothing else.
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local firewall = require "fwsh.firewall"

describe("fwsh.firewall", function()
  it("is a module any script can require", function()
    assert.are.equal("function", type(firewall.build))
    assert.are.equal("function", type(firewall.main))
  end)

  it("leaves the bridges that were there when a build fails on them", H.ns(function(ns)
    -- br1 as the lab wants it (ensure accepts it), br2 addressed (ensure refuses it)
    H.run({ "ip", "link", "add", "br1", "type", "bridge" })
    H.run({ "sysctl", "-qw", "net.ipv6.conf.br1.disable_ipv6=1" })
    H.run({ "ip", "link", "set", "br1", "up" })
    H.run({ "ip", "link", "add", "br2", "type", "bridge" })
    H.run({ "ip", "addr", "add", "10.99.0.1/24", "dev", "br2" })
    local before = H.link(ns, "br1").ifindex
    local ok, err = pcall(firewall.build, {})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("br2", 1, true), tostring(err))
    assert.are.equal(before, H.link(ns, "br1").ifindex)
    assert.are.equal("10.99.0.1/24", H.addrs(ns, "br2")[1])
    assert.is_nil(H.link(ns, "br0")) -- the one it made is gone again
    assert.are.same({ "br1", "br2", "lo" }, H.link_names(ns))
  end))
  it("refuses a NAT address outside the server network before it makes anything", H.ns(function(ns)
    H.raises(function() firewall.build{ nat = true, nat_to = "192.168.1.1" } end,
             "nat.to 192.168.1.1 refused: not in the server network 10.0.0.0/24")
    H.raises(function() firewall.build{ nat = true, nat_to = "10.0.0.999" } end, "nat.to")
    assert.are.same({ "lo" }, H.link_names(ns))
  end))
end)
