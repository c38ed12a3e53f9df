-- bridge_spec.lua - fwsh.bridge, checked against `ip -j -d link`, `bridge -j link`
-- and `ip -j route show table all`.
local H = require "helper"
local fwsh = H.fwsh

describe("fwsh.bridge", function()
  it("adds a grounding bridge, up, with its address and routes", H.ns(function(ns)
    local br = fwsh.bridge.add("br0", { address = "10.0.0.1/24" })
    local l = H.link(ns, "br0")
    assert.are.equal("bridge", l.linkinfo.info_kind)
    assert.truthy(l.flags[1] and table.concat(l.flags, ","):find("UP"))
    assert.are.same({ "10.0.0.1/24" }, (function()
      local v4 = {}
      for _, a in ipairs(H.addrs(ns, "br0")) do if a:find("%.") then v4[#v4 + 1] = a end end
      return v4
    end)())
    assert.truthy(#H.routes(ns, "br0") > 0)
    local grounding, why = br:grounding()
    assert.is_true(grounding)
    assert.are.equal(1, why.ipv4_addrs)
  end))

  it("adds a non-grounding bridge with no address and no route of any family", H.ns(function(ns)
    local br = fwsh.bridge.add("br1", { grounding = false })
    local l = H.link(ns, "br1")
    assert.are.equal("bridge", l.linkinfo.info_kind)
    assert.truthy(table.concat(l.flags, ","):find("UP"))
    assert.are.same({}, H.addrs(ns, "br1"))
    assert.are.same({}, H.routes(ns, "br1"))
    local grounding, why = br:grounding()
    assert.is_false(grounding)
    assert.is_false(why.ipv6_enabled)
  end))

  it("sets STP, forward delay, ageing time and MAC at creation", H.ns(function(ns)
    fwsh.bridge.add("br1", { stp = true, forward_delay = 4, ageing_time = 120,
                             mac = "02:00:00:00:00:01", up = false })
    local l = H.link(ns, "br1")
    local d = l.linkinfo.info_data
    assert.are.equal(1, d.stp_state)
    assert.are.equal(400, d.forward_delay)
    assert.are.equal(12000, d.ageing_time)
    assert.are.equal("02:00:00:00:00:01", l.address)
    assert.falsy(table.concat(l.flags, ","):find("UP"))
  end))

  it("turns VLAN filtering on, or says the kernel cannot", H.ns(function(ns)
    -- Whether this kernel can, asked of iproute2 in a namespace of its own.
    local _, can = H.run({ "unshare", "-n", "ip", "link", "add", "b", "type", "bridge",
                           "vlan_filtering", "1" })
    if can then
      fwsh.bridge.add("br1", { vlan_filtering = true })
      assert.are.equal(1, H.link(ns, "br1").linkinfo.info_data.vlan_filtering)
    else
      H.raises(function() fwsh.bridge.add("br1", { vlan_filtering = true }) end,
               "bridge.add br1: Operation not supported", "CONFIG_BRIDGE_VLAN_FILTERING")
      assert.is_nil(H.link(ns, "br1"))
    end
  end))

  it("turns multicast snooping off: no snoopers' group joined; on again through set{}", H.ns(function(ns)
    -- The IPv4 groups each link of ns has joined, as the kernel lists them.
    local function groups(name)
      local out = assert(H.run({ "ip", "netns", "exec", ns, "cat", "/proc/net/igmp" }))
      local found, at = {}, nil
      for line in out:gmatch("[^\n]+") do
        local dev = line:match("^%d+%s+(%S+)%s*:")
        if dev then at = dev elseif at == name then found[#found + 1] = line:match("^%s+(%x+)") end
      end
      return table.concat(found, " ")
    end
    fwsh.bridge.add("br1")
    fwsh.bridge.add("br2", { mcast_snooping = false })
    assert.are.equal(1, H.link(ns, "br1").linkinfo.info_data.mcast_snooping)
    assert.are.equal(0, H.link(ns, "br2").linkinfo.info_data.mcast_snooping)
    -- 224.0.0.106, which snooping listens on for multicast routers, as the kernel writes it
    assert.truthy(groups("br1"):find("6A0000E0", 1, true), groups("br1"))
    assert.is_nil(groups("br2"):find("6A0000E0", 1, true), groups("br2"))
    assert.is_false(fwsh.link.get("br2"):info().bridge.mcast_snooping)
    fwsh.bridge.get("br2"):set{ mcast_snooping = true }
    assert.are.equal(1, H.link(ns, "br2").linkinfo.info_data.mcast_snooping)
    assert.truthy(groups("br2"):find("6A0000E0", 1, true), groups("br2"))
    H.raises(function() fwsh.bridge.ensure("br1", { mcast_snooping = false }) end,
             "bridge.ensure br1", "File exists", "mcast_snooping")
    assert.are.equal(1, H.link(ns, "br1").linkinfo.info_data.mcast_snooping)
  end))

  it("changes options on an existing bridge through set{}", H.ns(function(ns)
    local br = fwsh.bridge.add("br1")
    br:set{ stp = true, ageing_time = 60 }
    local d = H.link(ns, "br1").linkinfo.info_data
    assert.are.equal(1, d.stp_state)
    assert.are.equal(6000, d.ageing_time)
  end))

  it("ensure accepts a bridge with the same settings and changes nothing", H.ns(function(ns)
    local _, created = fwsh.bridge.ensure("br1", { grounding = false, stp = false })
    assert.is_true(created)
    local before = H.link(ns, "br1")
    local br, again = fwsh.bridge.ensure("br1", { grounding = false, stp = false })
    assert.is_false(again)
    assert.are.equal(before.ifindex, H.link(ns, "br1").ifindex)
    assert.are.equal("br1", br.name)
  end))

  it("ensure refuses a bridge whose settings differ, and changes nothing", H.ns(function(ns)
    fwsh.bridge.add("br1", { stp = false })
    H.raises(function() fwsh.bridge.ensure("br1", { stp = true }) end,
             "bridge.ensure br1", "File exists", "stp")
    assert.are.equal(0, H.link(ns, "br1").linkinfo.info_data.stp_state)
  end))

  it("ensure refuses a grounding bridge where a non-grounding one is asked for", H.ns(function(ns)
    fwsh.bridge.add("br1", { address = "10.9.0.1/24" })
    H.raises(function() fwsh.bridge.ensure("br1", { grounding = false }) end,
             "bridge.ensure br1", "grounding")
  end))

  it("ensure refuses a link of another kind", H.ns(function(ns)
    fwsh.tap.add("br1")
    H.raises(function() fwsh.bridge.ensure("br1") end, "bridge.ensure br1", "tap, not a bridge")
    assert.are.equal("tun", H.link(ns, "br1").linkinfo.info_kind)
  end))

  it("lists bridges and their ports", H.ns(function(ns)
    local br = fwsh.bridge.add("br1")
    fwsh.bridge.add("br2")
    fwsh.tap.add("net11", { bridge = br })
    fwsh.tap.add("net12", { bridge = "br1" })
    local names = {}
    for _, b in ipairs(fwsh.bridge.list()) do names[#names + 1] = b.name end
    table.sort(names)
    assert.are.same({ "br1", "br2" }, names)
    local ports = {}
    for _, p in ipairs(br:ports()) do ports[#ports + 1] = p.name end
    table.sort(ports)
    assert.are.same(H.ports(ns, "br1"), ports)
    assert.are.same({ "net11", "net12" }, ports)
  end))

  it("rolls a half-made bridge back when its address is refused", H.ns(function(ns)
    local before = H.link_names(ns)
    H.raises(function() fwsh.bridge.add("br0", { address = "10.0.0.1/33" }) end,
             "bridge.add br0", "10.0.0.1/33")
    assert.are.same(before, H.link_names(ns))
  end))

  it("refuses an address on a non-grounding bridge before touching anything", H.ns(function(ns)
    local before = H.link_names(ns)
    H.raises(function() fwsh.bridge.add("br1", { grounding = false, address = "10.0.0.1/24" }) end,
             "non-grounding bridge has no address")
    assert.are.same(before, H.link_names(ns))
  end))

  it("says which name is taken", H.ns(function(ns)
    fwsh.bridge.add("br1")
    local err = H.raises(function() fwsh.bridge.add("br1") end, "bridge.add br1: File exists")
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("bridge.add", err.op)
    assert.are.equal("br1", err.object)
  end))

  it("get refuses a link that is not a bridge", H.ns(function(ns)
    fwsh.tap.add("net11")
    H.raises(function() fwsh.bridge.get("net11") end, "bridge.get net11", "tap, not a bridge")
  end))

  it("prints the brctl show table", H.ns(function(ns)
    local br = fwsh.bridge.add("br1", { mac = "02:00:00:00:00:11" })
    fwsh.tap.add("net11", { bridge = br })
    fwsh.tap.add("net12", { bridge = br })
    local out = fwsh.show{ print = false }
    assert.are.equal(
      "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n" ..
      "br1\t\t8000.020000000011\tno\t\tnet11\n" ..
      "\t\t\t\t\t\t\tnet12\n", out)
  end))

  it("refuses an address on a non-grounding bridge until it is made grounding", H.ns(function(ns)
    local br = fwsh.bridge.add("br1", { grounding = false })
    H.raises(function() fwsh.addr.add(br, "10.1.0.1/24") end,
             "addr.add 10.1.0.1/24 dev br1", "non-grounding bridge", "grounding=true")
    assert.are.same({}, H.addrs(ns, "br1"))
    assert.are.same({}, H.routes(ns, "br1"))

    br:set{ grounding = true }
    fwsh.addr.add(br, "10.1.0.1/24")
    local have = H.addrs(ns, "br1")
    assert.truthy(table.concat(have, " "):find("10.1.0.1/24", 1, true))
    assert.is_true((br:grounding()))

    H.raises(function() br:set{ grounding = false } end, "link.set br1", "remove them first")
    fwsh.addr.delete(br, "10.1.0.1/24")
    br:set{ grounding = false }
    assert.are.same({}, H.addrs(ns, "br1"))
    assert.are.same({}, H.routes(ns, "br1"))
    assert.is_false((br:grounding()))
  end))

  -- One line per bridge option row: the Lua key, a value and another, the key
  -- `ip -j -d link` shows it under and the kernel's value for each (times in
  -- hundredths). needs: a kernel option this kernel may lack.
  local OPTIONS = {
    { "stp", true, false, "stp_state", 1, 0 },
    { "forward_delay", 4, 2.5, "forward_delay", 400, 250 },
    { "ageing_time", 120, 0.1, "ageing_time", 12000, 10 },
    { "vlan_filtering", true, false, "vlan_filtering", 1, 0, needs = true },
    { "mcast_snooping", false, true, "mcast_snooping", 0, 1 },
    { "priority", 4096, 100, "priority", 4096, 100 },
    { "hello_time", 3, 1, "hello_time", 300, 100 },
    { "max_age", 10, 6, "max_age", 1000, 600 },
    { "mcast_querier", true, false, "mcast_querier", 1, 0 },
  }

  it("has a line below for every bridge option info() shows", H.ns(function()
    local want = {}
    for k in pairs(fwsh.bridge.add("br1"):info().bridge) do if k ~= "id" then want[k] = true end end
    local have = {}
    for _, o in ipairs(OPTIONS) do have[o[1]] = true end
    assert.are.same(want, have)
  end))

  for _, o in ipairs(OPTIONS) do
    local key, v1, v2, ipkey, k1, k2 = table.unpack(o)
    it("sets " .. key .. " at creation and through set{}, and ensure compares it", H.ns(function(ns)
      local _, can = H.run({ "unshare", "-n", "ip", "link", "add", "b", "type", "bridge",
                             ipkey, tostring(k1) })
      if o.needs and not can then return end
      local br = fwsh.bridge.add("br1", { [key] = v1, up = false })
      assert.are.equal(k1, H.link(ns, "br1").linkinfo.info_data[ipkey])
      assert.are.equal(v1, br:info().bridge[key])
      br:set{ [key] = v2 }
      assert.are.equal(k2, H.link(ns, "br1").linkinfo.info_data[ipkey])
      H.raises(function() fwsh.bridge.ensure("br1", { [key] = v1 }) end,
               "bridge.ensure br1", "File exists", key)
      assert.are.equal(k2, H.link(ns, "br1").linkinfo.info_data[ipkey])
    end))
  end
end)
