-- ownership_spec.lua - only what fwsh made is ever deleted: a rollback, a
-- <close>, `fwsh down` and a lab's close name what they delete by its identity
-- (a link by ifindex and tag, a namespace by its inode, fwsh's qdisc by handle
-- and mark, a directory by a walk that stays on its mount), so that a foreign
-- object that took the name, handle or place of one of fwsh's is left as it
-- is. Each case makes fwsh's object, lets a stranger (ip, tc, mount) take its
-- place behind fwsh's back, and reads back with ip -j, tc -j and stat that the
-- stranger is untouched.
local H = require "helper"
local fwsh = H.fwsh
local json = require "dkjson"

-- Runs fn in a transaction that must fail with fn's error; returns that error.
local function rolled_back(fn)
  local ok, err = pcall(fwsh.transaction, fn)
  assert.is_false(ok, "the transaction did not fail")
  return err
end

local function ifindex(ns, name)
  local l = H.link(ns, name)
  return l and l.ifindex
end

-- A stranger's namespace called name, marked (its lo's alias) so that it can
-- be told apart from fwsh's: the inode number of a freed namespace is given
-- to the next one, so an inode does not tell them apart.
local function their_netns(name)
  H.run({ "ip", "netns", "add", name })
  H.run({ "ip", "-n", name, "link", "set", "lo", "alias", "theirs" })
end

local function is_theirs(name)
  local out, ok = H.run({ "ip", "-n", name, "-j", "link", "show", "lo" })
  return ok and (json.decode(out) or {})[1].ifalias == "theirs"
end

