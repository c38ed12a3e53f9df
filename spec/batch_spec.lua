-- batch_spec.lua - fwsh.batch: bridges and taps queued by fn, made when it
-- returns, each kind of request in a run of its own; nothing made if fn or
-- the kernel refuses. State read back with `ip -j -d link` and `bridge -j link`.
local H = require "helper"
local fwsh = H.fwsh

-- n bridges bNN, each with taps bNN-1..bNN-t; returns the bridge handles.
local function lab(n, t)
  local brs = {}
  for i = 1, n do
    local br = fwsh.bridge.add(string.format("b%02d", i))
    brs[i] = br
    for k = 1, t do fwsh.tap.add(string.format("b%02d-%d", i, k), { bridge = br }) end
  end
  return brs
end

describe("fwsh.batch", function()
  it("makes what fn adds when fn returns: bridges up, taps up, tagged, ports", H.ns(function(ns)
    fwsh.lab("bat")
    local seen_inside
    local brs, word = fwsh.batch(function(x)
      local b = lab(3, 2)
      seen_inside = H.link_names(ns)
      return b, x
    end, "done")
    fwsh.lab("default")
    assert.are.same({ "lo" }, seen_inside)
    assert.are.equal("done", word)
    local links = H.links(ns)
    for i = 1, 3 do
      local name = string.format("b%02d", i)
      local br = links[name]
      assert.are.equal("bridge", br.linkinfo.info_kind)
      assert.is_true(H.has_flag(br, "UP"))
      assert.are.equal("fwsh:bat", br.ifalias)
      assert.are.same({ name .. "-1", name .. "-2" }, H.ports(ns, name))
      for k = 1, 2 do
        local tap = links[name .. "-" .. k]
        assert.are.equal("tun", tap.linkinfo.info_kind)
        assert.is_true(H.has_flag(tap, "UP"))
        assert.are.equal("fwsh:bat", tap.ifalias)
        assert.are.equal(br.group, tap.group)
      end
      -- the handles fn got work now, on the links made
      assert.are.equal(br.ifindex, brs[i].ifindex)
      assert.are.equal(name, brs[i].name)
    end
  end))

  it("sends each kind of request in one sendmsg: creates, tags, tap tags, tap settings", H.ns(function(ns)
    local script = os.tmpname()
    H.write_file(script, [[
      fwsh.batch(function()
        for i = 1, 10 do
          local br = fwsh.bridge.add("s" .. i)
          fwsh.tap.add("s" .. i .. "a", { bridge = br })
          fwsh.tap.add("s" .. i .. "b", { bridge = "s" .. i })
        end
      end)
    ]])
    local trace = os.tmpname()
    -- (LeakSanitizer, in the sanitizer build, cannot work under ptrace)
    local out, ok = H.run({ "env", "ASAN_OPTIONS=detect_leaks=0", "strace", "-e", "trace=sendmsg",
                            "-o", trace, H.build .. "/fwsh", "--netns", ns, script },
                          { stderr = true })
    local text = H.read_file(trace)
    os.remove(trace)
    os.remove(script)
    assert.is_true(ok, out)
    local sends = 0
    for line in text:gmatch("[^\n]+") do
      if line:find("sendmsg(", 1, true) and line:find("RTM_NEWLINK", 1, true) then sends = sends + 1 end
    end
    assert.are.equal(4, sends)
    assert.are.equal(31, #H.link_names(ns))
    assert.are.equal(20, #H.bridge(ns, "link", "show"))
  end))

  it("refuses a name taken, in the kernel or in the batch, at once", H.ns(function(ns)
    H.run({ "ip", "-n", ns, "link", "add", "taken", "type", "bridge" })
    local at_once = {}
    local err = H.raises(function()
      fwsh.batch(function()
        fwsh.bridge.add("b1")
        local ok, e = pcall(fwsh.tap.add, "taken")
        at_once[#at_once + 1] = not ok and e.code
        ok, e = pcall(fwsh.tap.add, "b1")
        at_once[#at_once + 1] = not ok and e.code
        error("stop here")
      end)
    end, "stop here")
    assert.is_string(err)
    assert.are.same({ "EEXIST", "EEXIST" }, at_once)
    -- fn raised: nothing of the batch was made
    assert.are.same({ "lo", "taken" }, H.link_names(ns))
  end))

  it("refuses any other change inside, and a bridge with addresses", H.ns(function(ns)
    H.run({ "ip", "-n", ns, "link", "add", "d0", "type", "bridge" })
    fwsh.batch(function()
      local e = H.raises(function() fwsh.link.get("d0"):set({ up = true }) end, "do this after it")
      assert.are.equal("EOPNOTSUPP", e.code)
      e = H.raises(function() fwsh.bridge.add("b2", { address = "10.0.0.1/24" }) end,
                   "bridge.add b2", "without addresses")
      assert.are.equal("EOPNOTSUPP", e.code)
      local br = fwsh.bridge.add("b3")
      H.raises(function() return br:set({ up = false }) end, "made when its fwsh.batch ends")
      assert.are.equal("b3", br.name)
    end)
    assert.are.same({ "b3", "d0", "lo" }, H.link_names(ns))
    assert.is_false(H.has_flag(H.link(ns, "d0"), "UP"))
  end))

  it("removes all it made when the kernel refuses one, and names that one", H.ns(function(ns)
    local brs
    -- 100 links: more than one sendmsg's worth, made and removed again
    local err = H.raises(function()
      fwsh.batch(function()
        brs = lab(25, 3)
        -- made by someone else after it was queued: the kernel refuses the tap
        H.run({ "ip", "-n", ns, "link", "add", "b25-2", "type", "bridge" })
      end)
    end, "tap.add b25-2", "File exists")
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("tap.add", err.op)
    -- the other one's link is left as it was
    assert.are.same({ "b25-2", "lo" }, H.link_names(ns))
    assert.are.equal("bridge", H.link(ns, "b25-2").linkinfo.info_kind)
    assert.is_nil(H.link(ns, "b25-2").ifalias)
    assert.has_error(function() return brs[1]:set({ up = false }) end)
  end))

  it("removes all it made when a bridge is refused, never the other one's link", H.ns(function(ns)
    local err = H.raises(function()
      fwsh.batch(function()
        lab(3, 1)
        H.run({ "ip", "-n", ns, "link", "add", "b02", "type", "bridge" })
      end)
    end, "bridge.add b02", "File exists")
    assert.are.equal("EEXIST", err.code)
    assert.are.same({ "b02", "lo" }, H.link_names(ns))
  end))

  it("is undone by the transaction it is in, and joins an outer batch", H.ns(function(ns)
    H.raises(function()
      fwsh.transaction(function()
        fwsh.batch(function()
          lab(1, 1)
          fwsh.batch(function() fwsh.tap.add("inner", { bridge = "b01" }) end)
          assert.are.same({ "lo" }, H.link_names(ns))
        end)
        assert.are.same({ "b01", "b01-1", "inner", "lo" }, H.link_names(ns))
        error("later")
      end)
    end, "later")
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("runs unbatched in a dry run, and its plan makes the same links", H.ns(function(ns)
    local out, ok = H.fwsh_cmd({ "--netns", ns, "--dry-run", "-e",
      "fwsh.batch(function() local b = fwsh.bridge.add('p1') fwsh.tap.add('p1t', {bridge = b}) end)" })
    assert.is_true(ok, out)
    assert.truthy(out:find("ip link add dev p1 ", 1, true), out)
    assert.truthy(out:find("p1t", 1, true), out)
    assert.are.same({ "lo" }, H.link_names(ns))
  end))
end)
