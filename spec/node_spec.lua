-- node_spec.lua - lab nodes (fwsh.node): the netns backend's wiring and
-- teardown, and the qemu backend's wiring proved on the host side: the tap
-- gains carrier when qemu opens it and loses it when qemu exits, QMP
-- set_link is accepted for the NIC (and refused for one that does not exist).
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local node = require "fwsh.node"

local function tmpdir()
  local d = fwsh.proc.run({ "mktemp", "-d" }).out:match("%S+")
  return d
end

local function flags(ns, name)
  local l = H.link(ns, name)
  return l and table.concat(l.flags, ",") or nil
end

local function alive(pid)
  local _, ok = H.run({ "kill", "-0", tostring(pid) })
  return ok == true
end

local wrapper = os.getenv("LD_PRELOAD") and { "env", "-u", "LD_PRELOAD" } or nil

describe("fwsh.node", function()
  it("netns: a namespace with ports as veths on the bridges, commands, daemons, teardown", H.ns(function(ns)
    fwsh.bridge.add("br1", { grounding = false })
    local dir = tmpdir()
    local names = { "n1-" .. math.random(1, 1e6), "n2-" .. math.random(1, 1e6) }
    local a = node.new{ name = names[1], dir = dir,
                        ports = { { name = "eth1", bridge = "br1", tap = "net11", address = "10.9.0.1/24" } } }
    local b = node.new{ name = names[2], dir = dir,
                        ports = { { name = "eth1", bridge = "br1", tap = "net12", address = "10.9.0.2/24" } } }
    a:up()
    b:up()
    assert.are.same({ "net11", "net12" }, H.ports(ns, "br1"))
    assert.are.equal("10.9.0.1/24", H.addrs(names[1], "eth1")[1])
    local r = a:run(wrapper and { "env", "-u", "LD_PRELOAD", "ping", "-c1", "-W2", "10.9.0.2" }
                             or { "ping", "-c1", "-W2", "10.9.0.2" })
    assert.is_true(r.ok, r.out .. r.err)
    local d = b:spawn({ "sleep", "100" })
    local pid = d:pid()
    -- a daemon: started now (the node is up), killed by stop, started again by start
    b:daemon("sleeper", { "sleep", "200" })
    local first = b.daemons.sleeper.proc:pid()
    assert.is_true(alive(first))
    b:freeze()
    local function state(p) return (io.open("/proc/" .. p .. "/stat"):read("a")):match("^%d+ %b() (%a)") end
    fwsh.wait{ fn = function() return state(first) == "T" end, timeout = 2, interval = 0.01 }
    b:thaw()
    fwsh.wait{ fn = function() return state(first) ~= "T" end, timeout = 2, interval = 0.01 }
    b:stop()
    assert.is_false(alive(first))
    assert.falsy(flags(ns, "net12"):find("UP,", 1, true))
    b:start()
    local second = b.daemons.sleeper.proc:pid()
    assert.are_not.equal(first, second)
    assert.is_true(alive(second))
    assert.truthy(flags(ns, "net12"):find("UP", 1, true))
    -- cut: the host end goes down, the node sees no carrier
    a:cut("eth1")
    fwsh.wait{ link = "eth1", carrier = false, netns = names[1], timeout = 2 }
    a:restore("eth1")
    fwsh.wait{ link = "eth1", carrier = true, netns = names[1], timeout = 2 }
    b:down()
    a:down()
    assert.is_false(alive(pid))
    assert.is_false(alive(second))
    assert.is_nil(H.link(ns, "net11"))
    assert.is_nil(H.link(ns, "net12"))
    assert.is_false(fwsh.netns.exists(names[1]))
    assert.is_false(fwsh.netns.exists(names[2]))
    fwsh.proc.run({ "rm", "-rf", dir })
  end))

  it("netns: down() after a failed up() removes only what up() made", H.ns(function(ns)
    fwsh.bridge.add("br1", { grounding = false })
    H.run({ "ip", "link", "add", "net12", "type", "veth", "peer", "name", "fpeer" })
    local name = "n3-" .. math.random(1, 1e6)
    H.run({ "ip", "netns", "add", name .. "x" })
    local n = node.new{ name = name, dir = tmpdir(), ports = {
      { name = "eth1", bridge = "br1", tap = "net11" },
      { name = "eth2", bridge = "br1", tap = "net12" } } } -- net12 is someone else's
    local ok, err = pcall(n.up, n)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("net12", 1, true), tostring(err))
    n:down()
    assert.is_nil(H.link(ns, "net11"))                    -- it made this one
    assert.is_not_nil(H.link(ns, "net12"))                -- not this one
    assert.is_not_nil(H.link(ns, "fpeer"))
    -- A node named as a namespace that was there fails in up() and leaves it.
    local m = node.new{ name = name .. "x", dir = tmpdir(), ports = {} }
    assert.is_false(pcall(m.up, m))
    m:down()
    local names = {}
    for _, x in ipairs(H.netns_names()) do names[x] = true end
    assert.is_true(names[name .. "x"])
    assert.is_nil(names[name])
    H.run({ "ip", "netns", "delete", name .. "x" })
  end))

  it("refuses names that do not fit", function()
    H.raises(function() node.new{ name = "a;b", dir = "/tmp" } end, "node: name")
    H.raises(function() node.new{ name = "a", dir = "/tmp", ports = { { name = "eth0", bridge = "b\n", tap = "t" } } } end,
             "node: bridge")
    H.raises(function() node.new{ name = "a", dir = "/tmp", backend = "lxc" } end, "backend")
  end)

  it("qemu: carrier when qemu opens the tap, none after it exits; QMP set_link", H.ns(function(ns)
    local _, has = H.run({ "sh", "-c", "command -v qemu-system-x86_64" })
    if not has then pending("qemu-system-x86_64 is not installed") return end
    fwsh.bridge.add("br1", { grounding = false })
    fwsh.tap.add("net11", { bridge = "br1" })
    H.settle(ns) -- NO-CARRIER follows operstate, which the kernel sets a moment later
    assert.truthy(flags(ns, "net11"):find("NO-CARRIER", 1, true))
    local dir = tmpdir()
    local vm = node.new{ name = "vm1", backend = "qemu", dir = dir, qemu = { wrapper = wrapper },
                         ports = { { name = "eth0", bridge = "br1", tap = "net11" } } }
    local ok, err = pcall(function()
      vm:up()
      assert.are.equal(io.open("/dev/kvm") and "kvm" or "tcg", vm.accel)
      fwsh.wait{ link = "net11", carrier = true, timeout = 10 }
      assert.truthy(flags(ns, "net11"):find("LOWER_UP", 1, true))
      assert.falsy(flags(ns, "net11"):find("NO-CARRIER", 1, true))
      assert.truthy(vm:qmp("query-status"):find('"running"', 1, true))
      -- set_link takes the guest's link down; what the host can see of it
      -- is QMP's answer: the tap keeps its carrier (qemu does not change it).
      assert.are.equal('{"return": {}}', vm:qmp("set_link", { name = "nic-eth0", up = false }))
      vm:restore("eth0")
      vm:cut("eth0")
      H.raises(function() vm:qmp("set_link", { name = "nic-nope", up = false }) end, "qmp set_link", "not found")
      assert.truthy(flags(ns, "net11"):find("LOWER_UP", 1, true))
      local pid = vm.vm:pid()
      vm:down()
      assert.is_false(alive(pid))
      fwsh.wait{ link = "net11", carrier = false, timeout = 10 }
      assert.truthy(flags(ns, "net11"):find("NO-CARRIER", 1, true))
    end)
    pcall(vm.down, vm)
    fwsh.proc.run({ "rm", "-rf", dir })
    if not ok then error(err, 0) end
  end))

  -- The last carrier line the guest printed on its console ("carrier=1").
  local function guest_carrier(console)
    local text = H.read_file(console) or ""
    local last
    for v in text:gmatch("carrier=(%d)") do last = v end
    return last
  end

  it("qemu: QMP set_link takes a booted guest's link down and up again", H.ns(function(ns)
    -- tools/guest-image.sh (run by test.sh) makes a kernel and an initramfs whose
    -- init prints eth0's carrier on the serial console every 0.1 s.
    local img = os.getenv("FWSH_GUEST") or (H.root .. "/build/guest")
    if not (H.read_file(img .. "/vmlinuz") and H.read_file(img .. "/initrd.gz")) then
      pending("no guest image in " .. img .. " (tools/guest-image.sh makes one)")
      return
    end
    fwsh.bridge.add("br1", { grounding = false })
    fwsh.tap.add("net11", { bridge = "br1" })
    local dir = tmpdir()
    local console = dir .. "/console"
    -- TCG: this machine's nested KVM runs qemu but not a guest kernel.
    local vm = node.new{ name = "vm2", backend = "qemu", dir = dir,
                         qemu = { wrapper = wrapper, accel = "tcg", memory = 256, args = {
                           "-kernel", img .. "/vmlinuz", "-initrd", img .. "/initrd.gz",
                           "-append", "console=ttyS0 quiet panic=-1", "-no-reboot",
                           "-serial", "file:" .. console } },
                         ports = { { name = "eth0", bridge = "br1", tap = "net11" } } }
    local ok, err = pcall(function()
      vm:up()
      assert.truthy(H.wait_for(function() return guest_carrier(console) == "1" end, 120),
                    "the guest booted and sees its link up")
      vm:cut("eth0") -- QMP set_link nic-eth0 false
      assert.truthy(H.wait_for(function() return guest_carrier(console) == "0" end, 10),
                    "the guest sees its link down")
      vm:restore("eth0")
      assert.truthy(H.wait_for(function() return guest_carrier(console) == "1" end, 10),
                    "and up again")
    end)
    pcall(vm.down, vm)
    fwsh.proc.run({ "rm", "-rf", dir })
    if not ok then error(err, 0) end
  end))
end)
