-- tap_spec.lua - fwsh.tap, checked against `ip -j -d link` and `bridge -j link`,
-- and opened by name as qemu opens a tap (spec/tun_hold.c, built here).
local H = require "helper"
local fwsh = H.fwsh

local helper_dir, tun_hold

-- Opens tap name in ns as qemu does and holds it open until the returned
-- value is closed (a `local x <close>`); x.line is what the helper said:
-- "open" or "error: REASON". prefix goes before the helper (setpriv ...).
local function hold(ns, name, flags, prefix)
  local out = helper_dir .. "/out"
  os.remove(out)
  local argv = { "ip", "netns", "exec", ns }
  for _, a in ipairs(prefix or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = tun_hold
  argv[#argv + 1] = name
  for _, f in ipairs(flags or {}) do argv[#argv + 1] = f end
  local words = {}
  for i, a in ipairs(argv) do words[i] = H.quote(a) end
  local p = assert(io.popen("exec env -u LD_PRELOAD " .. table.concat(words, " ") ..
                            " >" .. H.quote(out) .. " 2>&1", "w"))
  local held = setmetatable({ p = p }, { __close = function(self) self.p:close() end })
  held.line = H.wait_for(function()
    local f = io.open(out)
    if not f then return nil end
    local line = f:read("l")
    f:close()
    return line
  end, 5)
  return held
end

-- Without CAP_NET_ADMIN, as in errors_spec.lua.
local NO_NET_ADMIN = { "setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin" }

local function tap_names(ns)
  local names = {}
  for name, l in pairs(H.links(ns)) do
    if l.linkinfo and l.linkinfo.info_data and l.linkinfo.info_data.type == "tap" then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

describe("fwsh.tap", function()
  setup(function()
    helper_dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    tun_hold = helper_dir .. "/tun_hold"
    local out, ok = H.run({ "gcc", "-O", "-Wall", "-o", tun_hold, H.root .. "/spec/tun_hold.c" },
                          { stderr = true })
    assert(ok, "cannot build spec/tun_hold.c: " .. out)
  end)

  teardown(function()
    if helper_dir then H.run({ "rm", "-rf", helper_dir }) end
  end)

  it("adds a persistent tap, up by default, tagged with the lab", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    local l = H.link(ns, "net11")
    assert.are.equal("tun", l.linkinfo.info_kind)
    local d = l.linkinfo.info_data
    assert.are.equal("tap", d.type)
    assert.is_true(d.persist)
    assert.is_false(d.pi)
    assert.is_false(d.multi_queue)
    assert.is_false(d.vnet_hdr)
    assert.is_nil(d.user)
    assert.is_nil(d.group)
    assert.is_true(H.has_flag(l, "UP"))
    assert.are.equal("fwsh:" .. fwsh.lab(), l.ifalias)
    assert.are.equal("tap", t.kind)
    assert.are.equal("net11", t.name)
    assert.are.equal(l.ifindex, t.ifindex)
  end))

  it("sets owner, group, multi_queue and vnet_hdr", H.ns(function(ns)
    local t = fwsh.tap.add("net11", { owner = 4242, group = 4343, multi_queue = true,
                                      vnet_hdr = true })
    local d = H.link(ns, "net11").linkinfo.info_data
    assert.are.equal(4242, d.user)
    assert.are.equal(4343, d.group)
    assert.is_true(d.multi_queue)
    assert.is_true(d.vnet_hdr)
    assert.is_true(d.persist)
    local info = t:info().tap
    assert.are.same({ owner = 4242, group = 4343, multi_queue = true, vnet_hdr = true,
                      persist = true, open = false }, info)
  end))

  it("takes owner and group by name", H.ns(function(ns)
    fwsh.tap.add("net11", { owner = "nobody", group = "nogroup" })
    local d = H.link(ns, "net11").linkinfo.info_data
    -- ip shows the names of ids that have one.
    assert.are.equal("nobody", d.user)
    assert.are.equal("nogroup", d.group)
    local uid = tonumber((H.run({ "id", "-u", "nobody" })))
    assert.are.equal(uid, fwsh.tap.get("net11"):info().tap.owner)
  end))

  it("can be left down, with an MTU of its own", H.ns(function(ns)
    fwsh.tap.add("net11", { up = false, mtu = 1400 })
    local l = H.link(ns, "net11")
    assert.is_false(H.has_flag(l, "UP"))
    assert.are.equal(1400, l.mtu)
  end))

  it("attaches to a bridge given by name or by handle", H.ns(function(ns)
    local br = fwsh.bridge.add("br1")
    fwsh.tap.add("net11", { bridge = "br1" })
    fwsh.tap.add("net12", { bridge = br })
    assert.are.same({ "net11", "net12" }, H.ports(ns, "br1"))
    assert.are.equal("br1", H.link(ns, "net11").master)
  end))

  it("comes up in its bridge without carrier and without IPv6, as a tap of ip tuntap does, in a batch too",
     H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11", { bridge = "br1" })
    fwsh.batch(function()
      fwsh.bridge.add("br2")
      fwsh.tap.add("net21", { bridge = "br2" })
    end)
    for _, name in ipairs({ "net11", "net21" }) do
      -- NO-CARRIER shows once the kernel's linkwatch has run (up to a second)
      local l = H.wait_for(function()
        local x = H.link(ns, name)
        return H.has_flag(x, "NO-CARRIER") and x
      end, 5)
      assert.truthy(l, name .. " has carrier")
      assert.is_true(H.has_flag(l, "UP"))
      assert.is_false(H.has_flag(l, "LOWER_UP"), name)
      assert.are.same({}, H.addrs(ns, name))
      assert.are.same({}, H.routes(ns, name))
    end
  end))

  it("can be opened by name as qemu opens it: carrier while held, still there after",
     H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    assert.is_false(H.has_flag(H.link(ns, "net11"), "LOWER_UP"))
    do
      local held <close> = hold(ns, "net11")
      assert.are.equal("open", held.line)
      local l = H.wait_for(function()
        local x = H.link(ns, "net11")
        return H.has_flag(x, "LOWER_UP") and x.operstate == "UP" and x
      end)
      assert.truthy(l, "no carrier while the tap is held open")
      local info = t:info()
      assert.is_true(info.carrier)
      assert.is_true(info.tap.open)
    end
    assert.truthy(H.wait_for(function()
      return not H.has_flag(H.link(ns, "net11"), "LOWER_UP")
    end), "carrier stayed up after the tap was closed")
    local l = H.link(ns, "net11")
    assert.is_true(l.linkinfo.info_data.persist)
    assert.is_false(t:info().tap.open)
  end))

  it("is opened with the multi_queue it was made with, and no other", H.ns(function(ns)
    fwsh.tap.add("net11", { multi_queue = true, vnet_hdr = true })
    do
      local held <close> = hold(ns, "net11", { "multi_queue", "vnet_hdr" })
      assert.are.equal("open", held.line)
    end
    local held <close> = hold(ns, "net11", { "vnet_hdr" })
    assert.are.equal("error: Invalid argument", held.line)
  end))

  for _, who in ipairs({ { "owner", "user", 4242 }, { "group", "group", 4343 } }) do
    local field, word, other = who[1], who[2], who[3]
    it("lets its " .. field .. " open it without CAP_NET_ADMIN, and no other " .. word,
       H.ns(function(ns)
      fwsh.tap.add("net00", { [field] = 0 })
      fwsh.tap.add("net11", { [field] = other })
      do
        local held <close> = hold(ns, "net00", nil, NO_NET_ADMIN)
        assert.are.equal("open", held.line)
      end
      local held <close> = hold(ns, "net11", nil, NO_NET_ADMIN)
      assert.are.equal("error: Operation not permitted", held.line)
    end))
  end

  it("is removed again when it cannot be set up as asked", H.ns(function(ns)
    local br = fwsh.bridge.add("br1")
    local before = H.link_names(ns)
    -- Made, then refused in the request that brings it up and attaches it.
    local err = H.raises(function() fwsh.tap.add("net11", { bridge = br, mtu = 70000 }) end,
                         "tap.add net11", "Invalid argument", "mtu")
    assert.are.equal("EINVAL", err.code)
    assert.are.same(before, H.link_names(ns))
    assert.are.same({}, H.ports(ns, "br1"))
  end))

  it("ensure creates it once, then accepts it as it is", H.ns(function(ns)
    local t, created = fwsh.tap.ensure("net11", { owner = 4242, multi_queue = true })
    assert.is_true(created)
    local before = H.link_state(ns)
    local t2, again = fwsh.tap.ensure("net11", { owner = 4242, multi_queue = true })
    assert.is_false(again)
    assert.are.equal(t.ifindex, t2.ifindex)
    assert.are.same(before, H.link_state(ns))
  end))

  it("ensure attaches an existing tap and brings it up", H.ns(function(ns)
    fwsh.bridge.add("br1")
    H.run({ "ip", "tuntap", "add", "net11", "mode", "tap" })
    local ifindex = H.link(ns, "net11").ifindex
    local _, created = fwsh.tap.ensure("net11", { bridge = "br1" })
    assert.is_false(created)
    local l = H.link(ns, "net11")
    assert.are.equal(ifindex, l.ifindex)
    assert.are.equal("br1", l.master)
    assert.is_true(H.has_flag(l, "UP"))
  end))

  it("ensure refuses a tap whose settings differ, and changes nothing", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.bridge.add("br2")
    fwsh.tap.add("net11", { owner = 4242, bridge = "br1" })
    local before = H.link_state(ns)
    H.raises(function() fwsh.tap.ensure("net11", { owner = 4243, bridge = "br1" }) end,
             "tap.ensure net11", "File exists", "owner 4242, not 4243")
    H.raises(function() fwsh.tap.ensure("net11", { owner = 4242, multi_queue = true }) end,
             "tap.ensure net11", "File exists", "multi_queue off")
    H.raises(function() fwsh.tap.ensure("net11", { owner = 4242, mtu = 1400 }) end,
             "tap.ensure net11", "File exists", "mtu 1500, not 1400")
    H.raises(function() fwsh.tap.ensure("net11", { owner = 4242, bridge = "br2" }) end,
             "tap.ensure net11", "File exists", "port of another bridge")
    assert.are.same(before, H.link_state(ns))
  end))

  it("ensure refuses a link of another kind", H.ns(function(ns)
    fwsh.bridge.add("net11")
    H.run({ "ip", "tuntap", "add", "tun0", "mode", "tun" })
    local before = H.link_state(ns)
    H.raises(function() fwsh.tap.ensure("net11") end,
             "tap.ensure net11", "File exists", "exists as a bridge, not a tap")
    H.raises(function() fwsh.tap.ensure("tun0") end,
             "tap.ensure tun0", "File exists", "exists as a tun, not a tap")
    assert.are.same(before, H.link_state(ns))
  end))

  it("gets and lists taps, and only taps", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11")
    fwsh.tap.add("net12", { bridge = "br1" })
    H.run({ "ip", "tuntap", "add", "net13", "mode", "tap" })
    H.run({ "ip", "tuntap", "add", "tun0", "mode", "tun" })
    local names = {}
    for _, t in ipairs(fwsh.tap.list()) do
      assert.are.equal("tap", t.kind)
      names[#names + 1] = t.name
    end
    table.sort(names)
    assert.are.same(tap_names(ns), names)
    assert.are.same({ "net11", "net12", "net13" }, names)
    assert.are.equal(H.link(ns, "net13").ifindex, fwsh.tap.get("net13").ifindex)
    H.raises(function() fwsh.tap.get("br1") end, "tap.get br1", "a bridge, not a tap")
    H.raises(function() fwsh.tap.get("tun0") end, "tap.get tun0", "a tun, not a tap")
  end))

  it("deletes it", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    assert.is_true(t:delete())
    assert.is_nil(H.link(ns, "net11"))
  end))
end)
