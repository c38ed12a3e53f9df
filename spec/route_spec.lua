-- route_spec.lua - fwsh.route, main table unless told, checked against
-- `ip -j route show`.
local H = require "helper"
local fwsh = H.fwsh

-- A veth pair made by ip, both ends up, d0 with 10.0.0.1/24 and fd00::1/64.
local function dev(ns)
  H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
  H.run({ "ip", "link", "set", "d0", "up" })
  H.run({ "ip", "link", "set", "d1", "up" })
  H.run({ "ip", "addr", "add", "10.0.0.1/24", "dev", "d0" })
  H.run({ "ip", "addr", "add", "fd00::1/64", "dev", "d0", "nodad" })
  assert.is_not_nil(H.link(ns, "d0"))
end

-- ip's unicast routes of family ("-4", "-6") in table, as "dst via dev metric".
local function ip_routes(ns, family, table_)
  local out = {}
  for _, r in ipairs(H.ip(ns, family, "route", "show", "table", tostring(table_ or "main"))) do
    if not r.type or r.type == "unicast" then
      out[#out + 1] = string.format("%s %s %s %d", r.dst, r.gateway or "-", r.dev or "-",
                                    r.metric or 0)
    end
  end
  table.sort(out)
  return out
end

local function fwsh_routes(list, family)
  local out = {}
  for _, r in ipairs(list) do
    if r.family == family then
      out[#out + 1] = string.format("%s %s %s %d", r.dst, r.via or "-", r.dev or "-", r.metric)
    end
  end
  table.sort(out)
  return out
end

-- The route to dst in table (default main) as ip shows it, or nil; family
-- "-6" for IPv6 (a dst with a ':' is IPv6 anyway).
local function route(ns, dst, table_, family)
  family = family or (dst:find(":", 1, true) and "-6" or "-4")
  for _, r in ipairs(H.ip(ns, family, "route", "show", "table", tostring(table_ or "main"))) do
    if r.dst == dst then return r end
  end
end

describe("fwsh.route", function()
  it("adds a route through a device to the main table", H.ns(function(ns)
    dev(ns)
    assert.is_true(fwsh.route.add{ dst = "10.1.0.0/24", dev = "d0" })
    local r = route(ns, "10.1.0.0/24")
    assert.are.equal("d0", r.dev)
    assert.are.equal("link", r.scope)
    assert.is_nil(r.gateway)
  end))

  it("adds a route through a gateway, with a metric", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "10.2.0.0/16", via = "10.0.0.254", metric = 50 }
    local r = route(ns, "10.2.0.0/16")
    assert.are.equal("10.0.0.254", r.gateway)
    assert.are.equal("d0", r.dev)
    assert.are.equal(50, r.metric)
  end))

  it("adds a default route, IPv4 and IPv6", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "default", via = "10.0.0.254" }
    fwsh.route.add{ dst = "default", via = "fd00::fe", dev = "d0" }
    assert.are.equal("10.0.0.254", route(ns, "default").gateway)
    assert.are.equal("fd00::fe", route(ns, "default", "main", "-6").gateway)
  end))

  it("adds an IPv6 route", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "fd01::/64", via = "fd00::fe" }
    local r = route(ns, "fd01::/64")
    assert.are.equal("fd00::fe", r.gateway)
    assert.are.equal("d0", r.dev)
  end))

  it("adds to another table by number", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "10.3.0.0/24", dev = "d0", table = 100 }
    fwsh.route.add{ dst = "10.4.0.0/24", dev = "d0", table = 1000 }
    assert.is_nil(route(ns, "10.3.0.0/24"))
    assert.are.equal("d0", route(ns, "10.3.0.0/24", 100).dev)
    assert.are.equal("d0", route(ns, "10.4.0.0/24", 1000).dev)
  end))

  it("lists the main table as ip does", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "10.1.0.0/24", dev = "d0" }
    fwsh.route.add{ dst = "10.2.0.0/16", via = "10.0.0.254", metric = 50 }
    fwsh.route.add{ dst = "fd01::/64", via = "fd00::fe" }
    fwsh.route.add{ dst = "10.3.0.0/24", dev = "d0", table = 100 }
    local main = fwsh.route.list{ table = "main" }
    for _, r in ipairs(main) do assert.are.equal(254, r.table) end
    assert.are.same(ip_routes(ns, "-4"), fwsh_routes(main, "inet"))
    assert.are.same(ip_routes(ns, "-6"), fwsh_routes(main, "inet6"))
    assert.are.same(ip_routes(ns, "-4", 100), fwsh_routes(fwsh.route.list{ table = 100 }, "inet"))
  end))

  it("lists every table unless told, and a device's routes", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "10.3.0.0/24", dev = "d0", table = 100 }
    local tables = {}
    for _, r in ipairs(fwsh.route.list()) do tables[r.table] = true end
    assert.is_true(tables[100])
    assert.is_true(tables[254])
    local d1 = fwsh.route.list{ dev = "d1" }
    assert.is_true(#d1 > 0)
    for _, r in ipairs(d1) do assert.are.equal("d1", r.dev) end
  end))

  it("deletes a route, and only that one", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "10.1.0.0/24", dev = "d0" }
    fwsh.route.add{ dst = "10.2.0.0/24", via = "10.0.0.254" }
    fwsh.route.add{ dst = "10.3.0.0/24", dev = "d0", table = 100 }
    assert.is_true(fwsh.route.delete{ dst = "10.1.0.0/24", dev = "d0" })
    assert.is_true(fwsh.route.delete{ dst = "10.3.0.0/24", dev = "d0", table = 100 })
    assert.is_nil(route(ns, "10.1.0.0/24"))
    assert.is_nil(route(ns, "10.3.0.0/24", 100))
    assert.is_not_nil(route(ns, "10.2.0.0/24"))
  end))

  it("refuses a route that exists; ensure accepts it", H.ns(function(ns)
    dev(ns)
    fwsh.route.add{ dst = "10.1.0.0/24", via = "10.0.0.254" }
    local before = ip_routes(ns, "-4")
    local err = H.raises(function() fwsh.route.add{ dst = "10.1.0.0/24", via = "10.0.0.254" } end,
                         "route.add 10.1.0.0/24", "File exists")
    assert.are.equal("EEXIST", err.code)
    assert.is_false(fwsh.route.ensure{ dst = "10.1.0.0/24", via = "10.0.0.254" })
    assert.are.same(before, ip_routes(ns, "-4"))
    assert.is_true(fwsh.route.ensure{ dst = "10.5.0.0/24", via = "10.0.0.254" })
    assert.is_not_nil(route(ns, "10.5.0.0/24"))
  end))

  it("says when there is no such route to delete", H.ns(function(ns)
    dev(ns)
    local before = ip_routes(ns, "-4")
    local err = H.raises(function() fwsh.route.delete{ dst = "10.7.0.0/24", dev = "d0" } end,
                         "route.delete 10.7.0.0/24", "no such route")
    assert.are.equal("ESRCH", err.code)
    assert.are.same(before, ip_routes(ns, "-4"))
  end))

  it("refuses a gateway it cannot reach, with the kernel's reason", H.ns(function(ns)
    dev(ns)
    local before = ip_routes(ns, "-4")
    H.raises(function() fwsh.route.add{ dst = "10.1.0.0/24", via = "192.0.2.1" } end,
             "route.add 10.1.0.0/24", "Network is unreachable", "gateway")
    assert.are.same(before, ip_routes(ns, "-4"))
  end))

  it("refuses a gateway of the other family, a bad prefix, an unknown device", H.ns(function(ns)
    dev(ns)
    local before4, before6 = ip_routes(ns, "-4"), ip_routes(ns, "-6")
    H.raises(function() fwsh.route.add{ dst = "10.1.0.0/24", via = "fd00::fe" } end,
             "route.add 10.1.0.0/24", "Invalid argument",
             "gateway fd00::fe is not of the family of 10.1.0.0/24")
    H.raises(function() fwsh.route.add{ dst = "10.1.0.0/40", dev = "d0" } end,
             "route.add 10.1.0.0/40", "Invalid argument")
    H.raises(function() fwsh.route.add{ dst = "nowhere", dev = "d0" } end,
             "route.add nowhere", "Invalid argument", "'nowhere' is not an IP address")
    H.raises(function() fwsh.route.add{ dst = "10.1.0.0/24", dev = "nope0" } end,
             "route.add 10.1.0.0/24", "No such device", "dev nope0: no such link")
    assert.are.same(before4, ip_routes(ns, "-4"))
    assert.are.same(before6, ip_routes(ns, "-6"))
  end))
end)