-- The root qdisc of dev as tc reads it (a table of `tc -j -d qdisc show`'s).
local function root(dev)
  local out = H.run({ "tc", "-j", "-d", "qdisc", "show", "dev", dev })
  for _, q in ipairs(json.decode(out) or {}) do
    if q.root then return q end
  end
end

local function foreign_tbf(dev, rate)
  local _, ok = H.run({ "tc", "qdisc", "replace", "dev", dev, "root", "handle", "f5f5:", "tbf",
                        "rate", rate, "burst", "32k", "latency", "50ms" })
  assert(ok, "tc qdisc replace dev " .. dev)
end

describe("a link that took the name of fwsh's", function()
  it("is left by a rollback: the bridge fwsh made was deleted and another made under its name",
     H.ns(function(ns)
    local err = rolled_back(function()
      fwsh.bridge.add("own0")
      H.run({ "ip", "link", "del", "own0" })
      H.run({ "ip", "link", "add", "own0", "type", "bridge" })
      error({ "boom" })
    end)
    assert.are.same({ "boom" }, { err[1] })
    local l = H.link(ns, "own0")
    assert.truthy(l, "the stranger own0 survives")
    assert.are.equal("bridge", l.linkinfo.info_kind)
    assert.is_nil(l.ifalias) -- not fwsh's
    assert.truthy(tostring(err.rollback):find("own0", 1, true))
    H.run({ "ip", "link", "del", "own0" })
  end))

  it("is left by a rollback: a veth pair, deleted and made again by ip", H.ns(function(ns)
    rolled_back(function()
      fwsh.veth.add("ova", "ovb")
      H.run({ "ip", "link", "del", "ova" })
      H.run({ "ip", "link", "add", "ova", "type", "veth", "peer", "name", "ovc" })
      error("boom")
    end)
    assert.truthy(H.link(ns, "ova"))
    assert.truthy(H.link(ns, "ovc"))
    H.run({ "ip", "link", "del", "ova" })
  end))

  it("is left by a rollback: a tap a batch made, deleted and its name taken", H.ns(function(ns)
    rolled_back(function()
      fwsh.batch(function()
        fwsh.bridge.add("obr0")
        fwsh.tap.add("otap0", { bridge = "obr0" })
      end)
      H.run({ "ip", "link", "del", "otap0" })
      H.run({ "ip", "link", "add", "otap0", "type", "bridge" })
      error("boom")
    end)
    local l = H.link(ns, "otap0")
    assert.truthy(l, "the stranger otap0 survives")
    assert.are.equal("bridge", l.linkinfo.info_kind)
    assert.is_nil(H.link(ns, "obr0")) -- fwsh's own bridge is undone
    H.run({ "ip", "link", "del", "otap0" })
  end))

  it("is left by a rollback: fwsh's link with its tag taken off by someone", H.ns(function(ns)
    local index
    rolled_back(function()
      fwsh.bridge.add("own1")
      index = ifindex(ns, "own1")
      H.run({ "ip", "link", "set", "own1", "alias", "someone's now" })
      error("boom")
    end)
    assert.are.equal(index, ifindex(ns, "own1"))
    assert.are.equal("someone's now", H.link(ns, "own1").ifalias)
    H.run({ "ip", "link", "del", "own1" })
  end))

  it("is left by <close>", H.ns(function(ns)
    do
      local br <close> = fwsh.bridge.add("own2")
      H.run({ "ip", "link", "del", "own2" })
      H.run({ "ip", "link", "add", "own2", "type", "bridge" })
    end
    assert.truthy(H.link(ns, "own2"))
    H.run({ "ip", "link", "del", "own2" })
  end))

  it("is left by a node's teardown (fwsh.link.delete_made), which deletes only its own",
     H.ns(function(ns)
    local mine = fwsh.bridge.add("own4").ifindex
    assert.is_true(fwsh.link.delete_made("own4", mine))
    assert.is_nil(H.link(ns, "own4"))
    local gone = fwsh.bridge.add("own5").ifindex
    H.run({ "ip", "link", "del", "own5" })
    H.run({ "ip", "link", "add", "own5", "type", "bridge" })
    assert.is_false(fwsh.link.delete_made("own5", gone))
    assert.truthy(H.link(ns, "own5"))
    local untagged = fwsh.bridge.add("own6").ifindex
    H.run({ "ip", "link", "set", "own6", "alias", "someone's now" })
    assert.is_false(fwsh.link.delete_made("own6", untagged))
    assert.are.equal(untagged, ifindex(ns, "own6"))
    H.run({ "ip", "link", "del", "own5" })
    H.run({ "ip", "link", "del", "own6" })
  end))

  it("is left by fwsh down: what a killed script made was replaced by ip", H.ns(function(ns)
    local lab = "own" .. math.random(1, 1e6)
    local _, ok = H.fwsh_in(ns, { "--lab", lab, "-e", 'fwsh.bridge.add("own3"); fwsh.keep()' })
    assert.truthy(ok)
    assert.truthy(H.link(ns, "own3").ifalias == "fwsh:" .. lab)
    H.run({ "ip", "link", "del", "own3" })
    H.run({ "ip", "link", "add", "own3", "type", "bridge" })
    H.fwsh_in(ns, { "down", lab })
    assert.truthy(H.link(ns, "own3"))
    H.run({ "ip", "link", "del", "own3" })
  end))
end)

describe("a namespace that took the name of fwsh's", function()
  it("is left by a rollback", H.ns(function()
    local name = "fwsh-own-" .. math.random(1, 1e9)
    local ok, err = pcall(function()
      rolled_back(function()
        fwsh.netns.add(name)
        H.run({ "ip", "netns", "del", name })
        their_netns(name)
        error("boom")
      end)
      assert.is_true(is_theirs(name))
    end)
    H.run({ "ip", "netns", "del", name })
    assert(ok, err)
  end))

  it("is left by a node's teardown (fwsh.netns.delete_made), which deletes only its own",
     H.ns(function()
    local name = "fwsh-own-" .. math.random(1, 1e9)
    local ok, err = pcall(function()
      fwsh.netns.add(name)
      local id = fwsh.netns.id(name)
      assert.is_true(id > 0)
      assert.is_true(fwsh.netns.delete_made(name, id))
      assert.is_falsy(select(2, H.run({ "test", "-e", "/run/netns/" .. name })))
      fwsh.netns.add(name)
      id = fwsh.netns.id(name)
      H.run({ "ip", "netns", "del", name })
      their_netns(name)
      assert.is_false(fwsh.netns.delete_made(name, id))
      assert.is_true(is_theirs(name))
    end)
    H.run({ "ip", "netns", "del", name })
    assert(ok, err)
  end))

  it("is left by fwsh down: a killed script's namespace replaced by ip", H.ns(function(ns)
    local lab = "own" .. math.random(1, 1e6)
    local name = "fwsh-own-" .. math.random(1, 1e9)
    local ok, err = pcall(function()
      local _, made = H.fwsh_in(ns, { "--lab", lab, "-e", string.format("fwsh.netns.add(%q)", name) })
      assert.truthy(made)
      H.run({ "ip", "netns", "del", name })
      their_netns(name)
      H.fwsh_in(ns, { "down", lab })
      assert.is_true(is_theirs(name))
    end)
    H.run({ "ip", "netns", "del", name })
    assert(ok, err)
  end))
end)

describe("a root qdisc with fwsh's handle f5f5: that fwsh did not make", function()
  it("is not taken for fwsh's: not cleared, not replaced, not listed", H.ns(function(ns)
    H.run({ "ip", "link", "add", "oqa", "type", "veth", "peer", "name", "oqb" })
    foreign_tbf("oqa", "2mbit")
    local before = root("oqa")
    assert.are.equal("f5f5:", before.handle)
    local link = fwsh.link.get("oqa")
    assert.is_nil(link:impair())
    link:clear_impairment()
    H.raises(function() link:impair{ rate = "1mbit" } end, "fwsh did not make")
    assert.are.same(before, root("oqa"))
    for _, l in ipairs(fwsh.state().links) do
      if l.name == "oqa" then assert.is_nil(l.impair) end
    end
    H.run({ "ip", "link", "del", "oqa" })
  end))

  it("is not put back, nor removed, by a rollback", H.ns(function(ns)
    H.run({ "ip", "link", "add", "oqa", "type", "veth", "peer", "name", "oqb" })
    local link = fwsh.link.get("oqa")
    -- fwsh's impairment, then someone's f5f5: in its place: the rollback
    -- (no impairment before) must not remove theirs
    rolled_back(function()
      link:impair{ rate = "8mbit" }
      H.run({ "tc", "qdisc", "del", "dev", "oqa", "root" })
      foreign_tbf("oqa", "2mbit")
      error("boom")
    end)
    assert.are.equal(250000, root("oqa").options.rate)
    -- and with fwsh's impairment before: the rollback does not replace theirs
    H.run({ "tc", "qdisc", "del", "dev", "oqa", "root" })
    link:impair{ rate = "8mbit" }
    rolled_back(function()
      link:impair{ rate = "4mbit" }
      H.run({ "tc", "qdisc", "del", "dev", "oqa", "root" })
      foreign_tbf("oqa", "2mbit")
      error("boom")
    end)
    assert.are.equal(250000, root("oqa").options.rate)
    H.run({ "ip", "link", "del", "oqa" })
  end))
end)

-- The mount points under dir, deepest first (from /proc/self/mountinfo).
local function mounts_under(dir)
  local v = {}
  for line in io.lines("/proc/self/mountinfo") do
    local point = line:match("^%S+ %S+ %S+ %S+ (%S+)")
    if point and point:sub(1, #dir + 1) == dir .. "/" then v[#v + 1] = point end
  end
  table.sort(v, function(a, b) return #a > #b end)
  return v
end

-- A fake lab root and a victim directory with contents; fn(root, victim, lab)
-- runs, then everything is unmounted and removed, also when fn fails.
local function with_victim(fn)
  local root = H.run({ "mktemp", "-d" }):match("%S+")
  local victim = H.run({ "mktemp", "-d" }):match("%S+")
  H.write_file(victim .. "/precious", "keep me\n")
  H.run({ "mkdir", victim .. "/sub" })
  H.write_file(victim .. "/sub/deeper", "me too\n")
  local ok, err = pcall(fn, root, victim, "own" .. math.random(1, 1e6))
  for _, point in ipairs(mounts_under(root)) do H.run({ "umount", point }) end
  if #mounts_under(root) == 0 then H.run({ "rm", "-rf", "--", root, victim }) end
  assert(ok, err)
end

local function victim_intact(victim)
  assert.are.equal("keep me\n", H.read_file(victim .. "/precious"))
  assert.are.equal("me too\n", H.read_file(victim .. "/sub/deeper"))
end

local function fwsh_at(root, args)
  local argv = { "env", "FWSH_LAB_ROOT=" .. root, H.build .. "/fwsh" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return H.run(argv, { stderr = true })
end

-- A script that makes its lab directory and bind-mounts victim inside it.
local function mounting(victim, tail)
  return string.format([[
    local d = fwsh.lab_dir()
    assert(os.execute("mkdir " .. d .. "/s " .. d .. "/logs && mount --bind %s " .. d .. "/s"))
    io.open(d .. "/logs/x.log", "w"):close()
    %s]], victim, tail)
end

describe("a directory mounted inside a lab's directory", function()
  it("keeps its contents through a failed script's rollback and fwsh down", function()
    with_victim(function(root, victim, lab)
      local _, ok = fwsh_at(root, { "--lab", lab, "-e", mounting(victim, 'error("fail")') })
      assert.is_falsy(ok)
      victim_intact(victim)
      local dirs = mounts_under(root)
      assert.are.equal(1, #dirs, "the mount is still there")
      local out, down_ok = fwsh_at(root, { "down", lab })
      assert.is_falsy(down_ok)
      assert.truthy(out:find("mount point", 1, true), out)
      victim_intact(victim)
      -- unmounted, it goes with the next down
      H.run({ "umount", dirs[1] })
      out, down_ok = fwsh_at(root, { "down", lab })
      assert.truthy(down_ok, out)
      assert.are.equal("", H.run({ "ls", "-A", root }))
      victim_intact(victim)
    end)
  end)

  it("keeps its contents through fwsh.lab_dir_remove", function()
    with_victim(function(root, victim, lab)
      local out = fwsh_at(root, { "--lab", lab, "-e", mounting(victim, [[
        local ok, err = pcall(fwsh.lab_dir_remove, d)
        print(ok, err)]]) })
      assert.truthy(out:find("false", 1, true) and out:find("mount point", 1, true), out)
      victim_intact(victim)
      assert.is_nil(H.read_file(mounts_under(root)[1]:match("^(.*)/s$") .. "/logs/x.log"))
    end)
  end)
end)
