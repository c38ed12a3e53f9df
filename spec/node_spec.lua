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
    local dirs = { tmpdir(), tmpdir() }
    local n = node.new{ name = name, dir = dirs[1], ports = {
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
    local m = node.new{ name = name .. "x", dir = dirs[2], ports = {} }
    assert.is_false(pcall(m.up, m))
    m:down()
    local names = {}
    for _, x in ipairs(H.netns_names()) do names[x] = true end
    assert.is_true(names[name .. "x"])
    assert.is_nil(names[name])
    H.run({ "ip", "netns", "delete", name .. "x" })
    H.run({ "rm", "-rf", "--", dirs[1], dirs[2] })
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
    local vm = node.new{ name = "vm1", backend = "qemu", dir = dir, qemu = { wrapper = wrapper, image = false },
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

  -- lab/guest/image.sh (run by test.sh into build/guest, FWSH_GUEST) makes
  -- the guest image: Debian's kernel, an initramfs whose init is fwsh-agent.
  local function image()
    local img, why = H.guest_image()
    if not img then pending(why) return nil end
    return img
  end

  it("qemu: a booted guest runs what the host asks through its agent; QMP set_link takes its link down and up", H.ns(function(ns)
    local img = image()
    if not img then return end
    fwsh.bridge.add("br1", { grounding = false })
    fwsh.tap.add("net11", { bridge = "br1" })
    local dir = tmpdir()
    -- TCG: this machine's nested KVM runs qemu but not a guest kernel.
    local vm = node.new{ name = "vm2", backend = "qemu", dir = dir,
                         qemu = { wrapper = wrapper, accel = "tcg", image = img },
                         sysctls = { { "net/ipv4/ip_forward", "1" } },
                         ports = { { name = "eth0", bridge = "br1", tap = "net11", address = "10.9.0.2/24" } },
                         routes = { { dst = "10.8.0.0/24", via = "10.9.0.1" } } }
    local ok, err = pcall(function()
      vm:up()
      -- the boot file's steps, read back from the guest's kernel
      local r = vm:run{ "ip", "-o", "-4", "addr", "show", "dev", "eth0" }
      assert.truthy(r.ok and r.out:find("10.9.0.2/24", 1, true), r.out .. r.err)
      assert.truthy(vm:run{ "ip", "route", "show", "10.8.0.0/24" }.out:find("via 10.9.0.1", 1, true))
      assert.are.equal("1", vm:run{ "cat", "/proc/sys/net/ipv4/ip_forward" }.out:match("%d"))
      -- its MAC is the one on the host's tap's far end: br1 learns it when the guest sends
      vm:run{ "ping", "-c1", "-W1", "10.9.0.1" }
      -- exit status and both streams come back as the guest's command left them
      r = vm:run{ "sh", "-c", "echo out; echo err >&2; exit 3" }
      assert.are.same({ false, 3, "out\n", "err\n" }, { r.ok, r.code, r.out, r.err })
      r = vm:run{ "no-such-program" }
      assert.are.equal(127, r.code)
      assert.truthy(r.err:find("no-such-program", 1, true), r.err)
      -- a spawned process runs on in the guest until killed; its output reaches the share
      local p = vm:spawn({ "sh", "-c", "echo started; exec sleep 100" }, { stdout = dir .. "/sleep.out" })
      assert.is_true(p:running())
      assert.truthy(vm:run{ "ps" }.out:find("sleep 100", 1, true))
      p:kill("TERM")
      assert.are.equal(15, p:wait(10).signal)
      assert.are.equal("started\n", H.read_file(dir .. "/sleep.out"))
      -- set_link, as the guest's kernel sees it
      vm:wait_link("eth0", { carrier = true, timeout = 10 })
      vm:cut("eth0")
      vm:wait_link("eth0", { carrier = false, timeout = 10 })
      vm:restore("eth0")
      vm:wait_link("eth0", { carrier = true, timeout = 10 })
      local pid = vm.vm:pid()
      vm:down()
      assert.is_false(alive(pid))
    end)
    pcall(vm.down, vm)
    fwsh.proc.run({ "rm", "-rf", dir })
    if not ok then error(err, 0) end
  end))

  it("qemu: a boot step that fails is named in the error, with what the guest said", H.ns(function(ns)
    local img = image()
    if not img then return end
    local dir = tmpdir()
    local vm = node.new{ name = "vm3", backend = "qemu", dir = dir,
                         qemu = { wrapper = wrapper, accel = "tcg", image = img },
                         setup = function(n) n:nft("table inet t { chain c { nonsense; } }") end }
    local ok, err = pcall(vm.up, vm)
    local pid = vm.vm and vm.vm:pid()
    pcall(vm.down, vm)
    fwsh.proc.run({ "rm", "-rf", dir })
    assert.is_false(ok)
    H.raises(function() error(err, 0) end, "node vm3: the guest did not come up", "vm3.boot, step",
             "nonsense", "vm3-console.log")
    if pid then assert.is_false(alive(pid)) end
  end))
end)
