-- wait_spec.lua - fwsh.wait: woken by real link and FDB events (counted),
-- with a deadline, surviving an event overrun. The changes it waits for are
-- made by another process (ip, bridge), as they would be by a daemon.
local H = require "helper"
local fwsh = H.fwsh

local function later(ns, delay, ...)
  -- a shell here is the spec's, to make a change from outside after a delay
  local cmd = { "sleep " .. delay }
  for _, c in ipairs({ ... }) do cmd[#cmd + 1] = c end
  local argv = { "ip", "netns", "exec", ns, "sh", "-c", table.concat(cmd, "; ") }
  if os.getenv("LD_PRELOAD") then argv = { "env", "-u", "LD_PRELOAD", table.unpack(argv) } end
  return fwsh.proc.spawn(argv)
end

describe("fwsh.wait", function()
  it("waits for carrier, woken by the link event", H.ns(function(ns)
    fwsh.veth.add("va", "vb", { up = true })
    local p <close> = later(ns, 0.3, "ip link set vb up")
    local t, stats = fwsh.wait{ link = "va", carrier = true, timeout = 5 }
    assert.truthy(t >= 0.2 and t < 3, "took " .. t)
    assert.truthy(stats.link_events > 0)
    -- event-driven: checked on events, not in a loop
    assert.truthy(stats.checks <= stats.link_events + stats.neigh_events + 1)
    assert.is_true(H.link(ns, "va").flags[1] ~= nil and table.concat(H.link(ns, "va").flags, ","):find("LOWER_UP") ~= nil)
  end))

  it("raises ETIMEDOUT when the state does not come", H.ns(function(ns)
    fwsh.veth.add("va", "vb", { up = true })
    local t0 = fwsh.proc.clock()
    local err = H.raises(function() fwsh.wait{ link = "va", carrier = true, timeout = 0.3 } end,
                         "wait link va: Connection timed out")
    assert.are.equal("ETIMEDOUT", err.code)
    local took = fwsh.proc.clock() - t0
    assert.truthy(took >= 0.29 and took < 2, "took " .. took)
  end))

  it("waits for a link to go away, and for up and operstate", H.ns(function(ns)
    fwsh.veth.add("va", "vb", { up = true })
    local p <close> = later(ns, 0.1, "ip link set vb up")
    fwsh.wait{ link = "va", operstate = "up", timeout = 5 }
    local q <close> = later(ns, 0.1, "ip link del va")
    fwsh.wait{ link = "vb", exists = false, timeout = 5 }
    assert.is_nil(H.link(ns, "vb"))
  end))

  it("sees a MAC move to another bridge port (the FDB)", H.ns(function(ns)
    fwsh.bridge.add("br1", { grounding = false })
    fwsh.veth.add("p1", "q1")
    fwsh.veth.add("p2", "q2")
    fwsh.bridge.get("br1"):attach("p1", "p2")
    local mac = "00:00:5e:00:01:33"
    H.run({ "bridge", "-n", ns, "fdb", "add", mac, "dev", "p1", "master", "static" })
    fwsh.wait{ fdb = mac, bridge = "br1", port = "p1", timeout = 2 }
    local p <close> = later(ns, 0.2, "bridge fdb del " .. mac .. " dev p1 master",
                            "bridge fdb add " .. mac .. " dev p2 master static")
    local t, stats = fwsh.wait{ fdb = mac, bridge = "br1", not_port = "p1", timeout = 5 }
    assert.truthy(t >= 0.1)
    assert.truthy(stats.neigh_events > 0)
    local seen
    for _, e in ipairs(H.bridge(ns, "fdb", "show", "br", "br1")) do
      if e.mac == mac then seen = e.ifname end
    end
    assert.are.equal("p2", seen)
    H.raises(function() fwsh.wait{ fdb = "nonsense", bridge = "br1" } end, "fdb= needs a MAC address")
  end))

  it("resyncs by dump after an event overrun (ENOBUFS)", H.ns(function(ns)
    fwsh.veth.add("va", "vb", { up = true })
    local calls = 0
    -- The first check makes thousands of events while nothing reads the
    -- monitor: its socket overruns; the next check reads the state anew.
    local batch = os.tmpname()
    local f = io.open(batch, "w")
    for i = 1, 4000 do f:write(string.format("link set lo alias event-%d\n", i)) end
    f:write("link set vb up\n")
    f:close()
    local t, stats = fwsh.wait{ fn = function()
      calls = calls + 1
      if calls == 1 then
        local argv = { "ip", "-n", ns, "-batch", batch }
        if os.getenv("LD_PRELOAD") then argv = { "env", "-u", "LD_PRELOAD", table.unpack(argv) } end
        assert(fwsh.proc.run(argv, { timeout = 120 }).ok)
        return false
      end
      local l = H.link(ns, "va")
      return table.concat(l.flags, ","):find("LOWER_UP") ~= nil
    end, interval = 1, timeout = 60 }
    os.remove(batch)
    assert.truthy(stats.overruns > 0, "no overrun: " .. stats.link_events .. " events read")
    assert.are.equal(2, calls)
  end))

  it("waits for a command to succeed, in a namespace", H.ns(function(ns)
    local file = os.tmpname()
    os.remove(file)
    local p <close> = later(ns, 0.2, "touch " .. file)
    local t = fwsh.wait{ run = { "test", "-e", file }, netns = ns, interval = 0.02, timeout = 5 }
    assert.truthy(t >= 0.1)
    os.remove(file)
  end))

  it("passes on an error raised by fn, and checks its arguments", function()
    H.raises(function() fwsh.wait{ fn = function() error("boom") end } end, "boom")
    H.raises(function() fwsh.wait{ link = "a", fdb = "00:00:00:00:00:01", bridge = "b" } end,
             "exactly one of")
    H.raises(function() fwsh.wait{} end, "exactly one of")
    H.raises(function() fwsh.wait{ link = "lo", carrier = true, nope = 1 } end, "unknown option 'nope'")
    H.raises(function() fwsh.wait{ link = "lo", netns = "no-such-ns" } end, "no namespace no-such-ns")
  end)
  it("leaves no descriptor behind when it times out in another namespace", H.ns(function(ns)
    local name = ns .. "-w"
    fwsh.netns.add(name)
    local function fds()
      local n = 0
      local f = io.open("/proc/self/stat")
      local pid = f:read("a"):match("^%d+")
      f:close()
      local ls = io.popen("ls /proc/" .. pid .. "/fd")
      for _ in ls:lines() do n = n + 1 end
      ls:close()
      return n
    end
    pcall(fwsh.wait, { link = "nope0", netns = name, timeout = 0 }) -- what a first call caches
    local before = fds()
    for _ = 1, 20 do
      assert.is_false(pcall(fwsh.wait, { link = "nope0", netns = name, timeout = 0 }))
    end
    local after = fds()
    fwsh.netns.delete(name)
    assert.are.equal(before, after)
  end))
end)
