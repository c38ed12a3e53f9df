-- transaction_spec.lua - fwsh.transaction: all of fn's changes or none, undone
-- newest first, fn's error raised again unchanged. State is read back with
-- `ip -j -d link`, `ip -j addr`, `ip -j route` and `bridge -j link`.
local H = require "helper"
local fwsh = H.fwsh

-- Runs fn in a transaction that must fail with fn's error; returns that error.
local function rolled_back(fn)
  local ok, err = pcall(fwsh.transaction, fn)
  assert.is_false(ok, "the transaction did not fail")
  return err
end

local function boom()
  error({ "boom" })
end

-- Every address of ns, and every route of every table, sorted, as text.
local function addrs(ns)
  local out = {}
  for _, l in ipairs(H.ip(ns, "addr", "show")) do
    for _, a in ipairs(l.addr_info or {}) do
      out[#out + 1] = string.format("%s %s/%d %s", l.ifname, a["local"], a.prefixlen, a.scope)
    end
  end
  table.sort(out)
  return out
end

local function routes(ns)
  local out = {}
  for _, fam in ipairs({ "-4", "-6" }) do
    for _, r in ipairs(H.ip(ns, fam, "route", "show", "table", "all")) do
      out[#out + 1] = string.format("%s %s %s %s %s %s %s", r.type or "unicast", r.dst,
                                    r.gateway or "-", r.dev or "-", r.table or "main",
                                    r.protocol or "boot", tostring(r.metric or 0))
    end
  end
  table.sort(out)
  return out
end

local function sysctl(ns, path)
  return (H.run({ "ip", "netns", "exec", ns, "cat", "/proc/sys/" .. path }):gsub("%s+$", ""))
end

local made = {}

describe("fwsh.transaction", function()
  after_each(function()
    for _, n in ipairs(made) do H.run({ "ip", "netns", "delete", n }) end
    made = {}
  end)

  it("keeps everything when fn returns, and returns what fn returns", H.ns(function(ns)
    local a, b = fwsh.transaction(function(x, y)
      fwsh.bridge.add("br1")
      fwsh.tap.add("net11", { bridge = "br1" })
      return x * y, "done"
    end, 6, 7)
    assert.are.equal(42, a)
    assert.are.equal("done", b)
    assert.are.same({ "net11" }, H.ports(ns, "br1"))
  end))

  it("undoes every link fn created, and raises fn's error unchanged", H.ns(function(ns)
    local before, before_addrs = H.link_names(ns), addrs(ns)
    local e = setmetatable({}, { __tostring = function() return "mine" end })
    local err = rolled_back(function()
      local br = fwsh.bridge.add("br0", { address = "10.0.0.1/24" })
      fwsh.bridge.add("br1", { grounding = false })
      fwsh.tap.add("net01", { bridge = br })
      fwsh.tap.add("net11", { bridge = "br1", owner = 4242 })
      fwsh.veth.add("v0", "v1")
      fwsh.port.attach("br1", "v1")
      fwsh.addr.add("v0", "10.1.0.1/24")
      error(e)
    end)
    assert.are.equal(e, err)
    assert.is_nil(rawget(e, "rollback"))
    assert.are.same(before, H.link_names(ns))
    assert.are.same(before_addrs, addrs(ns))
  end))

  it("raises a string, a number or an fwsh error as it was", H.ns(function(ns)
    local err = rolled_back(function() fwsh.tap.add("net11"); error("plain words", 0) end)
    assert.are.equal("plain words", err)
    err = rolled_back(function() fwsh.tap.add("net11"); error(42) end)
    assert.are.equal(42, err)
    local inner
    err = rolled_back(function()
      fwsh.tap.add("net11")
      inner = select(2, pcall(fwsh.tap.add, "net11"))
      error(inner)
    end)
    assert.are.equal(inner, err)
    assert.are.equal("tap.add", err.op)
    assert.are.equal("EEXIST", err.code)
    assert.is_nil(err.rollback)
    err = rolled_back(function() fwsh.tap.add("net11"); fwsh.tap.add("net11") end)
    assert.are.equal("tap.add", err.op)
    assert.are.equal("net11", err.object)
    assert.is_nil(H.link(ns, "net11"))
  end))

  it("undoes changes to links that were there before", H.ns(function(ns)
    fwsh.bridge.add("br1", { mac = "02:00:00:00:01:00" })
    fwsh.tap.add("net11", { bridge = "br1" })
    -- Up already: a link's first time up gives it a qdisc that stays.
    fwsh.tap.add("net12")
    local before = H.link_state(ns)
    rolled_back(function()
      local a, b = fwsh.link.get("net11"), fwsh.link.get("net12")
      a:set{ mtu = 1400 }
      a:down()
      a:detach()
      b:down()
      fwsh.port.attach("br1", b)
      fwsh.bridge.get("br1"):set{ stp = true, ageing_time = 60, forward_delay = 4, mcast_snooping = false }
      b:set{ mac = "02:00:00:00:00:12", alias = "renamed" }
      b:set{ name = "net99" }
      boom()
    end)
    assert.are.same(before, H.link_state(ns))
  end))

  it("undoes addresses and routes, added and deleted, IPv4 and IPv6", H.ns(function(ns)
    H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
    H.run({ "ip", "link", "set", "d0", "up" })
    H.run({ "ip", "link", "set", "d1", "up" })
    H.run({ "ip", "addr", "add", "10.0.0.1/24", "dev", "d0" })
    H.run({ "ip", "addr", "add", "fd00::1/64", "dev", "d0", "nodad" })
    H.run({ "ip", "route", "add", "10.9.0.0/24", "via", "10.0.0.254" })
    H.run({ "ip", "route", "add", "10.8.0.0/24", "dev", "d0", "table", "100" })
    assert.truthy(H.dad_done(ns))
    local before_addrs, before_routes = addrs(ns), routes(ns)
    rolled_back(function()
      -- The route through 10.0.0.254 goes first: the address it needs goes next.
      fwsh.route.delete{ dst = "10.9.0.0/24", via = "10.0.0.254" }
      fwsh.route.delete{ dst = "10.8.0.0/24", dev = "d0", table = 100 }
      fwsh.addr.delete("d0", "10.0.0.1/24")
      fwsh.addr.delete("d0", "fd00::1/64")
      fwsh.addr.add("d0", "10.0.1.1/24")
      fwsh.addr.add("d0", "fd01::1/64")
      fwsh.route.add{ dst = "10.7.0.0/24", via = "10.0.1.254" }
      fwsh.route.add{ dst = "fd07::/64", dev = "d0" }
      boom()
    end)
    assert.are.same(before_addrs, addrs(ns))
    -- An IPv6 address comes back tentative: its local route follows once
    -- duplicate address detection is done.
    assert.truthy(H.dad_done(ns))
    assert.are.same(before_routes, routes(ns))
  end))

  it("undoes newest first", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    local ifindex = t.ifindex
    rolled_back(function()
      -- Undone oldest first, the rename back would find its name taken
      -- and the MTU would end at 1400.
      t:set{ mtu = 1400 }
      t:set{ name = "net99" }
      fwsh.tap.add("net11")
      t:set{ mtu = 1300 }
      boom()
    end)
    assert.are.same({ "lo", "net11" }, H.link_names(ns))
    local l = H.link(ns, "net11")
    assert.are.equal(ifindex, l.ifindex)
    assert.are.equal(1500, l.mtu)
  end))

  it("brings back a deleted tap with its settings", H.ns(function(ns)
    fwsh.tap.add("net11", { owner = 4242, group = 4343, multi_queue = true, vnet_hdr = true,
                            mtu = 1400, up = false })
    local before = H.link(ns, "net11")
    rolled_back(function()
      fwsh.link.get("net11"):delete()
      boom()
    end)
    local l = H.link(ns, "net11")
    assert.is_not_nil(l, "the tap is not back")
    assert.are.same(before.linkinfo.info_data, l.linkinfo.info_data)
    assert.are.equal(1400, l.mtu)
    assert.is_false(H.has_flag(l, "UP"))
    assert.are.equal(before.ifalias, l.ifalias)
  end))

  it("brings back a deleted bridge with its settings, non-grounding still", H.ns(function(ns)
    fwsh.bridge.add("br1", { grounding = false, stp = true, forward_delay = 4, ageing_time = 60,
                             mcast_snooping = false })
    local before = H.link(ns, "br1").linkinfo.info_data
    assert.are.equal(0, before.mcast_snooping)
    rolled_back(function()
      fwsh.bridge.get("br1"):delete()
      boom()
    end)
    local l = H.link(ns, "br1")
    assert.is_not_nil(l, "the bridge is not back")
    assert.is_true(H.has_flag(l, "UP"))
    local d = l.linkinfo.info_data
    assert.are.equal(before.stp_state, d.stp_state)
    assert.are.equal(before.forward_delay, d.forward_delay)
    assert.are.equal(before.ageing_time, d.ageing_time)
    assert.are.equal(before.mcast_snooping, d.mcast_snooping)
    assert.are.equal("1", sysctl(ns, "net/ipv6/conf/br1/disable_ipv6"))
    -- With a port that has carrier, it stays without address and route
    -- (STP off, for the port to forward now rather than after 2 x 4 s).
    H.run({ "ip", "link", "set", "br1", "type", "bridge", "stp_state", "0" })
    H.run({ "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1" })
    H.run({ "ip", "link", "set", "v0", "master", "br1" })
    H.run({ "ip", "link", "set", "v0", "up" })
    H.run({ "ip", "link", "set", "v1", "up" })
    H.settle(ns)
    assert.is_true(H.has_flag(H.link(ns, "br1"), "LOWER_UP"))
    assert.are.same({}, H.addrs(ns, "br1"))
    assert.are.same({}, H.routes(ns, "br1"))
  end))

  it("undoes only the inner transaction when its error is caught", H.ns(function(ns)
    fwsh.transaction(function()
      fwsh.bridge.add("br1")
      local ok = pcall(fwsh.transaction, function()
        fwsh.tap.add("net11", { bridge = "br1" })
        fwsh.bridge.get("br1"):set{ mtu = 1400 }
        boom()
      end)
      assert.is_false(ok)
      fwsh.tap.add("net12", { bridge = "br1" })
    end)
    assert.are.same({ "br1", "lo", "net12" }, H.link_names(ns))
    assert.are.same({ "net12" }, H.ports(ns, "br1"))
    assert.are.equal(1500, H.link(ns, "br1").mtu)
  end))

  it("undoes a committed inner transaction when the outer one fails", H.ns(function(ns)
    local before = H.link_names(ns)
    rolled_back(function()
      fwsh.bridge.add("br1")
      fwsh.transaction(function() fwsh.tap.add("net11", { bridge = "br1" }) end)
      assert.is_not_nil(H.link(ns, "net11"))
      boom()
    end)
    assert.are.same(before, H.link_names(ns))
  end))

  it("undoes what fn changed inside fwsh.netns.run, in that namespace", H.ns(function(ns)
    H.with_netns(function(other)
      H.run({ "ip", "-n", other, "link", "set", "lo", "up" })
      local here, there = H.link_state(ns), H.link_state(other)
      rolled_back(function()
        fwsh.netns.run(other, function()
          fwsh.tap.add("t0")
          fwsh.link.get("lo"):set{ mtu = 1400 }
          fwsh.link.get("lo"):down()
        end)
        fwsh.tap.add("t1")
        boom()
      end)
      assert.are.same(here, H.link_state(ns))
      assert.are.same(there, H.link_state(other))
    end)
  end))

  it("deletes a namespace made in it", H.ns(function(ns)
    local n = string.format("fwsh-spec-t%d", math.random(1, 1e9))
    made[#made + 1] = n
    local before = H.netns_names()
    rolled_back(function()
      fwsh.netns.add(n)
      fwsh.veth.add("v0", "v1", { netns = n })
      boom()
    end)
    assert.are.same(before, H.netns_names())
    assert.is_nil(H.link(ns, "v0"))
  end))

  it("goes on past an undo that fails, and still raises fn's error", H.ns(function(ns)
    local e = {}
    local err = rolled_back(function()
      fwsh.tap.add("net11")
      fwsh.tap.add("net12")
      -- Gone behind its back: deleting it again cannot succeed.
      H.run({ "ip", "link", "delete", "net12" })
      fwsh.tap.add("net13")
      error(e)
    end)
    assert.are.equal(e, err)
    assert.truthy(tostring(e.rollback):find("net12", 1, true))
    assert.are.same({ "lo" }, H.link_names(ns))
  end))
  it("keeps, with fwsh.keep, what it made so far, and undoes only what came after", H.ns(function(ns)
    local ok = pcall(fwsh.transaction, function()
      fwsh.bridge.add("kept0")
      assert.are.equal(1, fwsh.keep())
      fwsh.bridge.add("gone0")
      error("boom")
    end)
    assert.is_false(ok)
    assert.is_not_nil(H.link(ns, "kept0"))
    assert.is_nil(H.link(ns, "gone0"))
  end))
end)
