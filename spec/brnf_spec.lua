-- brnf_spec.lua - fwsh.brnf, checked against /proc/sys/net/bridge read by
-- `cat` inside each namespace (ip netns exec), never through fwsh.
local H = require "helper"
local fwsh = H.fwsh

local NAMES = { "iptables", "ip6tables", "arptables" }

local function has_brnf()
  local f = io.open("/proc/sys/net/bridge/bridge-nf-call-iptables", "r")
  if f then f:close() return true end
  return false
end

-- The switch as the kernel shows it in ns (nil: the sandbox's own namespace).
local function switch(ns, name)
  local argv = { "cat", "/proc/sys/net/bridge/bridge-nf-call-" .. name }
  if ns then argv = { "ip", "netns", "exec", ns, table.unpack(argv) } end
  local out, ok = H.run(argv)
  assert(ok, "cannot read " .. argv[#argv])
  return tonumber(out)
end

describe("fwsh.brnf", function()
  if not has_brnf() then
    it("says br_netfilter is not loaded", H.ns(function()
      H.raises(function() fwsh.brnf.get("iptables") end,
               "brnf.get iptables: No such file or directory: br_netfilter is not loaded")
      H.raises(function() fwsh.brnf.set("iptables", true) end, "br_netfilter is not loaded")
    end))
    return
  end

  it("reads each switch as /proc/sys shows it", H.ns(function(ns)
    local all = fwsh.brnf.get()
    for _, name in ipairs(NAMES) do
      assert.are.equal(switch(ns, name) == 1, all[name], name)
      assert.are.equal(all[name], fwsh.brnf.get(name))
    end
  end))

  it("sets each switch in this namespace only", function()
    -- Read here, in the namespace the specs run in, before and after.
    local outside = {}
    for _, name in ipairs(NAMES) do outside[name] = switch(nil, name) end
    H.in_netns(function(ns)
      for _, name in ipairs(NAMES) do
        local want = switch(ns, name) == 0
        assert.is_true(fwsh.brnf.set(name, want))
        assert.are.equal(want and 1 or 0, switch(ns, name), name)
        -- Again: already so, nothing changes.
        assert.is_false(fwsh.brnf.set(name, want))
        assert.are.equal(want and 1 or 0, switch(ns, name), name)
      end
    end)
    for _, name in ipairs(NAMES) do
      assert.are.equal(outside[name], switch(nil, name), "the namespace outside changed: " .. name)
    end
  end)

  it("sets several from a table and says which changed", H.ns(function(ns)
    fwsh.brnf.set("iptables", true)
    fwsh.brnf.set("arptables", true)
    local changed = fwsh.brnf.set{ iptables = true, arptables = false }
    assert.are.same({ iptables = false, arptables = true }, changed)
    assert.are.equal(1, switch(ns, "iptables"))
    assert.are.equal(0, switch(ns, "arptables"))
  end))

  it("is undone when a transaction fails", H.ns(function(ns)
    fwsh.brnf.set("ip6tables", true)
    H.raises(function()
      fwsh.transaction(function()
        fwsh.brnf.set("ip6tables", false)
        assert.are.equal(0, switch(ns, "ip6tables"))
        error("stop here")
      end)
    end, "stop here")
    assert.are.equal(1, switch(ns, "ip6tables"))
  end))

  it("checks its arguments", function()
    H.raises(function() fwsh.brnf.get("ebtables") end, "bad argument #1", "iptables, ip6tables or arptables expected")
    H.raises(function() fwsh.brnf.set("iptables", 1) end, "bad argument #2", "boolean expected")
    H.raises(function() fwsh.brnf.set{ iptable = true } end, "unknown option 'iptable'")
    H.raises(function() fwsh.brnf.set{ iptables = "yes" } end, "field 'iptables': boolean expected")
  end)
end)
