-- errors_spec.lua - every kind of bad input, across the API: each
-- raises one error that names the operation, the object and the reason, and
-- changes nothing (the namespace's links, addresses and routes read back by
-- iproute2 before and after).
local H = require "helper"
local fwsh = H.fwsh

-- What a namespace holds, to compare before and after a refused call.
local function state(ns)
  return {
    links = H.link_state(ns),
    addrs = H.ip(ns, "addr", "show"),
    routes4 = H.ip(ns, "-4", "route", "show", "table", "all"),
    routes6 = H.ip(ns, "-6", "route", "show", "table", "all"),
  }
end

-- A bridge br1 with a port net13, a tap net11 (up, 10.0.0.1/24, a route
-- 10.1.0.0/24 through it) and a tap net12 (down); all made by ip.
local function fixture(ns)
  for _, argv in ipairs({
    { "ip", "link", "add", "br1", "type", "bridge" },
    { "ip", "tuntap", "add", "net11", "mode", "tap" },
    { "ip", "tuntap", "add", "net12", "mode", "tap" },
    { "ip", "tuntap", "add", "net13", "mode", "tap" },
    { "ip", "link", "set", "net13", "master", "br1" },
    { "ip", "link", "set", "br1", "up" },
    { "ip", "link", "set", "net11", "up" },
    { "ip", "addr", "add", "10.0.0.1/24", "dev", "net11" },
    { "ip", "route", "add", "10.1.0.0/24", "dev", "net11" },
  }) do
    local out, ok = H.run(argv, { stderr = true })
    assert(ok, table.concat(argv, " ") .. ": " .. out)
  end
end

-- Asserts that fn raises an fwsh error of op on object with errno code whose
-- message has every one of the further words.
-- As messages show an object: in quotes when it is empty or has blanks at its
-- ends or a tab or newline in it, so that it is seen.
local function shown(object)
  if object == "" or object:match("^%s") or object:match("%s$") or object:find("[\t\n\r]") then
    return "'" .. object .. "'"
  end
  return object
end

local function refused(fn, op, object, code, ...)
  local err = H.raises(fn, op .. " " .. shown(object) .. ": ", ...)
  assert.are.equal("table", type(err), "not an fwsh error: " .. tostring(err))
  assert.are.equal(op, err.op)
  assert.are.equal(object, err.object)
  assert.are.equal(code, err.code)
  return err
end

-- Names the kernel does not take, and what fwsh says of each.
local BAD_NAMES = {
  { "", "empty name" },
  { "n23456789abcdefg", "name is 16 bytes, the limit is 15" },
  { "a/b", "name has a '/'" },
  { "a:b", "name has a ':'" },
  { "a b", "white space" },
  { "a\tb", "white space" },
  { "a\nb", "white space" },
  { ".", "'.' and '..' are not names" },
  { "..", "'.' and '..' are not names" },
}

