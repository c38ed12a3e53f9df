-- link_spec.lua - fwsh.link and the methods of every link handle, checked
-- against `ip -j -d link` and `bridge -j link`.
local H = require "helper"
local fwsh = H.fwsh

-- ip -j shows operstate in capitals.
local function operstate(l)
  return l.operstate:lower()
end

describe("fwsh.link", function()
  it("gets a link with the fields ip shows", H.ns(function(ns)
    fwsh.bridge.add("br1", { mac = "02:00:00:00:01:01" })
    fwsh.tap.add("net11", { bridge = "br1", mtu = 1400 })
    H.settle(ns)
    for _, name in ipairs({ "lo", "br1", "net11" }) do
      local l = H.link(ns, name)
      local h = fwsh.link.get(name)
      local info = h:info()
      assert.are.equal(name, h.name)
      assert.are.equal(l.ifindex, h.ifindex)
      assert.are.equal(name, info.name)
      assert.are.equal(l.ifindex, info.ifindex)
      assert.are.equal(l.mtu, info.mtu)
      assert.are.equal(l.address, info.mac)
      assert.are.equal(H.has_flag(l, "UP"), info.up)
      assert.are.equal(H.has_flag(l, "LOWER_UP"), info.carrier)
      assert.are.equal(operstate(l), info.operstate)
      assert.are.equal(l.master, info.master)
      assert.are.equal(l.ifalias, info.alias)
    end
    assert.are.equal("link", fwsh.link.get("lo"):info().kind)
    assert.are.equal("link", fwsh.link.get("lo").kind)
    assert.are.equal("bridge", fwsh.link.get("br1"):info().kind)
    assert.are.equal("tap", fwsh.link.get("net11"):info().kind)
    assert.are.equal(fwsh.lab(), fwsh.link.get("net11"):info().lab)
    assert.is_nil(fwsh.link.get("lo"):info().lab)
  end))

  it("gets the handle of the kind of the link", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11")
    fwsh.veth.add("v0", "v1")
    assert.are.equal("bridge", fwsh.link.get("br1").kind)
    assert.are.equal("tap", fwsh.link.get("net11").kind)
    assert.are.equal("veth", fwsh.link.get("v1").kind)
    -- A bridge got as a link has the bridge's methods too.
    assert.are.equal(0, #fwsh.link.get("br1"):ports())
  end))

  it("says whether a link exists", H.ns(function(ns)
    fwsh.tap.add("net11")
    assert.is_true(fwsh.link.exists("net11"))
    assert.is_true(fwsh.link.exists("lo"))
    assert.is_false(fwsh.link.exists("net12"))
    assert.is_false(fwsh.link.exists(""))
    assert.is_false(fwsh.link.exists("0123456789abcdef"))
  end))

  it("lists every link in ifindex order, or those of one kind", H.ns(function(ns)
    fwsh.bridge.add("br1")
    fwsh.tap.add("net11")
    fwsh.veth.add("v0", "v1")
    local want, got = {}, {}
    for _, l in ipairs(H.ip(ns, "link", "show")) do want[#want + 1] = { l.ifindex, l.ifname } end
    for _, h in ipairs(fwsh.link.list()) do got[#got + 1] = { h.ifindex, h.name } end
    assert.are.same(want, got)
    local veths = {}
    for _, h in ipairs(fwsh.link.list("veth")) do veths[#veths + 1] = h.name end
    table.sort(veths)
    assert.are.same({ "v0", "v1" }, veths)
  end))

  it("lists every link once while others come and go (a dump the kernel marks interrupted is read again)",
     H.ns(function(ns)
    -- 300 links that stay, then ip adding and removing others as fast as it can
    local stay, churn = {}, {}
    for i = 1, 300 do stay[#stay + 1] = string.format("link add s%03d type bridge", i) end
    for _ = 1, 10 do
      for i = 1, 5 do churn[#churn + 1] = string.format("link add c%02d type bridge", i) end
      for i = 1, 5 do churn[#churn + 1] = string.format("link del c%02d", i) end
    end
    local dir = os.tmpname()
    H.write_file(dir, table.concat(stay, "\n") .. "\n")
    local _, ok = H.run({ "ip", "-n", ns, "-batch", dir })
    assert(ok, "ip -batch of the links that stay")
    H.write_file(dir, table.concat(churn, "\n") .. "\n")
    -- (env -u LD_PRELOAD: under the sanitizer pass only fwsh itself is checked, not ip)
    local p <close> = fwsh.proc.spawn({ "env", "-u", "LD_PRELOAD", "ip", "-n", ns, "-batch", dir })
    local lists = 0
    while p:running() do
      local seen = {}
      for _, h in ipairs(fwsh.link.list()) do
        local ok, name = pcall(function() return h.name end) -- a c.. may be gone already
        if ok and name:match("^s%d%d%d$") then
          assert.is_nil(seen[name], name .. " listed twice")
          seen[name] = true
        end
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.are.equal(300, n)
      lists = lists + 1
    end
    os.remove(dir)
    assert.is_true(lists > 0)
    assert.is_true(p:wait(30).ok)
  end))

  it("brings a link up and down", H.ns(function(ns)
    local t = fwsh.tap.add("net11", { up = false })
    assert.are.equal(t, t:up())
    assert.is_true(H.has_flag(H.link(ns, "net11"), "UP"))
    assert.are.equal(t, t:down())
    assert.is_false(H.has_flag(H.link(ns, "net11"), "UP"))
    -- The same functions take a name.
    fwsh.link.up("net11")
    assert.is_true(H.has_flag(H.link(ns, "net11"), "UP"))
    fwsh.link.down("net11")
    assert.is_false(H.has_flag(H.link(ns, "net11"), "UP"))
  end))

  it("sets MTU, MAC and alias, several in one call", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    assert.are.equal(t, t:set{ mtu = 1400 })
    assert.are.equal(1400, H.link(ns, "net11").mtu)
    t:set{ mac = "02:00:00:00:00:11", mtu = 9000, up = false, alias = "uplink" }
    local l = H.link(ns, "net11")
    assert.are.equal("02:00:00:00:00:11", l.address)
    assert.are.equal(9000, l.mtu)
    assert.is_false(H.has_flag(l, "UP"))
    assert.are.equal("uplink", l.ifalias)
    t:set{ mac = "02-00-00-00-00-12" }
    assert.are.equal("02:00:00:00:00:12", H.link(ns, "net11").address)
  end))

  it("refuses an MTU the link cannot have, and keeps the old one", H.ns(function(ns)
    local t = fwsh.tap.add("net11", { mtu = 1400 })
    H.raises(function() t:set{ mtu = 70000 } end, "link.set net11", "Invalid argument", "mtu")
    H.raises(function() t:set{ mtu = 20 } end, "link.set net11", "Invalid argument", "mtu")
    assert.are.equal(1400, H.link(ns, "net11").mtu)
  end))

  it("renames a link, and the handle follows it", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    local ifindex = t.ifindex
    t:down()
    t:set{ name = "net99" }
    assert.is_nil(H.link(ns, "net11"))
    local l = H.link(ns, "net99")
    assert.are.equal(ifindex, l.ifindex)
    assert.are.equal("net99", t.name)
    t:up()
    assert.is_true(H.has_flag(H.link(ns, "net99"), "UP"))
    -- Renamed behind its back, by ip: the handle still finds it.
    H.run({ "ip", "link", "set", "net99", "down" })
    H.run({ "ip", "link", "set", "net99", "name", "net77" })
    assert.are.equal("net77", t.name)
    t:set{ mtu = 1300 }
    assert.are.equal(1300, H.link(ns, "net77").mtu)
    assert.truthy(tostring(t):find("net77", 1, true))
  end))

  it("refuses a rename to a taken name, and keeps the old one", H.ns(function(ns)
    local t = fwsh.tap.add("net11", { up = false })
    fwsh.tap.add("net12")
    local before = H.link_names(ns)
    H.raises(function() t:set{ name = "net12" } end, "link.set net11", "File exists")
    assert.are.same(before, H.link_names(ns))
  end))

  it("moves a link to another namespace, after which the handle is spent", H.ns(function(ns)
    H.with_netns(function(other)
      local v = fwsh.veth.add("v0", "v1")
      v:set{ netns = other }
      assert.is_nil(H.link(ns, "v0"))
      assert.are.equal("veth", H.link(other, "v0").linkinfo.info_kind)
      H.raises(function() v:up() end, "attempt to use a deleted veth")
    end)
  end))

  it("deletes a link; the handle is spent after it", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    assert.is_true(t:delete())
    assert.is_nil(H.link(ns, "net11"))
    H.raises(function() t:up() end, "attempt to use a deleted tap")
    H.raises(function() t:info() end, "attempt to use a deleted tap")
    H.raises(function() t:delete() end, "attempt to use a deleted tap")
    H.raises(function() fwsh.port.attach("lo", t) end, "attempt to use a deleted tap")
    assert.are.equal("tap net11 (deleted)", tostring(t))
    assert.are.equal("net11", t.name)
    local br = fwsh.bridge.add("br1")
    br:delete()
    H.raises(function() br:ports() end, "attempt to use a deleted bridge")
  end))

  it("deletes by name", H.ns(function(ns)
    fwsh.tap.add("net11")
    assert.is_true(fwsh.link.delete("net11"))
    assert.is_nil(H.link(ns, "net11"))
    H.raises(function() fwsh.link.delete("net11") end, "link.delete net11", "No such device")
  end))

  it("deletes a <close> link at the end of its scope, also on error", H.ns(function(ns)
    do
      local t <close> = fwsh.tap.add("net11")
      assert.is_not_nil(H.link(ns, "net11"))
    end
    assert.is_nil(H.link(ns, "net11"))
    local ok = pcall(function()
      local br <close> = fwsh.bridge.add("br1")
      error("boom")
    end)
    assert.is_false(ok)
    assert.is_nil(H.link(ns, "br1"))
    -- Deleted already, or by someone else: closing is quiet.
    do
      local t <close> = fwsh.tap.add("net12")
      t:delete()
    end
    do
      local t <close> = fwsh.tap.add("net13")
      H.run({ "ip", "link", "delete", "net13" })
    end
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("lets go of, never deletes, a <close> link it did not make", H.ns(function(ns)
    H.run({ "ip", "link", "add", "fpeer", "type", "veth", "peer", "name", "fpeer1" })
    H.run({ "ip", "link", "add", "fbr", "type", "bridge" })
    do local l <close> = fwsh.link.get("fpeer") end
    do local b <close> = fwsh.bridge.get("fbr") end
    do local b <close> = fwsh.bridge.ensure("fbr", { grounding = true, up = false }) end
    for _, l in ipairs(fwsh.link.list()) do local x <close> = l end
    local ok = pcall(function()
      local l <close> = fwsh.link.get("fpeer")
      error("boom")
    end)
    assert.is_false(ok)
    assert.is_not_nil(H.link(ns, "fpeer"))
    assert.is_not_nil(H.link(ns, "fpeer1"))
    assert.is_not_nil(H.link(ns, "fbr"))
    -- An ensure that made it deletes it, as add does.
    do local b <close> = fwsh.bridge.ensure("mine") end
    assert.is_nil(H.link(ns, "mine"))
  end))

  it("does not delete, at <close>, a link made under its name after its own went", H.ns(function(ns)
    do
      local t <close> = fwsh.tap.add("net11")
      H.run({ "ip", "link", "delete", "net11" })
      H.run({ "ip", "link", "add", "net11", "type", "bridge" })
    end
    assert.are.equal("bridge", H.link(ns, "net11").linkinfo.info_kind)
  end))

  it("says what became of a link deleted behind its back", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    H.run({ "ip", "link", "delete", "net11" })
    assert.are.equal("tap net11 (gone)", tostring(t))
    H.raises(function() t:up() end, "link.up net11", "No such device")
  end))

  it("shows name, kind and state in tostring", H.ns(function(ns)
    local br = fwsh.bridge.add("br1")
    local t = fwsh.tap.add("net11", { up = false })
    local v = fwsh.veth.add("v0", "v1")
    assert.are.equal("tap net11 (down, no carrier)", tostring(t))
    assert.are.equal("bridge br1 (up, 0 ports)", tostring(br))
    br:attach(t)
    t:up()
    assert.are.equal("tap net11 (up, port of br1, no carrier)", tostring(t))
    assert.are.equal("bridge br1 (up, 1 port)", tostring(br))
    br:attach(v)
    assert.are.equal("bridge br1 (up, 2 ports)", tostring(br))
    fwsh.link.up("v1")
    assert.are.equal("veth v0 (up, port of br1, carrier)", tostring(v))
    assert.are.equal("link lo (up, carrier)", tostring(fwsh.link.get("lo")))
  end))

  it("compares handles by the link they name", H.ns(function(ns)
    local t = fwsh.tap.add("net11")
    assert.are.equal(t, fwsh.link.get("net11"))
    assert.are_not.equal(t, fwsh.link.get("lo"))
  end))

  it("takes a link name of 15 bytes, and no longer", H.ns(function(ns)
    fwsh.tap.add("n23456789abcdef")
    assert.are.equal("tun", H.link(ns, "n23456789abcdef").linkinfo.info_kind)
    H.raises(function() fwsh.tap.add("n23456789abcdefg") end,
             "tap.add n23456789abcdefg", "name is 16 bytes, the limit is 15")
  end))

  it("does not write to the global environment", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded.fwsh = nil
    local m = require "fwsh"
    for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
    assert.are.equal("table", type(m.link))
    package.loaded.fwsh = fwsh
  end)
end)
