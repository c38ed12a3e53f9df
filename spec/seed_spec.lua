-- seed_spec.lua - the seed lab as a user runs it: `fwsh scripts/seed.lua`, run in a
-- fresh namespace by `ip netns exec`, makes exactly the seed topology as
-- `ip -j -d link` and `bridge -j link` read it; again, it changes nothing;
-- `down` removes only what it made.
local H = require "helper"

local SEED = H.root .. "/scripts/seed.lua"

local TOPOLOGY = {
  br0 = { "net01", "net02" },
  br1 = { "net11", "net12", "net13" },
  br2 = { "net21", "net22" },
}

local function seed(ns, ...)
  local out, ok, code = H.fwsh_in(ns, { SEED, ... }, { stderr = true })
  return out, ok, code
end

local function seed_ok(ns, ...)
  local out, ok = seed(ns, ...)
  assert(ok, "fwsh scripts/seed.lua failed: " .. out)
  return out
end

local function v4(list)
  local out = {}
  for _, a in ipairs(list) do
    if a:find(".", 1, true) then out[#out + 1] = a end
  end
  return out
end

local function sysctl(ns, path)
  return (H.run({ "ip", "netns", "exec", ns, "cat", "/proc/sys/" .. path }):gsub("%s+$", ""))
end

-- Everything the seed could change: links, addresses (without their
-- lifetimes, which count down), routes of every table, IPv6 on the bridges.
local function everything(ns)
  local addrs = {}
  for _, l in ipairs(H.ip(ns, "addr", "show")) do
    for _, a in ipairs(l.addr_info or {}) do
      addrs[#addrs + 1] = string.format("%s %s/%d %s%s", l.ifname, a["local"], a.prefixlen,
                                        a.scope, a.tentative and " tentative" or "")
    end
  end
  table.sort(addrs)
  local ipv6 = {}
  for br in pairs(TOPOLOGY) do
    ipv6[br] = H.link(ns, br) and sysctl(ns, "net/ipv6/conf/" .. br .. "/disable_ipv6")
  end
  return {
    links = H.link_state(ns),
    addrs = addrs,
    routes4 = H.ip(ns, "-4", "route", "show", "table", "all"),
    routes6 = H.ip(ns, "-6", "route", "show", "table", "all"),
    ipv6 = ipv6,
    ports = H.bridge(ns, "link", "show"),
  }
end

describe("scripts/seed.lua", function()
  it("makes exactly the seed topology in a fresh namespace", H.ns(function(ns)
    seed_ok(ns)
    local links = H.links(ns)
    local names = {}
    for name in pairs(links) do names[#names + 1] = name end
    table.sort(names)
    assert.are.same({ "br0", "br1", "br2", "lo", "net01", "net02", "net11", "net12", "net13",
                      "net21", "net22" }, names)
    for br, taps in pairs(TOPOLOGY) do
      local b = links[br]
      assert.are.equal("bridge", b.linkinfo.info_kind, br)
      assert.is_true(H.has_flag(b, "UP"), br)
      assert.are.equal("fwsh:seed", b.ifalias, br)
      assert.is_nil(b.master, br)
      assert.are.same(taps, H.ports(ns, br))
      for _, tap in ipairs(taps) do
        local t = links[tap]
        assert.are.equal("tun", t.linkinfo.info_kind, tap)
        assert.are.equal("tap", t.linkinfo.info_data.type, tap)
        assert.is_true(t.linkinfo.info_data.persist, tap)
        assert.is_true(H.has_flag(t, "UP"), tap)
        assert.are.equal(br, t.master, tap)
        assert.are.equal("fwsh:seed", t.ifalias, tap)
      end
    end
  end))

  it("gives br0 its address, and br1 and br2 none of any family and no route", H.ns(function(ns)
    seed_ok(ns)
    H.settle(ns)
    assert.are.same({ "10.0.0.1/24" }, v4(H.addrs(ns, "br0")))
    local main = {}
    for _, r in ipairs(H.ip(ns, "-4", "route", "show", "table", "main")) do
      main[#main + 1] = r.dst .. " " .. r.dev
    end
    assert.are.same({ "10.0.0.0/24 br0" }, main)
    for _, br in ipairs({ "br1", "br2" }) do
      assert.are.same({}, H.addrs(ns, br), br)
      assert.are.same({}, H.routes(ns, br), br)
      assert.are.equal("1", sysctl(ns, "net/ipv6/conf/" .. br .. "/disable_ipv6"), br)
    end
  end))

  it("keeps br1 and br2 without address and route when their ports have carrier",
     H.ns(function(ns)
    seed_ok(ns)
    -- A veth with carrier on each: what a running VM's tap would be.
    for _, br in ipairs({ "br1", "br2" }) do
      H.run({ "ip", "link", "add", "c" .. br, "type", "veth", "peer", "name", "p" .. br })
      H.run({ "ip", "link", "set", "c" .. br, "master", br, "up" })
      H.run({ "ip", "link", "set", "p" .. br, "up" })
    end
    H.settle(ns)
    for _, br in ipairs({ "br1", "br2" }) do
      assert.is_true(H.has_flag(H.link(ns, br), "LOWER_UP"), br)
      assert.are.same({}, H.addrs(ns, br), br)
      assert.are.same({}, H.routes(ns, br), br)
    end
  end))

  it("takes br0's address as an argument", H.ns(function(ns)
    seed_ok(ns, "up", "192.168.7.1/24")
    assert.are.same({ "192.168.7.1/24" }, v4(H.addrs(ns, "br0")))
    assert.are.same({}, H.addrs(ns, "br1"))
  end))

  it("changes nothing when run again", H.ns(function(ns)
    seed_ok(ns)
    -- Once br0's link-local address is past duplicate address detection: one
    -- made anew would be tentative again.
    assert.truthy(H.dad_done(ns))
    local before = everything(ns)
    seed_ok(ns)
    assert.are.same(before, everything(ns))
    seed_ok(ns, "up")
    assert.are.same(before, everything(ns))
  end))

  it("down removes what it made, and only that", H.ns(function(ns)
    -- Made by ip first: a link of its own, and one with a seed tap's name.
    H.run({ "ip", "tuntap", "add", "extra0", "mode", "tap" })
    H.run({ "ip", "tuntap", "add", "net13", "mode", "tap" })
    local net13 = H.link(ns, "net13").ifindex
    seed_ok(ns)
    -- The seed took the existing tap as its own net13 ...
    assert.are.same({ "net11", "net12", "net13" }, H.ports(ns, "br1"))
    assert.are.equal(net13, H.link(ns, "net13").ifindex)
    seed_ok(ns, "down")
    -- ... but down leaves it, as it leaves every link it did not make.
    assert.are.same({ "extra0", "lo", "net13" }, H.link_names(ns))
    assert.are.equal(net13, H.link(ns, "net13").ifindex)
    assert.is_nil(H.link(ns, "net13").ifalias)
  end))

  it("down in a namespace without the seed changes nothing", H.ns(function(ns)
    H.run({ "ip", "link", "add", "br1", "type", "bridge" })
    local before = everything(ns)
    seed_ok(ns, "down")
    assert.are.same(before, everything(ns))
  end))

  it("makes nothing when a seed name is taken by a link of another kind", H.ns(function(ns)
    H.run({ "ip", "link", "add", "net21", "type", "veth", "peer", "name", "x21" })
    local before = H.link_names(ns)
    local out, ok, code = seed(ns)
    assert.falsy(ok)
    assert.are.equal(1, code)
    assert.truthy(out:find("net21", 1, true), out)
    assert.truthy(out:find("File exists", 1, true), out)
    assert.are.same(before, H.link_names(ns))
  end))

  it("says how to use it when given a command it does not know", H.ns(function(ns)
    local before = H.link_names(ns)
    local out, ok, code = seed(ns, "sideways")
    assert.falsy(ok)
    assert.are.equal(1, code)
    assert.truthy(out:find("fwsh: usage: seed.lua", 1, true), out)
    assert.are.same(before, H.link_names(ns))
  end))
end)