describe("bad input", function()
  it("link names: empty, over 15 bytes, with '/', ':' or white space", H.ns(function(ns)
    fixture(ns)
    local before = state(ns)
    for _, case in ipairs(BAD_NAMES) do
      local name, why = case[1], case[2]
      refused(function() fwsh.bridge.add(name) end, "bridge.add", name, "EINVAL", why)
      refused(function() fwsh.bridge.ensure(name) end, "bridge.ensure", name, "EINVAL", why)
      refused(function() fwsh.tap.add(name) end, "tap.add", name, "EINVAL", why)
      refused(function() fwsh.tap.ensure(name) end, "tap.ensure", name, "EINVAL", why)
      refused(function() fwsh.veth.add(name, "p0") end, "veth.add", name .. " peer p0",
              "EINVAL", why)
      refused(function() fwsh.veth.add("v0", name) end, "veth.add", "v0 peer " .. name,
              "EINVAL", why)
      refused(function() fwsh.link.get(name) end, "link.get", name, "EINVAL", why)
      -- a rename names the link, and the refused new name in the detail
      refused(function() fwsh.link.get("net12"):set{ name = name } end, "link.set", "net12",
              "EINVAL", "new name '" .. name .. "'", why)
    end
    assert.are.same(before, state(ns))
  end))

  it("unknown devices", H.ns(function(ns)
    fixture(ns)
    local before = state(ns)
    local nope = "nope0"
    refused(function() fwsh.link.get(nope) end, "link.get", nope, "ENODEV", "no such link")
    refused(function() fwsh.link.up(nope) end, "link.up", nope, "ENODEV")
    refused(function() fwsh.link.set(nope, { mtu = 1400 }) end, "link.set", nope, "ENODEV")
    refused(function() fwsh.link.info(nope) end, "link.info", nope, "ENODEV")
    refused(function() fwsh.link.delete(nope) end, "link.delete", nope, "ENODEV")
    refused(function() fwsh.bridge.get(nope) end, "bridge.get", nope, "ENODEV")
    refused(function() fwsh.tap.get(nope) end, "tap.get", nope, "ENODEV")
    refused(function() fwsh.port.attach(nope, "net12") end, "port.attach", "net12 to nope0",
            "ENODEV", "bridge nope0: no such link")
    refused(function() fwsh.port.attach("br1", nope) end, "port.attach", "nope0 to br1",
            "ENODEV", "port nope0: no such link")
    refused(function() fwsh.bridge.get("br1"):attach(nope) end, "bridge.attach", "nope0 to br1",
            "ENODEV")
    refused(function() fwsh.port.detach(nope) end, "port.detach", nope, "ENODEV")
    refused(function() fwsh.tap.add("net19", { bridge = nope }) end, "tap.add", "net19",
            "ENODEV", "bridge nope0: no such link")
    refused(function() fwsh.addr.add(nope, "10.0.1.1/24") end, "addr.add",
            "10.0.1.1/24 dev nope0", "ENODEV")
    refused(function() fwsh.addr.delete(nope, "10.0.1.1/24") end, "addr.delete",
            "10.0.1.1/24 dev nope0", "ENODEV")
    refused(function() fwsh.addr.list(nope) end, "addr.list", nope, "ENODEV")
    refused(function() fwsh.route.add{ dst = "10.2.0.0/24", dev = nope } end, "route.add",
            "10.2.0.0/24", "ENODEV", "dev nope0: no such link")
    refused(function() fwsh.route.list{ dev = nope } end, "route.list", nope, "ENODEV")
    assert.are.same(before, state(ns))
  end))

  it("attaching to a link that is not a bridge", H.ns(function(ns)
    fixture(ns)
    local before = state(ns)
    refused(function() fwsh.port.attach("net11", "net12") end, "port.attach", "net12 to net11",
            "EINVAL", "net11 is a tap, not a bridge")
    refused(function() fwsh.port.attach("lo", "net12") end, "port.attach", "net12 to lo",
            "EINVAL", "lo is a plain link, not a bridge")
    refused(function() fwsh.tap.add("net19", { bridge = "net11" }) end, "tap.add", "net19",
            "EINVAL", "net11 is a tap, not a bridge")
    refused(function() fwsh.bridge.attach("net11", "net12") end, "bridge.attach", "net11",
            "EINVAL", "a tap, not a bridge")
    assert.are.same(before, state(ns))
  end))

  it("attaching a bridge to itself", H.ns(function(ns)
    fixture(ns)
    local before = state(ns)
    local br = fwsh.bridge.get("br1")
    refused(function() fwsh.port.attach("br1", "br1") end, "port.attach", "br1 to br1",
            "EINVAL", "a bridge cannot be a port of itself")
    refused(function() br:attach(br) end, "bridge.attach", "br1 to br1", "EINVAL",
            "a bridge cannot be a port of itself")
    assert.are.same(before, state(ns))
  end))

  it("names and objects that exist already (EEXIST)", H.ns(function(ns)
    fixture(ns)
    H.run({ "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1" })
    H.run({ "ip", "netns", "add", ns .. "-x" })
    local ok, err = pcall(function()
      local before = state(ns)
      refused(function() fwsh.bridge.add("br1") end, "bridge.add", "br1", "EEXIST")
      refused(function() fwsh.bridge.add("net11") end, "bridge.add", "net11", "EEXIST")
      refused(function() fwsh.bridge.ensure("net11") end, "bridge.ensure", "net11", "EEXIST",
              "exists as a tap, not a bridge")
      refused(function() fwsh.tap.add("net11") end, "tap.add", "net11", "EEXIST",
              "a tap of that name exists")
      refused(function() fwsh.tap.add("br1") end, "tap.add", "br1", "EEXIST",
              "a bridge of that name exists")
      refused(function() fwsh.tap.add("v0") end, "tap.add", "v0", "EEXIST",
              "a veth of that name exists")
      refused(function() fwsh.veth.add("v0", "v9") end, "veth.add", "v0 peer v9", "EEXIST")
      refused(function() fwsh.veth.add("v9", "net11") end, "veth.add", "v9 peer net11", "EEXIST")
      refused(function() fwsh.link.get("net12"):set{ name = "net11" } end, "link.set", "net12",
              "EEXIST")
      refused(function() fwsh.addr.add("net11", "10.0.0.1/24") end, "addr.add",
              "10.0.0.1/24 dev net11", "EEXIST")
      refused(function() fwsh.route.add{ dst = "10.1.0.0/24", dev = "net11" } end, "route.add",
              "10.1.0.0/24", "EEXIST")
      refused(function() fwsh.netns.add(ns) end, "netns.add", ns, "EEXIST")
      refused(function() fwsh.netns.add(ns .. "-x") end, "netns.add", ns .. "-x", "EEXIST")
      assert.are.same(before, state(ns))
    end)
    H.run({ "ip", "netns", "delete", ns .. "-x" })
    assert(ok, err)
  end))

  it("changes without CAP_NET_ADMIN (EPERM), saying so", H.ns(function(ns)
    fixture(ns)
    H.run({ "ip", "addr", "add", "10.0.2.1/24", "dev", "net12" })
    local before = state(ns)
    -- One child, in this namespace, with CAP_NET_ADMIN gone from its
    -- bounding and inheritable sets: each call prints op, object, code, message.
    local calls = {
      { "bridge.add", "br9", [[fwsh.bridge.add("br9")]] },
      { "bridge.add", "br8", [[fwsh.bridge.add("br8", { grounding = false })]] },
      { "bridge.ensure", "br9", [[fwsh.bridge.ensure("br9")]] },
      { "tap.add", "net19", [[fwsh.tap.add("net19", { bridge = "br1" })]] },
      { "tap.ensure", "net12", [[fwsh.tap.ensure("net12", { bridge = "br1" })]] },
      { "veth.add", "v8 peer v9", [[fwsh.veth.add("v8", "v9")]] },
      { "link.set", "net11", [[fwsh.link.get("net11"):set{ mtu = 1400 }]] },
      { "link.set", "net11", [[fwsh.link.get("net11"):set{ name = "net99" }]] },
      { "link.up", "net12", [[fwsh.link.get("net12"):up()]] },
      { "link.down", "net11", [[fwsh.link.get("net11"):down()]] },
      { "link.delete", "net11", [[fwsh.link.get("net11"):delete()]] },
      { "link.set", "br1", [[fwsh.bridge.get("br1"):set{ stp = true }]] },
      { "port.attach", "net12 to br1", [[fwsh.port.attach("br1", "net12")]] },
      { "port.detach", "net13", [[fwsh.port.detach("net13")]] },
      { "addr.add", "10.0.1.1/24 dev net11", [[fwsh.addr.add("net11", "10.0.1.1/24")]] },
      { "addr.delete", "10.0.0.1/24 dev net11", [[fwsh.addr.delete("net11", "10.0.0.1/24")]] },
      { "route.add", "10.2.0.0/24", [[fwsh.route.add{ dst = "10.2.0.0/24", dev = "net11" }]] },
      { "route.delete", "10.1.0.0/24",
        [[fwsh.route.delete{ dst = "10.1.0.0/24", dev = "net11" }]] },
    }
    local code = { "package.cpath = " .. string.format("%q", H.build .. "/?.so;") ..
                   " .. package.cpath", "local fwsh = require 'fwsh'" }
    for _, c in ipairs(calls) do
      code[#code + 1] = "do local ok, e = pcall(function() " .. c[3] .. " end) " ..
                        "print(ok and 'ok' or (tostring(e.op) .. '|' .. tostring(e.object) .. " ..
                        "'|' .. tostring(e.code) .. '|' .. tostring(e))) end"
    end
    local argv = { "ip", "netns", "exec", ns }
    if os.getenv("LD_PRELOAD") then
      argv[#argv + 1] = "env"
      argv[#argv + 1] = "LD_PRELOAD=" .. os.getenv("LD_PRELOAD")
    end
    for _, a in ipairs({ "setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin",
                         "lua5.4", "-e", table.concat(code, "\n") }) do
      argv[#argv + 1] = a
    end
    local out, ok = H.run(argv, { stderr = true })
    assert(ok, out)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(#calls, #lines, out)
    for i, c in ipairs(calls) do
      local op, object, errno, msg = lines[i]:match("^([^|]*)|([^|]*)|([^|]*)|(.*)$")
      assert.are.equal(c[1], op, lines[i])
      assert.are.equal(c[2], object, lines[i])
      assert.are.equal("EPERM", errno, lines[i])
      assert.truthy(msg:find(c[1] .. " " .. c[2] .. ": Operation not permitted", 1, true), msg)
      assert.truthy(msg:find("CAP_NET_ADMIN", 1, true), msg)
    end
    assert.are.same(before, state(ns))
  end))

  it("wrong Lua types: bad argument, naming the argument and the field", H.ns(function(ns)
    fixture(ns)
    local before = state(ns)
    local t = fwsh.tap.get("net12")
    local br = fwsh.bridge.get("br1")
    local cases = {
      { function() fwsh.bridge.add() end,
        "bad argument #1 to 'add' (string expected, got no value)" },
      { function() fwsh.bridge.add({}) end,
        "bad argument #1 to 'add' (string expected, got table)" },
      { function() fwsh.bridge.add("br9", "up") end,
        "bad argument #2 to 'add' (table expected, got string)" },
      { function() fwsh.bridge.add("br9", { up = "yes" }) end,
        "(field 'up': boolean expected, got string)" },
      { function() fwsh.bridge.add("br9", { grounding = 0 }) end,
        "(field 'grounding': boolean expected, got number)" },
      { function() fwsh.bridge.add("br9", { stp = 1 }) end,
        "(field 'stp': boolean expected, got number)" },
      { function() fwsh.bridge.add("br9", { mtu = "big" }) end,
        "(field 'mtu': integer expected, got string)" },
      { function() fwsh.bridge.add("br9", { mtu = 1500.5 }) end,
        "(field 'mtu': integer expected, got number)" },
      { function() fwsh.bridge.add("br9", { mtu = -1 }) end,
        "(field 'mtu': -1 is out of range (0 to 4294967295))" },
      { function() fwsh.bridge.add("br9", { forward_delay = "4" }) end,
        "(field 'forward_delay': seconds (a number) expected, got string)" },
      { function() fwsh.bridge.add("br9", { ageing_time = -1 }) end,
        "field 'ageing_time'", "out of range" },
      { function() fwsh.bridge.add("br9", { address = 10 }) end,
        "(field 'address': string or list expected, got number)" },
      { function() fwsh.bridge.add("br9", { address = { 10 } }) end,
        "(field 'address': a list of strings expected)" },
      { function() fwsh.bridge.add("br9", { mac = "zz" }) end,
        "(field 'mac': 'zz' is not a MAC address)" },
      { function() fwsh.bridge.add("br9", { colour = "red" }) end,
        "bad argument #2 to 'add' (unknown option 'colour')" },
      { function() fwsh.bridge.add("br9", { grounding = false, address = "10.9.0.1/24" }) end,
        "a non-grounding bridge has no address" },
      { function() fwsh.tap.add("net19", { owner = {} }) end,
        "(field 'owner': number or name expected, got table)" },
      { function() fwsh.tap.add("net19", { owner = "no-such-user-x" }) end,
        "(field 'owner': no user 'no-such-user-x')" },
      { function() fwsh.tap.add("net19", { group = "no-such-group-x" }) end,
        "(field 'group': no group 'no-such-group-x')" },
      { function() fwsh.tap.add("net19", { owner = -5 }) end,
        "(field 'owner': -5 is out of range (0 to 4294967294))" },
      { function() fwsh.tap.add("net19", { multi_queue = "yes" }) end,
        "(field 'multi_queue': boolean expected, got string)" },
      { function() fwsh.tap.add("net19", { bridge = 5 }) end,
        "(field 'bridge': name or bridge expected, got number)" },
      { function() fwsh.veth.add("v0") end,
        "bad argument #2 to 'add' (string expected, got no value)" },
      { function() fwsh.veth.add("v0", "v1", { netns = 1 }) end,
        "bad argument #3 to 'add' (field 'netns': string expected, got number)" },
      { function() fwsh.link.get() end,
        "bad argument #1 to 'get' (string expected, got no value)" },
      { function() fwsh.link.up({}) end, "bad argument #1 to 'up' (string expected, got table)" },
      { function() fwsh.link.list({}) end,
        "bad argument #1 to 'list' (string expected, got table)" },
      { function() t:set("x") end, "bad argument #1 to 'set' (table expected, got string)" },
      { function() t:set{ mac = 1 } end, "(field 'mac': string expected, got number)" },
      { function() t:set{ mac = "02:00:00:00:00" } end,
        "(field 'mac': '02:00:00:00:00' is not a MAC address)" },
      { function() t:set{ up = 1 } end, "(field 'up': boolean expected, got number)" },
      { function() t:set{ name = 5 } end, "(field 'name': string expected, got number)" },
      { function() t:set{ bogus = 1 } end, "(unknown option 'bogus')" },
      { function() fwsh.port.attach({}, "net12") end,
        "bad argument #1 to 'attach' (string expected, got table)" },
      { function() fwsh.port.attach("br1") end, "bad argument #2 to 'attach'" },
      { function() br:attach() end, "bad argument #1 to 'attach' (a port to attach expected)" },
      { function() br:detach() end, "bad argument #1 to 'detach'" },
      { function() fwsh.addr.add("net11") end,
        "bad argument #2 to 'add' (string expected, got no value)" },
      { function() fwsh.addr.add("net11", {}) end,
        "bad argument #2 to 'add' (string expected, got table)" },
      { function() fwsh.route.add("10.2.0.0/24") end,
        "bad argument #1 to 'add' (table expected, got string)" },
      { function() fwsh.route.add{} end, "(field 'dst' (a prefix or \"default\") expected)" },
      { function() fwsh.route.add{ dst = "10.2.0.0/24" } end, "(a route needs 'via' or 'dev')" },
      { function() fwsh.route.add{ dst = 5, dev = "net11" } end,
        "(field 'dst': string expected, got number)" },
      { function() fwsh.route.add{ dst = "10.2.0.0/24", dev = {} } end,
        "bad argument #1 to 'add' (field 'dev': name or link expected, got table)" },
      { function() fwsh.route.add{ dst = "10.2.0.0/24", dev = "net11", metric = "low" } end,
        "(field 'metric': integer expected, got string)" },
      { function() fwsh.route.add{ dst = "10.2.0.0/24", dev = "net11", table = "nope" } end,
        "(field 'table': unknown table 'nope')" },
      { function() fwsh.route.list{ colour = 1 } end,
        "bad argument #1 to 'list' (unknown option 'colour')" },
      { function() fwsh.netns.add() end,
        "bad argument #1 to 'add' (string expected, got no value)" },
      { function() fwsh.netns.run(ns, "fn") end,
        "bad argument #2 to 'run' (function expected, got string)" },
      { function() fwsh.transaction("fn") end,
        "bad argument #1 to 'transaction' (function expected, got string)" },
      { function() fwsh.show{ print = 1 } end, "(field 'print': boolean expected, got number)" },
      { function() fwsh.lab({}) end, "bad argument #1 to 'lab' (string expected, got table)" },
    }
    for i, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok, "case " .. i .. " did not fail")
      assert.are.equal("string", type(err), "case " .. i .. ": " .. tostring(err))
      for k = 2, #c do
        assert.truthy(err:find(c[k], 1, true),
                      string.format("case %d: %q does not contain %q", i, err, c[k]))
      end
    end
    assert.are.same(before, state(ns))
  end))

  it("a handle of one kind where another is needed", H.ns(function(ns)
    fixture(ns)
    local before = state(ns)
    local t = fwsh.tap.get("net11")
    refused(function() fwsh.bridge.ports(t) end, "bridge.ports", "net11", "EINVAL",
            "a tap, not a bridge")
    refused(function() fwsh.tap.get("br1") end, "tap.get", "br1", "EINVAL", "a bridge, not a tap")
    refused(function() fwsh.bridge.get("net11") end, "bridge.get", "net11", "EINVAL",
            "a tap, not a bridge")
    refused(function() t:set{ stp = true } end, "link.set", "net11", "EINVAL",
            "bridge options on a tap link")
    refused(function() fwsh.lab("bad lab!") end, "lab", "bad lab!", "EINVAL",
            "a lab name has only letters")
    assert.are.same(before, state(ns))
  end))
end)
