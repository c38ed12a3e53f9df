-- vxlan_spec.lua - fwsh.vxlan, checked against `ip -j -d link` in the test's
-- namespace. A veth end is the underlay: the test kernel has no dummy links.
local H = require "helper"
local fwsh = H.fwsh

describe("fwsh.vxlan", function()
  it("adds a VXLAN with its id, local, remote, port, dev and no learning", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    local vx = fwsh.vxlan.add("vx0", { id = 42, ["local"] = "192.0.2.1", remote = "192.0.2.2",
                                       dstport = 4790, dev = "u0", learning = false })
    local l = H.link(ns, "vx0")
    local d = l.linkinfo.info_data
    assert.are.equal("vxlan", l.linkinfo.info_kind)
    assert.are.equal(42, d.id)
    assert.are.equal("192.0.2.1", d["local"])
    assert.are.equal("192.0.2.2", d.remote)
    assert.are.equal(4790, d.port)
    assert.are.equal("u0", d.link)
    assert.is_false(d.learning)
    assert.is_true(H.has_flag(l, "UP"))
    assert.are.equal("fwsh:" .. fwsh.lab(), l.ifalias)
    assert.are.equal("vxlan", vx.kind)
    assert.are.equal(l.ifindex, vx.ifindex)
    assert.are.equal("fwsh.vxlan", getmetatable(vx).__name)
  end))

  it("takes the kernel's port and learning by default, a group as the remote", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    fwsh.vxlan.add("vx0", { id = 7, remote = "239.1.1.1", dev = "u0", up = false })
    local l = H.link(ns, "vx0")
    local d = l.linkinfo.info_data
    assert.are.equal(7, d.id)
    assert.are.equal("239.1.1.1", d.group)
    assert.is_nil(d.remote)
    assert.are.equal(4789, d.port)
    assert.is_true(d.learning)
    assert.is_false(H.has_flag(l, "UP"))
  end))

  it("sets the outer packets' TTL", H.ns(function(ns)
    local vx = fwsh.vxlan.add("vx0", { id = 42, ttl = 16 })
    assert.are.equal(16, H.link(ns, "vx0").linkinfo.info_data.ttl)
    assert.are.equal(16, vx:info().vxlan.ttl)
  end))

  it("ensure makes it once, then accepts it as it is", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    local opts = { id = 42, ["local"] = "192.0.2.1", remote = "192.0.2.2", dev = "u0", up = false }
    local vx, created = fwsh.vxlan.ensure("vx0", opts)
    assert.is_true(created)
    local ifindex = H.link(ns, "vx0").ifindex
    opts.up = true
    local again, made = fwsh.vxlan.ensure("vx0", opts)
    assert.is_false(made)
    local l = H.link(ns, "vx0")
    assert.are.equal(ifindex, l.ifindex)
    assert.is_true(H.has_flag(l, "UP"))
    assert.are.equal(vx.ifindex, again.ifindex)
  end))

  it("ensure refuses a VXLAN whose settings differ, or another kind, and changes nothing", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    fwsh.vxlan.add("vx0", { id = 42, remote = "192.0.2.2", dev = "u0", ttl = 8 })
    H.raises(function() fwsh.vxlan.ensure("vx0", { id = 43 }) end, "vxlan.ensure vx0", "File exists",
             "id 42, not 43")
    H.raises(function() fwsh.vxlan.ensure("vx0", { id = 42, remote = "192.0.2.3" }) end,
             "vxlan.ensure vx0", "File exists", "remote 192.0.2.2, not 192.0.2.3")
    H.raises(function() fwsh.vxlan.ensure("vx0", { id = 42, dstport = 4790 }) end,
             "vxlan.ensure vx0", "dstport 4789, not 4790")
    H.raises(function() fwsh.vxlan.ensure("vx0", { id = 42, ["local"] = "192.0.2.1" }) end,
             "vxlan.ensure vx0", "local none, not 192.0.2.1")
    H.raises(function() fwsh.vxlan.ensure("vx0", { id = 42, ttl = 9 }) end, "vxlan.ensure vx0", "ttl 8, not 9")
    H.raises(function() fwsh.vxlan.ensure("u0", { id = 42 }) end, "vxlan.ensure u0", "exists as a veth, not a vxlan")
    local d = H.link(ns, "vx0").linkinfo.info_data
    assert.are.equal(42, d.id)
    assert.are.equal("192.0.2.2", d.remote)
    assert.are.equal(8, d.ttl)
    assert.are.equal("veth", H.link(ns, "u0").linkinfo.info_kind)
  end))

  it("carries IPv6 outer addresses", H.ns(function(ns)
    fwsh.vxlan.add("vx6", { id = 16777215, ["local"] = "2001:db8::1", remote = "2001:db8::2" })
    local d = H.link(ns, "vx6").linkinfo.info_data
    assert.are.equal(16777215, d.id)
    assert.are.equal("2001:db8::1", d.local6 or d["local"])
    assert.are.equal("2001:db8::2", d.remote6 or d.remote)
  end))

  it("is gone again when the transaction that made it fails", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    local ok = pcall(fwsh.transaction, function()
      fwsh.vxlan.add("vx0", { id = 42, dev = "u0" })
      assert(H.link(ns, "vx0"))
      error("boom")
    end)
    assert.is_false(ok)
    assert.is_nil(H.link(ns, "vx0"))
    assert.truthy(H.link(ns, "u0"))
  end))

  it("comes back with its settings when the transaction that deleted it fails", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    fwsh.vxlan.add("vx0", { id = 42, ["local"] = "192.0.2.1", remote = "192.0.2.2", dstport = 4790,
                            dev = "u0", learning = false, ttl = 8 })
    local ok = pcall(fwsh.transaction, function()
      fwsh.link.get("vx0"):delete()
      assert.is_nil(H.link(ns, "vx0"))
      error("boom")
    end)
    assert.is_false(ok)
    local l = H.link(ns, "vx0")
    local d = l.linkinfo.info_data
    assert.are.equal(42, d.id)
    assert.are.equal("192.0.2.1", d["local"])
    assert.are.equal("192.0.2.2", d.remote)
    assert.are.equal(4790, d.port)
    assert.are.equal("u0", d.link)
    assert.is_false(d.learning)
    assert.are.equal(8, d.ttl)
    assert.is_true(H.has_flag(l, "UP"))
    assert.are.equal("fwsh:" .. fwsh.lab(), l.ifalias)
  end))

  it("is deleted by link:delete()", H.ns(function(ns)
    local vx = fwsh.vxlan.add("vx0", { id = 42 })
    vx:delete()
    assert.is_nil(H.link(ns, "vx0"))
  end))

  it("refuses bad arguments, naming the field or the reason, and makes nothing", H.ns(function(ns)
    H.raises(function() fwsh.vxlan.add("vx0", {}) end, "id (the VNI, 1 to 16777215) is needed")
    H.raises(function() fwsh.vxlan.add("vx0") end, "bad argument #2")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 0 }) end, "vxlan.add vx0", "1 to 16777215")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 16777216 }) end, "vxlan.add vx0", "1 to 16777215")
    H.raises(function() fwsh.vxlan.add("vx0", { id = "42" }) end, "field 'id'")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 1, ["local"] = "nowhere" }) end,
             "vxlan.add vx0", "local nowhere: not an IPv4 or IPv6 address")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 1, ["local"] = "192.0.2.1", remote = "2001:db8::2" }) end,
             "vxlan.add vx0", "not of one family")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 1, dev = "nosuch0" }) end,
             "vxlan.add vx0", "dev nosuch0: no such link")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 1, dstport = 0 }) end, "field 'dstport'", "out of range")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 1, mtu = 67 }) end, "field 'mtu'", "out of range")
    H.raises(function() fwsh.vxlan.add("vx0", { id = 1, vni = 2 }) end, "unknown option 'vni'")
    assert.is_nil(H.link(ns, "vx0"))
  end))

  it("refuses a name that is taken, and leaves that link alone", H.ns(function(ns)
    fwsh.veth.add("u0", "u1")
    H.raises(function() fwsh.vxlan.add("u0", { id = 1 }) end, "vxlan.add u0", "File exists")
    assert.are.equal("veth", H.link(ns, "u0").linkinfo.info_kind)
  end))
end)
