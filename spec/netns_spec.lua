-- netns_spec.lua - fwsh.netns: named namespaces, the /run/netns files that
-- `ip netns` uses, checked with `ip -j netns list`, `ip -n NAME` and the
-- namespace a child process starts in (readlink /proc/self/ns/net).
local H = require "helper"
local fwsh = H.fwsh

local made = {}

-- A name for a namespace the test makes; deleted after the test in any case.
local function name()
  local n = string.format("fwsh-spec-n%d-%d", math.random(1, 1e9), #made + 1)
  made[#made + 1] = n
  return n
end

-- The network namespace the calling thread is in, as a child process sees it.
local function here()
  return (H.run({ "readlink", "/proc/self/ns/net" }):gsub("%s+$", ""))
end

local function inside(ns)
  return (H.run({ "ip", "netns", "exec", ns, "readlink", "/proc/self/ns/net" }):gsub("%s+$", ""))
end

local function listed(n)
  for _, x in ipairs(H.netns_names()) do
    if x == n then return true end
  end
  return false
end

describe("fwsh.netns", function()
  after_each(function()
    for _, n in ipairs(made) do H.run({ "ip", "netns", "delete", n }) end
    made = {}
  end)

  it("adds a namespace that ip netns lists and enters", H.ns(function(ns)
    local n = name()
    assert.is_true(fwsh.netns.add(n))
    assert.is_true(listed(n))
    local ino = inside(n)
    assert.truthy(ino:match("^net:%[%d+%]$"))
    assert.are_not.equal(here(), ino)
    assert.are.same({ "lo" }, H.link_names(n))
  end))

  it("ensure adds it once, then leaves it as it is", H.ns(function(ns)
    local n = name()
    assert.is_true(fwsh.netns.ensure(n))
    local ino = inside(n)
    H.run({ "ip", "-n", n, "tuntap", "add", "t0", "mode", "tap" })
    assert.is_false(fwsh.netns.ensure(n))
    assert.are.equal(ino, inside(n))
    assert.are.same({ "lo", "t0" }, H.link_names(n))
  end))

  it("deletes a namespace", H.ns(function(ns)
    local n = name()
    fwsh.netns.add(n)
    assert.is_true(fwsh.netns.delete(n))
    assert.is_false(listed(n))
    local err = H.raises(function() fwsh.netns.delete(n) end,
                         "netns.delete " .. n, "No such file or directory", "no namespace " .. n)
    assert.are.equal("ENOENT", err.code)
  end))

  it("deletes one that ip made, and ip sees one that fwsh made", H.ns(function(ns)
    local a, b = name(), name()
    H.run({ "ip", "netns", "add", a })
    fwsh.netns.delete(a)
    assert.is_false(listed(a))
    fwsh.netns.add(b)
    local _, ok = H.run({ "ip", "netns", "delete", b })
    assert.is_true(ok)
    assert.is_false(listed(b))
  end))

  it("lists the namespaces as ip netns does, and says whether one exists", H.ns(function(ns)
    local a, b = name(), name()
    fwsh.netns.add(a)
    H.run({ "ip", "netns", "add", b })
    assert.are.same(H.netns_names(), fwsh.netns.list())
    assert.is_true(fwsh.netns.exists(a))
    assert.is_true(fwsh.netns.exists(b))
    assert.is_true(fwsh.netns.exists(ns))
    assert.is_false(fwsh.netns.exists("fwsh-spec-none"))
    assert.is_false(fwsh.netns.exists("a/b"))
  end))

  it("refuses a namespace that exists, and leaves it as it is", H.ns(function(ns)
    local n = name()
    fwsh.netns.add(n)
    local ino = inside(n)
    local err = H.raises(function() fwsh.netns.add(n) end, "netns.add " .. n, "File exists")
    assert.are.equal("EEXIST", err.code)
    assert.are.equal(ino, inside(n))
  end))

  it("refuses names that are not file names", H.ns(function(ns)
    local before = H.netns_names()
    for _, bad in ipairs({ "", "a/b", ".", "..", "a b", "a\tb", string.rep("n", 64) }) do
      local shown = bad:find("\t") and "'" .. bad .. "'" or bad
      local err = H.raises(function() fwsh.netns.add(bad) end, "netns.add " .. shown,
                           "Invalid argument")
      assert.are.equal("EINVAL", err.code)
    end
    assert.are.same(before, H.netns_names())
  end))

  it("runs a function inside a namespace and comes back", H.ns(function(ns)
    local n = name()
    fwsh.netns.add(n)
    local home = here()
    local a, b = fwsh.netns.run(n, function(x, y)
      assert.are.equal(inside(n), here())
      fwsh.tap.add("t0")
      return x + y, "two"
    end, 1, 2)
    assert.are.equal(3, a)
    assert.are.equal("two", b)
    assert.are.equal(home, here())
    assert.are.equal("tun", H.link(n, "t0").linkinfo.info_kind)
    assert.is_nil(H.link(ns, "t0"))
    -- fwsh works here again.
    fwsh.tap.add("t1")
    assert.is_not_nil(H.link(ns, "t1"))
    assert.is_nil(H.link(n, "t1"))
  end))

  it("comes back when the function raises, and raises its error unchanged", H.ns(function(ns)
    local n = name()
    fwsh.netns.add(n)
    local home = here()
    local e = setmetatable({}, { __tostring = function() return "mine" end })
    local ok, err = pcall(fwsh.netns.run, n, function()
      fwsh.tap.add("t0")
      error(e)
    end)
    assert.is_false(ok)
    assert.are.equal(e, err)
    assert.are.equal(home, here())
    local ok2, err2 = pcall(fwsh.netns.run, n, function() fwsh.tap.add("t0") end)
    assert.is_false(ok2)
    assert.truthy(tostring(err2):find("tap.add t0: File exists", 1, true))
    assert.are.equal(home, here())
    fwsh.tap.add("t0")
    assert.is_not_nil(H.link(ns, "t0"))
  end))

  it("nests, each run coming back to the namespace it started in", H.ns(function(ns)
    local a, b = name(), name()
    fwsh.netns.add(a)
    fwsh.netns.add(b)
    local home = here()
    fwsh.netns.run(a, function()
      fwsh.tap.add("ta")
      fwsh.netns.run(b, function()
        assert.are.equal(inside(b), here())
        fwsh.tap.add("tb")
      end)
      assert.are.equal(inside(a), here())
      fwsh.tap.add("ta2")
    end)
    assert.are.equal(home, here())
    assert.are.same({ "lo", "ta", "ta2" }, H.link_names(a))
    assert.are.same({ "lo", "tb" }, H.link_names(b))
  end))

  it("keeps a handle made inside working outside, in its namespace", H.ns(function(ns)
    local n = name()
    fwsh.netns.add(n)
    local t = fwsh.netns.run(n, function() return fwsh.tap.add("t0") end)
    t:set{ mtu = 1400 }
    assert.are.equal(1400, H.link(n, "t0").mtu)
    assert.is_nil(H.link(ns, "t0"))
    assert.are.equal("tap t0 (up, no carrier)", tostring(t))
  end))

  it("refuses to run in a namespace that does not exist, and stays", H.ns(function(ns)
    local home = here()
    local called = false
    local err = H.raises(function()
      fwsh.netns.run("fwsh-spec-none", function() called = true end)
    end, "netns.run fwsh-spec-none", "No such file or directory")
    assert.are.equal("ENOENT", err.code)
    assert.is_false(called)
    assert.are.equal(home, here())
  end))
end)
