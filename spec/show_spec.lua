-- show_spec.lua - fwsh.show, fwsh.state and `fwsh show [--json]`, checked
-- against what iproute2 (`ip -j`, `bridge -j`), brctl and jq say of a
-- topology that iproute2 built.
local H = require "helper"
local json = require "dkjson"
local fwsh = H.fwsh

-- br1 with a tap (owned by nobody), an up veth and an address; br2 with STP
-- and no port; a plain veth end outside any bridge; a route through br1.
local function build(ns)
  local function ip(...)
    local _, ok = H.run({ "ip", "-n", ns, ... })
    assert(ok, "ip -n " .. ns .. " " .. table.concat({ ... }, " "))
  end
  ip("link", "add", "br1", "type", "bridge")
  ip("link", "add", "br2", "type", "bridge", "stp_state", "1")
  ip("tuntap", "add", "net11", "mode", "tap", "user", "65534")
  ip("link", "set", "net11", "master", "br1", "up")
  ip("link", "add", "v1", "type", "veth", "peer", "name", "v2")
  ip("link", "set", "v1", "master", "br1", "up")
  ip("link", "set", "v2", "up")
  ip("link", "set", "br1", "up")
  ip("addr", "add", "10.7.0.1/24", "dev", "br1")
  ip("route", "add", "10.8.0.0/24", "via", "10.7.0.254")
end

local function show_json(ns)
  local out, ok = H.fwsh_cmd({ "--netns", ns, "show", "--json" })
  assert(ok, "fwsh show --json failed")
  return out
end

-- Every port of the JSON's bridges, by name.
local function json_ports(state)
  local ports = {}
  for _, br in ipairs(state.bridges) do
    for _, p in ipairs(br.ports) do
      assert.is_nil(ports[p.name], "port listed twice: " .. p.name)
      p.bridge = br.name
      ports[p.name] = p
    end
  end
  return ports
end

local function has_flag(l, flag)
  for _, f in ipairs(l.flags or {}) do if f == flag then return true end end
  return false
end

local function uid_of(user)
  if tonumber(user) then return tonumber(user) end
  local out, ok = H.run({ "id", "-u", user })
  assert(ok, "id -u " .. user)
  return tonumber(out)
end

