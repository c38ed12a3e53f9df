-- port_spec.lua - fwsh.port and bridge:attach / detach, checked against
-- `bridge -j link` and the master in `ip -j -d link`.
local H = require "helper"
local fwsh = H.fwsh

describe("fwsh.port", function()
  it("attaches a link to a bridge by name", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11")
    assert.is_true(fwsh.port.attach("br1", "net11"))
    assert.are.same({ "net11" }, H.ports(ns, "br1"))
    local l = H.link(ns, "net11")
    assert.are.equal("br1", l.master)
    assert.are.equal("bridge", l.linkinfo.info_slave_kind)
  end))

  it("attaches by handle, and several at once through the bridge", H.ns(function(ns)
    local br = fwsh.bridge.add("br1")
    local a = fwsh.tap.add("net11")
    local v = fwsh.veth.add("v0", "v1")
    fwsh.port.attach(br, a)
    assert.are.equal(br, br:attach(v, "v1"))
    assert.are.same({ "net11", "v0", "v1" }, H.ports(ns, "br1"))
    local ports = {}
    for _, p in ipairs(br:ports()) do ports[#ports + 1] = p.name end
    table.sort(ports)
    assert.are.same(H.ports(ns, "br1"), ports)
  end))

  it("accepts a link that is a port of that bridge already, and changes nothing", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11", { bridge = "br1" })
    local before = H.link_state(ns)
    assert.is_true(fwsh.port.attach("br1", "net11"))
    assert.are.same(before, H.link_state(ns))
  end))

  it("refuses a port of another bridge, and leaves it there", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.bridge.add("br2")
    fwsh.tap.add("net11", { bridge = "br1" })
    local err = H.raises(function() fwsh.port.attach("br2", "net11") end,
                         "port.attach net11 to br2", "Device or resource busy",
                         "net11 is a port of br1 already")
    assert.are.equal("EBUSY", err.code)
    assert.are.same({ "net11" }, H.ports(ns, "br1"))
    assert.are.same({}, H.ports(ns, "br2"))
  end))

  it("shows the port's state as bridge -j link does", H.ns(function(ns)
    fwsh.bridge.add("br1")
    local t = fwsh.tap.add("net11", { bridge = "br1", up = false })
    H.settle(ns)
    local state
    for _, p in ipairs(H.bridge(ns, "link", "show")) do
      if p.ifname == "net11" then state = p.state end
    end
    assert.are.equal("disabled", state)
    assert.are.equal(state, t:info().port_state)
    assert.are.equal("br1", t:info().master)
  end))

  it("detaches a port, by port.detach and by link:detach", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11", { bridge = "br1" })
    local b = fwsh.tap.add("net12", { bridge = "br1" })
    assert.is_true(fwsh.port.detach("net11"))
    assert.are.same({ "net12" }, H.ports(ns, "br1"))
    assert.are.equal(b, b:detach())
    assert.are.same({}, H.ports(ns, "br1"))
    assert.is_nil(H.link(ns, "net11").master)
    assert.is_nil(H.link(ns, "net12").master)
  end))

  it("detaches through the bridge only a port of that bridge", H.ns(function(ns)
    local br1 = fwsh.bridge.add("br1")
    fwsh.bridge.add("br2")
    fwsh.tap.add("net11", { bridge = "br1" })
    fwsh.tap.add("net21", { bridge = "br2" })
    H.raises(function() br1:detach("net21") end,
             "bridge.detach net21 from br1", "not a port of it")
    assert.are.same({ "net21" }, H.ports(ns, "br2"))
    br1:detach("net11")
    assert.are.same({}, H.ports(ns, "br1"))
  end))

  it("refuses to detach a link that is on no bridge", H.ns(function(ns)
    fwsh.tap.add("net11")
    local err = H.raises(function() fwsh.port.detach("net11") end,
                         "port.detach net11", "Invalid argument", "not a port of any bridge")
    assert.are.equal("EINVAL", err.code)
  end))

  it("refuses a bridge as a port of a bridge, with the kernel's reason", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.bridge.add("br2")
    local before = H.link_state(ns)
    H.raises(function() fwsh.port.attach("br1", "br2") end,
             "port.attach br2 to br1", "bridge")
    assert.are.same(before, H.link_state(ns))
  end))

  it("moves a port between bridges by detach, then attach", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.bridge.add("br2")
    local t = fwsh.tap.add("net11", { bridge = "br1" })
    t:detach()
    fwsh.port.attach("br2", t)
    assert.are.same({}, H.ports(ns, "br1"))
    assert.are.same({ "net11" }, H.ports(ns, "br2"))
  end))
end)
