-- addr_spec.lua - fwsh.addr, IPv4 and IPv6, checked against `ip -j addr`.
local H = require "helper"
local fwsh = H.fwsh

-- A veth pair made by ip, both ends up: d0 is the link under test.
local function dev(ns)
  H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
  H.run({ "ip", "link", "set", "d0", "up" })
  H.run({ "ip", "link", "set", "d1", "up" })
  assert.is_not_nil(H.link(ns, "d0"))
end

-- ip's addresses of dev, by "address/prefix": { family =, scope = }.
local function ip_addrs(ns, name)
  local by = {}
  for _, l in ipairs(H.ip(ns, "addr", "show", "dev", name)) do
    for _, a in ipairs(l.addr_info or {}) do
      by[a["local"] .. "/" .. a.prefixlen] = { family = a.family, scope = a.scope }
    end
  end
  return by
end

local function has(list, x)
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end

describe("fwsh.addr", function()
  it("adds IPv4 and IPv6 addresses", H.ns(function(ns)
    dev(ns)
    assert.is_true(fwsh.addr.add("d0", "10.0.0.1/24"))
    assert.is_true(fwsh.addr.add("d0", "fd00::1/64"))
    local a = H.addrs(ns, "d0")
    assert.is_true(has(a, "10.0.0.1/24"))
    assert.is_true(has(a, "fd00::1/64"))
  end))

  it("takes an address without a prefix as a host address", H.ns(function(ns)
    dev(ns)
    fwsh.addr.add("d0", "10.0.0.7")
    fwsh.addr.add("d0", "fd00::7")
    local a = H.addrs(ns, "d0")
    assert.is_true(has(a, "10.0.0.7/32"))
    assert.is_true(has(a, "fd00::7/128"))
  end))

  it("takes the link as a handle", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    fwsh.addr.add(t, "10.0.0.1/24")
    assert.are.same({ "10.0.0.1/24" }, (function()
      local v4 = {}
      for _, x in ipairs(H.addrs(ns, "net11")) do
        if x:find(".", 1, true) then v4[#v4 + 1] = x end
      end
      return v4
    end)())
  end))

  it("lists a link's addresses as ip does, with family and scope", H.ns(function(ns)
    dev(ns)
    fwsh.addr.add("d0", "10.0.0.1/24")
    fwsh.addr.add("d0", "10.0.1.1/16")
    fwsh.addr.add("d0", "fd00::1/64")
    local want = ip_addrs(ns, "d0")
    local got = {}
    local ifindex = H.link(ns, "d0").ifindex
    for _, a in ipairs(fwsh.addr.list("d0")) do
      got[a.address] = { family = a.family, scope = a.scope }
      assert.are.equal(ifindex, a.ifindex)
    end
    assert.are.same(want, got)
    assert.are.same({ family = "inet", scope = "global" }, got["10.0.0.1/24"])
  end))

  it("lists every address of the namespace", H.ns(function(ns)
    dev(ns)
    fwsh.addr.add("d0", "10.0.0.1/24")
    local want, got = {}, {}
    for _, l in ipairs(H.ip(ns, "addr", "show")) do
      for _, a in ipairs(l.addr_info or {}) do
        want[#want + 1] = l.ifindex .. " " .. a["local"] .. "/" .. a.prefixlen
      end
    end
    for _, a in ipairs(fwsh.addr.list()) do got[#got + 1] = a.ifindex .. " " .. a.address end
    table.sort(want)
    table.sort(got)
    assert.are.same(want, got)
    assert.is_true(has(got, "1 127.0.0.1/8"))
  end))

  it("deletes an address, and only that one", H.ns(function(ns)
    dev(ns)
    fwsh.addr.add("d0", "10.0.0.1/24")
    -- Not 10.0.0.2/24: the kernel deletes a primary address's secondaries with it.
    fwsh.addr.add("d0", "10.0.1.2/24")
    fwsh.addr.add("d0", "fd00::1/64")
    assert.is_true(fwsh.addr.delete("d0", "10.0.0.1/24"))
    assert.is_true(fwsh.addr.delete("d0", "fd00::1/64"))
    local a = H.addrs(ns, "d0")
    assert.is_false(has(a, "10.0.0.1/24"))
    assert.is_false(has(a, "fd00::1/64"))
    assert.is_true(has(a, "10.0.1.2/24"))
  end))

  it("refuses an address the link has already; ensure accepts it", H.ns(function(ns)
    dev(ns)
    fwsh.addr.add("d0", "10.0.0.1/24")
    local before = H.addrs(ns, "d0")
    local err = H.raises(function() fwsh.addr.add("d0", "10.0.0.1/24") end,
                         "addr.add 10.0.0.1/24 dev d0", "File exists")
    assert.are.equal("EEXIST", err.code)
    assert.is_false(fwsh.addr.ensure("d0", "10.0.0.1/24"))
    assert.are.same(before, H.addrs(ns, "d0"))
    assert.is_true(fwsh.addr.ensure("d0", "10.0.0.2/24"))
    assert.is_true(has(H.addrs(ns, "d0"), "10.0.0.2/24"))
  end))

  it("refuses to delete an address the link does not have", H.ns(function(ns)
    dev(ns)
    fwsh.addr.add("d0", "10.0.0.1/24")
    local before = H.addrs(ns, "d0")
    local err = H.raises(function() fwsh.addr.delete("d0", "10.0.0.9/24") end,
                         "addr.delete 10.0.0.9/24 dev d0", "Cannot assign requested address")
    assert.are.equal("EADDRNOTAVAIL", err.code)
    assert.are.same(before, H.addrs(ns, "d0"))
  end))

  it("refuses what is not an address, or a prefix too long", H.ns(function(ns)
    dev(ns)
    local before = H.addrs(ns, "d0")
    H.raises(function() fwsh.addr.add("d0", "banana") end,
             "addr.add banana dev d0", "Invalid argument", "'banana' is not an IP address")
    H.raises(function() fwsh.addr.add("d0", "10.0.0.1/33") end,
             "addr.add 10.0.0.1/33 dev d0", "Invalid argument")
    H.raises(function() fwsh.addr.add("d0", "fd00::1/129") end,
             "addr.add fd00::1/129 dev d0", "Invalid argument")
    H.raises(function() fwsh.addr.add("d0", "") end, "addr.add '' dev d0", "Invalid argument")
    assert.are.same(before, H.addrs(ns, "d0"))
  end))

  it("refuses a link that does not exist", H.ns(function(ns)
    H.raises(function() fwsh.addr.add("nope0", "10.0.0.1/24") end,
             "addr.add 10.0.0.1/24 dev nope0", "No such device")
    H.raises(function() fwsh.addr.list("nope0") end, "addr.list nope0", "No such device")
  end))

  it("refuses any address on a non-grounding bridge, saying how to ground it", H.ns(function(ns)
    fwsh.bridge.add("br1", { grounding = false })
    H.raises(function() fwsh.addr.add("br1", "fd00::1/64") end,
             "addr.add fd00::1/64 dev br1", "non-grounding bridge", "set{grounding=true}")
    H.raises(function() fwsh.addr.add("br1", "10.3.0.1/24") end,
             "addr.add 10.3.0.1/24 dev br1", "non-grounding bridge")
    assert.are.same({}, H.addrs(ns, "br1"))
    assert.are.same({}, H.routes(ns, "br1"))
  end))
end)