describe("fwsh show", function()
  it("prints JSON that jq accepts", H.ns(function(ns)
    build(ns)
    local out = show_json(ns)
    local _, ok = H.run({ "jq", "-e", ".bridges | length == 2" }, { stdin = out })
    assert.is_true(ok, "jq rejected: " .. out)
  end))

  it("matches bridge -j link and ip -j -d link for every port", H.ns(function(ns)
    build(ns)
    local state = assert(json.decode(show_json(ns)))
    local ports = json_ports(state)
    local links = H.links(ns)
    local seen = 0
    for _, bp in ipairs(H.bridge(ns, "link", "show")) do
      local p, l = ports[bp.ifname], links[bp.ifname]
      assert.is_not_nil(p, "port missing from fwsh show --json: " .. bp.ifname)
      seen = seen + 1
      assert.are.equal(bp.master, p.bridge)
      assert.are.equal(bp.master, p.master)
      assert.are.equal(bp.state, p.port_state)
      assert.are.equal(bp.ifindex, p.ifindex)
      assert.are.equal(l.mtu, p.mtu)
      assert.are.equal(l.address, p.mac)
      assert.are.equal(l.operstate:lower(), p.operstate)
      assert.are.equal(has_flag(l, "UP"), p.up)
      if p.up then assert.are.equal(has_flag(l, "LOWER_UP"), p.carrier) end
      local info = l.linkinfo
      if info.info_kind == "tun" then
        assert.are.equal(info.info_data.type, p.kind)
        assert.are.equal(uid_of(info.info_data.user), p.tap.owner)
        assert.are.equal(info.info_data.persist, p.tap.persist)
        -- No process holds it open: no queue attached, no carrier.
        assert.is_false(p.tap.open)
        assert.is_false(p.carrier)
      else
        assert.are.equal(info.info_kind, p.kind)
      end
      assert.are.same(H.addrs(ns, bp.ifname), (function()
        local a = {}
        for i, v in ipairs(p.addresses) do a[i] = v end
        table.sort(a)
        return a
      end)())
    end
    assert.are.equal(2, seen)
    local n = 0
    for _ in pairs(ports) do n = n + 1 end
    assert.are.equal(seen, n)
  end))

  it("matches ip -j -d link for the bridges, and lists the other links", H.ns(function(ns)
    build(ns)
    local state = assert(json.decode(show_json(ns)))
    local links = H.links(ns)
    local names = {}
    for _, br in ipairs(state.bridges) do
      local l = links[br.name]
      names[#names + 1] = br.name
      assert.are.equal("bridge", l.linkinfo.info_kind)
      assert.are.equal(l.linkinfo.info_data.stp_state == 1, br.bridge.stp)
      -- iproute2 writes the id's bytes without leading zeros: 8000.e:bb:...
      local prio, mac = l.linkinfo.info_data.bridge_id:match("^(%x+)%.(.*)$")
      local bytes = {}
      for b in mac:gmatch("%x+") do bytes[#bytes + 1] = string.format("%02x", tonumber(b, 16)) end
      assert.are.equal(prio .. "." .. table.concat(bytes), br.bridge.id)
      assert.are.equal(l.address, br.mac)
    end
    assert.are.same({ "br1", "br2" }, names)
    assert.are.same({ "10.7.0.1/24" }, (function()
      local v4 = {}
      for _, a in ipairs(state.bridges[1].addresses) do
        if a:find("%.") then v4[#v4 + 1] = a end
      end
      return v4
    end)())
    local others = {}
    for _, l in ipairs(state.links) do others[l.name] = l end
    assert.is_not_nil(others.lo)
    assert.are.equal("veth", others.v2.kind)
    assert.are.equal("v1", others.v2.peer)
    assert.is_nil(others.br1)
    assert.is_nil(others.net11)
  end))

  it("lists the routes ip -j route shows and the named namespaces", H.ns(function(ns)
    build(ns)
    local state = assert(json.decode(show_json(ns)))
    local routes = {}
    for _, r in ipairs(state.routes) do routes[r.dst .. " " .. (r.via or "")] = r end
    for _, r in ipairs(H.ip(ns, "-4", "route", "show")) do
      local mine = routes[r.dst .. " " .. (r.gateway or "")]
      assert.is_not_nil(mine, "route missing: " .. r.dst)
      assert.are.equal(r.dev, mine.dev)
      assert.are.equal(254, mine.table)
    end
    local found = false
    for _, name in ipairs(state.namespaces) do found = found or name == ns end
    assert.is_true(found)
  end))

  it("prints what brctl show prints", H.ns(function(ns)
    build(ns)
    local mine, ok = H.fwsh_cmd({ "--netns", ns, "show" })
    assert.is_true(ok)
    local theirs = H.run({ "ip", "netns", "exec", ns, "brctl", "show" })
    assert.are.equal(theirs, mine)
  end))

  it("fwsh.state() is the JSON's data, from the same walk", H.ns(function(ns)
    build(ns)
    local state = fwsh.state()
    local decoded = assert(json.decode(fwsh.show{ json = true, print = false }))
    assert.are.same(decoded, state)
    assert.are.equal("tap", state.bridges[1].ports[1].kind)
    assert.are.equal(65534, state.bridges[1].ports[1].tap.owner)
  end))

  -- One shape of link data: a link's entry in `show --json` is what its
  -- link:info() returns, plus, for a bridge, its ports.
  local function entries(doc)
    local by = {}
    for _, br in ipairs(doc.bridges) do
      for _, p in ipairs(br.ports) do by[p.name] = p end
      br.ports = nil
      by[br.name] = br
    end
    for _, l in ipairs(doc.links) do by[l.name] = l end
    return by
  end

  local function same_as_show(where, names)
    H.settle(where)
    local shown = entries(assert(json.decode(show_json(where))))
    for _, name in ipairs(names) do
      local info = assert(json.decode(json.encode(fwsh.link.get(name):info())))
      assert.are.same(shown[name], info, name)
    end
  end

  it("link:info() is the link's entry in show --json, for every kind", H.ns(function(ns)
    H.with_netns(function(other)
      fwsh.bridge.add("br0", { address = "10.7.0.1/24" })
      fwsh.bridge.add("br1", { grounding = false, stp = true })
      fwsh.tap.add("net11", { owner = 65534, bridge = "br1" })
      fwsh.tap.add("net12")
      fwsh.veth.add("v0", "v1")
      fwsh.bridge.get("br0"):attach("v0")
      fwsh.veth.add("x0", "x1", { netns = other })
      fwsh.vxlan.add("vx0", { id = 42, ["local"] = "10.7.0.1", remote = "10.7.0.2" })
      -- generic links (the sandbox's kernel has no dummy): one with a lower
      -- link, which is not a peer, and one without
      local _, ok = H.run({ "ip", "-n", ns, "link", "add", "m0", "link", "br0", "type", "macvlan" })
      assert(ok, "ip link add m0 link br0 type macvlan")
      _, ok = H.run({ "ip", "-n", ns, "link", "add", "i0", "type", "ifb" })
      assert(ok, "ip link add i0 type ifb")
      same_as_show(ns, { "br0", "br1", "net11", "net12", "v0", "v1", "x0", "vx0", "m0", "i0", "lo" })
      assert.is_nil(fwsh.link.get("m0"):info().peer)
      local x0 = fwsh.link.get("x0"):info()
      assert.is_nil(x0.peer)
      assert.is_number(x0.peer_netnsid)
      fwsh.netns.run(other, function()
        same_as_show(other, { "x1", "lo" })
      end)
    end)
  end))

  it("refuses unknown options", function()
    H.raises(function() fwsh.show{ jsn = true } end, "jsn")
    local out, ok = H.fwsh_cmd({ "show", "--bogus" }, { stderr = true })
    assert.is_falsy(ok)
    assert.truthy(out:find("unknown argument '--bogus'", 1, true))
  end)

  it("runs a script called show rather than the command", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. H.quote(dir)))
    local f = assert(io.open(dir .. "/show", "w"))
    f:write('print("the script called show")\n')
    f:close()
    local out, ok = H.run({ "env", "-C", dir, H.build .. "/fwsh", "show" }, { keep_preload = true })
    os.remove(dir .. "/show")
    os.remove(dir)
    assert.is_true(ok)
    assert.are.equal("the script called show\n", out)
  end)
end)
