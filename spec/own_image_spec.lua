-- own_image_spec.lua - a qemu node from the user's own disk image (qemu.disk):
-- no agent inside. It boots from an overlay and the image is never written
-- (mtime and checksum); it is ready by its console's line or by a TCP port;
-- power, hang and cable faults are seen from outside (ping from the host,
-- the qemu process, the tap's carrier); fwsh refuses to run anything in it;
-- nothing is left after, also when the readiness times out. The image is
-- made by lab/guest/disk.sh from the lab's guest image (FWSH_GUEST), which
-- holds no fwsh: a web server on 8080, eth0 10.9.0.2/24, a ready line.
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local node = require "fwsh.node"

local wrapper = os.getenv("LD_PRELOAD") and { "env", "-u", "LD_PRELOAD" } or nil
local READY = "ownimage: ready"

local function alive(pid)
  local _, ok = H.run({ "kill", "-0", tostring(pid) })
  return ok == true
end

local function tmpdir()
  return fwsh.proc.run({ "mktemp", "-d" }).out:match("%S+")
end

-- The image's identity as the filesystem tells it: mtime (ns) and SHA-256.
local function identity(path)
  local mtime = H.run({ "stat", "-c", "%.9Y %s", path })
  local sum = H.run({ "sha256sum", path }):match("^%x+")
  return mtime .. (sum or "?")
end

local function pings(ns, addr)
  local _, ok = H.run({ "ip", "netns", "exec", ns, "ping", "-c1", "-W1", addr })
  return ok == true
end

local function carrier(ns, tap)
  local l = H.link(ns, tap)
  return l and not table.concat(l.flags, ","):find("NO-CARRIER", 1, true)
end

-- qemu processes whose command line names dir, read from /proc
local function qemu_procs(dir)
  local n = 0
  for pid in H.run({ "ls", "/proc" }):gmatch("%d+") do
    local cmd = H.read_file("/proc/" .. pid .. "/cmdline") or ""
    if cmd:find("^[^%z]*qemu%-system") and cmd:find(dir, 1, true) then n = n + 1 end
  end
  return n
end

describe("fwsh.node: the user's own image", function()
  local img, built
  setup(function()
    local guest = os.getenv("FWSH_GUEST") or (H.root .. "/build/guest")
    local _, has = H.run({ "sh", "-c", "command -v qemu-system-x86_64 && ls " .. H.quote(guest) .. "/debs/linux-image-*" })
    if not has then return end
    built = tmpdir()
    local out, ok = H.run({ H.build .. "/fwsh-disk.sh", built, guest, "eth0=10.9.0.2/24", "port=8080",
                            "ready=" .. READY }, { stderr = true })
    assert(ok, out)
    img = built .. "/disk.qcow2"
  end)
  teardown(function()
    if built then H.run({ "rm", "-rf", "--", built }) end
  end)

  local function opts(extra)
    local q = { wrapper = wrapper, accel = "tcg", disk = img, kernel = built .. "/vmlinuz",
                initrd = built .. "/initrd", append = "root=/dev/vda console=ttyS0 panic=-1" }
    for k, v in pairs(extra) do q[k] = v end
    return q
  end

  it("refuses what needs an agent, and options that do not fit, before any boot", function()
    local dir = "/nonexistent"
    H.raises(function() node.new{ name = "o1", backend = "qemu", dir = dir, qemu = { disk = "x.qcow2" } } end,
             "node.new o1", "qemu.ready")
    H.raises(function() node.new{ name = "o1", backend = "qemu", dir = dir,
                                  qemu = { disk = "x", ready = { port = 80 } } } end, "qemu.ready.address")
    H.raises(function() node.new{ name = "o1", backend = "qemu", dir = dir,
                                  qemu = { disk = "x", ready = { console = "[" } } } end, "Lua pattern")
    H.raises(function() node.new{ name = "o1", backend = "qemu", dir = dir,
                                  qemu = { disk = "x", image = "/y", ready = { console = "x" } } } end, "exclude")
    local n = node.new{ name = "o1", backend = "qemu", dir = dir, qemu = { disk = "x", ready = { console = "x" } } }
    H.raises(function() n:run{ "true" } end, "node o1: run true", "no agent inside", "measure it from outside")
    H.raises(function() n:spawn{ "sleep", "1" } end, "node o1: spawn sleep", "no agent inside")
    H.raises(function() n:nft("table inet t {}") end, "node o1: nft", "no agent inside")
    local m = node.new{ name = "o2", backend = "qemu", dir = dir, qemu = { disk = "x", ready = { console = "x" } },
                        ports = { { name = "eth0", bridge = "br1", tap = "net11", address = "10.9.0.2/24" } } }
    H.raises(function() m:up() end, "node o2", "set up by itself")
  end)

  it("the firewall lab takes an image per firewall or for both, from Lua or --image, and refuses what cannot be", H.ns(function(ns)
    local firewall = require "fwsh.firewall"
    local o = firewall.args{ "--image", "fw-1=/a.qcow2", "--image", "fw-2=/b.qcow2", "--ready-line", "^up$",
                             "--ready-port", "22", "--kernel", "/k", "--initrd", "/i", "--append", "root=/dev/vda" }
    assert.are.same({ ["fw-1"] = "/a.qcow2", ["fw-2"] = "/b.qcow2" }, o.image)
    assert.are.same({ "^up$", 22, "/k", "/i", "root=/dev/vda" }, { o.ready_line, o.ready_port, o.kernel, o.initrd, o.append })
    assert.are.equal("tap", firewall.args{ "--cable", "tap" }.cable)
    H.raises(function() firewall.args{ "--cable", "cut" } end, "firewall.args --cable", "qmp or tap")
    H.raises(function() node.new{ name = "o1", backend = "qemu", dir = "/x", qemu = { cable = "x" } } end,
             "node.new o1", "qemu.cable")
    assert.are.equal("/a.qcow2", firewall.args{ "--image", "/a.qcow2" }.image)
    H.raises(function() firewall.args{ "--image", "/a", "--image", "fw-1=/b" } end, "firewall.args --image", "not both")
    H.raises(function() firewall.args{ "--ready-port", "70000" } end, "firewall.args --ready-port", "a TCP port")
    -- refused before anything is made: no bridge appears
    local links = H.link_names(ns)
    H.raises(function() firewall.build{ image = "/x" } end, "firewall.build image", "when is it ready?")
    H.raises(function() firewall.build{ image = { ["fw-3"] = "/x" }, ready_line = "x" } end, '"fw-3" is not a firewall')
    H.raises(function() firewall.build{ image = "/x", ready_line = "x", backend = "netns" } end, 'backend = "qemu"')
    H.raises(function() firewall.build{ image = "/x", ready_line = "x", ftp = "rule" } end, "ftp needs the lab's own ruleset")
    assert.are.same(links, H.link_names(ns))
  end))

  it("boots from an overlay, ready by console line then by port; hang, cable and power seen from outside; "
     .. "the image untouched, nothing left", H.ns(function(ns)
    if not img then pending("no qemu or no guest image with its packages (lab/guest/image.sh)") return end
    -- two VM boots: the guest's and qemu's behaviour, which the plain pass
    -- checks; fwsh's C on this path (taps, bridges, proc) is the sanitizer
    -- pass's in every other spec
    if os.getenv("LD_PRELOAD") then pending("the plain pass boots the own images") return end
    fwsh.bridge.add("br1", { grounding = true, address = "10.9.0.1/24" })
    fwsh.tap.add("net11", { bridge = "br1" })
    local dir = tmpdir()
    local before = identity(img)
    local vm = node.new{ name = "own1", backend = "qemu", dir = dir,
                         qemu = opts{ ready = { console = "^" .. READY } },
                         ports = { { name = "eth0", bridge = "br1", tap = "net11" } } }
    local ok, err = pcall(function()
      vm:up()
      -- the console printed the line; the overlay is backed by the image (qemu-img's own reading)
      assert.truthy(H.read_file(dir .. "/own1-console.log"):find(READY, 1, true))
      local info = H.run({ "qemu-img", "info", "-U", "--output=json", dir .. "/own1-overlay.qcow2" })
      assert.truthy(info:find('"backing-filename": "' .. img .. '"', 1, true), info)
      assert.truthy(H.wait_for(function() return pings(ns, "10.9.0.2") end, 20))
      H.raises(function() vm:run{ "true" } end, "no agent inside")
      -- hang: QMP stop; the process lives, nothing answers; cont: it answers again
      local pid = vm.vm:pid()
      vm:fail("hang")
      assert.is_false(pings(ns, "10.9.0.2"))
      assert.is_true(alive(pid))
      vm:thaw()
      assert.truthy(H.wait_for(function() return pings(ns, "10.9.0.2") end, 20))
      -- cable: QMP set_link on its NIC; the tap keeps its carrier, the guest is cut off
      vm:cut("eth0")
      assert.is_false(pings(ns, "10.9.0.2"))
      assert.is_true(carrier(ns, "net11"))
      vm:restore("eth0")
      assert.truthy(H.wait_for(function() return pings(ns, "10.9.0.2") end, 20))
      -- or the tap's link down on the host (qemu.cable = "tap")
      vm.qemu.cable = "tap"
      vm:cut("eth0")
      assert.is_false(H.has_flag(H.link(ns, "net11"), "UP"))
      assert.is_false(pings(ns, "10.9.0.2"))
      vm:restore("eth0")
      assert.is_true(H.has_flag(H.link(ns, "net11"), "UP"))
      assert.truthy(H.wait_for(function() return pings(ns, "10.9.0.2") end, 20))
      vm.qemu.cable = nil
      -- power: qemu killed, the tap loses its carrier; start() boots it again
      -- from the same overlay, ready this time when its port answers
      vm:fail("power")
      assert.is_false(alive(pid))
      assert.truthy(H.wait_for(function() return not carrier(ns, "net11") end, 5))
      assert.is_false(pings(ns, "10.9.0.2"))
      vm.qemu.ready = { port = 8080, address = "10.9.0.2" }
      vm:start()
      -- its web server answers, as curl reads it
      assert.are.equal("ownimage\n", H.run({ "ip", "netns", "exec", ns, "curl", "-s", "--max-time", "5",
                                              "http://10.9.0.2:8080/" }))
      assert.is_true(carrier(ns, "net11"))
      pid = vm.vm:pid()
      vm:down()
      assert.is_false(alive(pid))
      assert.is_nil(H.read_file(dir .. "/own1-overlay.qcow2"))
      assert.are.equal(0, qemu_procs(dir))
    end)
    pcall(vm.down, vm)
    fwsh.proc.run({ "rm", "-rf", dir })
    if not ok then error(err, 0) end
    assert.are.equal(before, identity(img))
  end))

  it("a readiness that does not come names the node, what it awaited and the console's last lines; "
     .. "nothing is left", H.ns(function(ns)
    if not img then pending("no qemu or no guest image with its packages (lab/guest/image.sh)") return end
    local dir = tmpdir()
    local before = identity(img)
    local ok, err, pid
    do
      local vm <close> = node.new{ name = "own2", backend = "qemu", dir = dir,
                                   qemu = opts{ ready = { console = "never printed", port = 8080,
                                                          address = "10.9.0.2", timeout = 15 } } }
      ok, err = pcall(function() vm:launch() pid = vm.vm:pid() vm:ready() end)
    end
    assert.is_false(ok)
    H.raises(function() error(err, 0) end, "node own2: not ready after 15 s", 'a console line matching "never printed"',
             "TCP 10.9.0.2:8080 to answer from the host", "the console's last lines:")
    assert.is_false(alive(pid))
    assert.is_nil(H.read_file(dir .. "/own2-overlay.qcow2"))
    assert.are.equal(0, qemu_procs(dir))
    fwsh.proc.run({ "rm", "-rf", dir })
    assert.are.equal(before, identity(img))
  end))
end)
