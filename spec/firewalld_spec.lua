-- firewalld_spec.lua - fwsh.firewalld against a real firewalld, started for
-- these specs by tools/firewalld-sandbox.sh: a private system bus, firewalld
-- with its configuration in a temporary directory, in a throwaway network
-- namespace (its nftables rules die with it). Read back through firewalld
-- itself (firewall-cmd on the same bus), its saved zone files, and the
-- kernel's nftables ruleset in that namespace.
local H = require "helper"
local fwsh = H.fwsh

local Sandbox = require "firewalld_sandbox"

local read = H.read_file

describe("fwsh.firewalld", function()
  if Sandbox.missing then
    pending("needs " .. Sandbox.missing .. " (tools/deps.sh installs firewalld and dbus-daemon)")
    return
  end

  local fw

  setup(function()
    fw = Sandbox.start_running(60)
    -- The seed's bridges, in firewalld's namespace.
    fw:run(function()
      for _, b in ipairs({ "br0", "br1", "br2" }) do fwsh.bridge.add(b, { grounding = false }) end
    end)
  end)

  teardown(function()
    if fw then fw:stop() end
  end)

  local function opts(extra)
    local o = { bus = fw.bus }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  local function list(out)
    local t = {}
    for w in out:gmatch("%S+") do t[#t + 1] = w end
    table.sort(t)
    return t
  end

  it("is running, as firewalld says", function()
    assert.are.equal("running", (fw:cmd("--state")))
    assert.is_true(fwsh.firewalld.running(opts()))
  end)

  it("puts br1 in the trusted zone at runtime, read back through firewalld", function()
    local changed = fwsh.firewalld.add("trusted", "br1", opts())
    assert.are.same({ runtime = true }, changed)
    assert.are.same({ "br1" }, list((fw:cmd("--zone=trusted", "--list-interfaces"))))
    assert.are.equal("trusted", (fw:cmd("--get-zone-of-interface=br1")))
    -- firewalld put it in the kernel: trusted's chains take br1's packets.
    assert.truthy(fw:ruleset():find('iifname "br1" goto filter_IN_trusted', 1, true))
    -- Not permanently: the saved configuration does not have it.
    assert.are.same({}, list((fw:cmd("--permanent", "--zone=trusted", "--list-interfaces"))))
    assert.are.same({ "br1" }, fwsh.firewalld.interfaces("trusted", opts()))
    assert.are.equal("trusted", fwsh.firewalld.zone_of("br1", opts()))
  end)

  it("changes nothing when the interface is there already", function()
    fwsh.firewalld.add("trusted", "br1", opts())
    local before = fw:ruleset()
    assert.are.same({ runtime = false }, fwsh.firewalld.add("trusted", "br1", opts()))
    assert.are.equal(before, fw:ruleset())
  end)

  it("puts br0 in trusted permanently too, in firewalld's saved zone file", function()
    local changed = fwsh.firewalld.add("trusted", "br0", opts{ permanent = true })
    assert.are.same({ runtime = true, permanent = true }, changed)
    local saved = list((fw:cmd("--permanent", "--zone=trusted", "--list-interfaces")))
    assert.truthy(table.concat(saved, " "):find("%f[%w]br0%f[%W]"), table.concat(saved, " "))
    local xml = read(fw.dir .. "/etc/zones/trusted.xml")
    assert.truthy(xml and xml:find('<interface name="br0"/>', 1, true), xml)
    assert.are.same({ "br0" }, fwsh.firewalld.interfaces("trusted", opts{ permanent = true }))
    assert.are.equal("trusted", fwsh.firewalld.zone_of("br0", opts{ permanent = true }))
    -- Again: nothing to do in either.
    assert.are.same({ runtime = false, permanent = false },
                    fwsh.firewalld.add("trusted", "br0", opts{ permanent = true }))
  end)

  it("refuses an interface in another zone unless asked to move it", function()
    assert.is_true(select(2, fw:cmd("--zone=public", "--add-interface=br2")))
    local err = H.raises(function() fwsh.firewalld.add("trusted", "br2", opts()) end,
                         "firewalld.add br2 to trusted: File exists: br2 is in zone public")
    assert.are.equal("EEXIST", err.code)
    assert.are.equal("public", (fw:cmd("--get-zone-of-interface=br2")))
    assert.are.same({ runtime = true }, fwsh.firewalld.add("trusted", "br2", opts{ move = true }))
    assert.are.equal("trusted", (fw:cmd("--get-zone-of-interface=br2")))
  end)

  it("moves an interface between zones in the permanent configuration", function()
    assert.is_true(select(2, fw:cmd("--permanent", "--zone=internal", "--add-interface=net11")))
    H.raises(function() fwsh.firewalld.add("trusted", "net11", opts{ runtime = false, permanent = true }) end,
             "net11 is in zone internal (permanent)")
    fwsh.firewalld.add("trusted", "net11", opts{ runtime = false, permanent = true, move = true })
    assert.are.equal("trusted", (fw:cmd("--permanent", "--get-zone-of-interface=net11")))
    assert.are.same({}, list((fw:cmd("--permanent", "--zone=internal", "--list-interfaces"))))
  end)

  it("removes interfaces, runtime and permanent, and then has nothing to remove", function()
    fwsh.firewalld.add("trusted", "br0", opts{ permanent = true })
    local changed = fwsh.firewalld.remove("trusted", "br0", opts{ permanent = true })
    assert.are.same({ runtime = true, permanent = true }, changed)
    local rt = list((fw:cmd("--zone=trusted", "--list-interfaces")))
    for _, i in ipairs(rt) do assert.are_not.equal("br0", i) end
    local pm = list((fw:cmd("--permanent", "--zone=trusted", "--list-interfaces")))
    for _, i in ipairs(pm) do assert.are_not.equal("br0", i) end
    assert.is_nil(fwsh.firewalld.zone_of("br0", opts()))
    assert.are.same({ runtime = false, permanent = false },
                    fwsh.firewalld.remove("trusted", "br0", opts{ permanent = true }))
  end)

  it("says which zone does not exist", function()
    local err = H.raises(function() fwsh.firewalld.add("nosuchzone", "br1", opts{ runtime = false, permanent = true }) end,
                         "firewalld.add br1 to nosuchzone: No such file or directory", "nosuchzone")
    assert.are.equal("ENOENT", err.code)
    H.raises(function() fwsh.firewalld.interfaces("nosuchzone", opts()) end,
             "firewalld.interfaces nosuchzone: No such file or directory")
    H.raises(function() fwsh.firewalld.remove("nosuchzone", "br1", opts()) end, "no zone nosuchzone")
    -- Also for an interface that is in another zone already.
    fwsh.firewalld.add("trusted", "br1", opts())
    H.raises(function() fwsh.firewalld.add("nosuchzone", "br1", opts()) end,
             "firewalld.add br1 to nosuchzone: No such file or directory: firewalld has no zone nosuchzone")
  end)

  it("checks names and options before asking", function()
    H.raises(function() fwsh.firewalld.add("trusted", "a/b", opts()) end, "firewalld.add a/b to trusted: Invalid argument")
    H.raises(function() fwsh.firewalld.add("bad zone", "br1", opts()) end, "is not a zone name")
    H.raises(function() fwsh.firewalld.add("trusted", "br1", opts{ runtime = false }) end,
             "name runtime, permanent or both")
    H.raises(function() fwsh.firewalld.add("trusted", "br1", { zone = "x" }) end, "unknown option 'zone'")
    H.raises(function() fwsh.firewalld.remove("trusted", "br1", opts{ move = true }) end, "unknown option 'move'")
    H.raises(function() fwsh.firewalld.add("trusted") end, "bad argument #2")
  end)

  it("says when there is no bus, or no firewalld on it", function()
    local err = H.raises(function() fwsh.firewalld.add("trusted", "br1", { bus = "unix:path=" .. fw.dir .. "/nobus" }) end,
                         "firewalld.add br1 to trusted: Connection refused: no D-Bus bus at unix:path=")
    assert.are.equal("ECONNREFUSED", err.code)
    local ok, why = fwsh.firewalld.running({ bus = "unix:path=" .. fw.dir .. "/nobus" })
    assert.is_false(ok)
    assert.truthy(why:find("no D-Bus bus", 1, true))
    local bare = Sandbox.start{ bus_only = true }
    local started = bare:wait_bus(20)
    local ok2, pcall_err = pcall(function()
      assert.is_true(started, "the bare bus did not start: " .. bare:logs())
      H.raises(function() fwsh.firewalld.add("trusted", "br1", { bus = bare.bus }) end,
               "firewalld.add br1 to trusted: No such process: firewalld is not running")
      assert.is_false((fwsh.firewalld.running({ bus = bare.bus })))
    end)
    bare:stop()
    assert(ok2, pcall_err)
  end)
end)
