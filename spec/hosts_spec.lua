-- hosts_spec.lua - labs across hosts: fwsh.rpc's wire, host contexts over
-- ssh (fwsh.hosts), VXLAN-stretched bridges, the firewall pair on two hosts,
-- `fwsh labs` and `fwsh down` reaching every host. The hosts are emulated
-- (fwsh.emulate): network namespaces with an underlay address each and a
-- real sshd (Debian's openssh-server) in a mount, /run and PID namespace of
-- its own, started and reaped here; this test's namespace reaches them only
-- over the underlay. What a host has is read back by iproute2 in its
-- namespace, from its /run through its first process's root, and from the
-- process table by PID namespace: never through fwsh.
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local rpc = require "fwsh.rpc"
local hosts = require "fwsh.hosts"
local emulate = require "fwsh.emulate"

local EXE = H.build .. "/fwsh"
local SCENARIO = H.root .. "/scripts/lab/scenarios/fw1-dies.lua"
local DAEMONS = { keepalived = true, conntrackd = true, ["fwsh-probe"] = true, ["fwsh-stream"] = true }

describe("fwsh.rpc: what crosses to another host is data", function()
  it("carries nil, booleans, numbers, strings and tables, and refuses the rest", function()
    local v = { 1, 2.5, "x\0y", true, false, { a = { b = "c" } }, n = 7, [-3] = math.mininteger }
    assert.are.same(v, rpc.decode(rpc.encode(v)))
    assert.are.equal(nil, rpc.decode(rpc.encode(nil)))
    local cyc = {}
    cyc.self = cyc
    H.raises(function() rpc.encode(cyc) end, "met twice")
    H.raises(function() rpc.encode({ print }) end, "cannot be sent")
    H.raises(function() rpc.encode(setmetatable({}, {})) end, "cannot be sent")
    -- a reference is one the serving side gave (ref), and comes back as what it named (deref)
    local f = function() end
    local s = rpc.encode({ f }, function(x, kind) return x == f and 9 or nil, kind end)
    assert.are.same({ "C#9" }, rpc.decode(s, function(kind, id) return kind .. "#" .. id end))
    H.raises(function() rpc.decode(s) end, "a reference where none may be")
    -- a bad frame is an error, never code run
    H.raises(function() rpc.decode("s\5\0\0\0ab") end, "ends early")
    H.raises(function() rpc.decode("x") end, "unknown tag")
    H.raises(function() rpc.decode("0junk") end, "bytes after the value")
    H.raises(function() rpc.decode("T\1\0\0\0" .. "0" .. "t") end, "nil or NaN")
  end)
end)

describe("labs across hosts (two emulated hosts, each with its sshd)", function()
  local ns, emu, file
  local pids = {} -- every emulated host's first process (its sshd), for the last test

  -- Host i's first process (its sshd, PID 1 there), in this PID namespace.
  local function pid1(i)
    local p = emu.procs[i]:pid()
    local s = H.read_file("/proc/" .. p .. "/task/" .. p .. "/children") or ""
    return tonumber(s:match("%d+"))
  end

  -- The processes of host i: { {comm=, args=}, ... } (its PID namespace's).
  local function host_procs(i)
    local pidns = H.run({ "ps", "-o", "pidns=", "-p", tostring(pid1(i)) }):match("%d+")
    local out = {}
    for line in H.run({ "ps", "-e", "-o", "pidns=,comm=,args=" }):gmatch("[^\n]+") do
      local n, comm, args = line:match("^%s*(%d+)%s+(%S+)%s+(.*)$")
      if n == pidns then out[#out + 1] = { comm = comm, args = args } end
    end
    return out
  end

  -- The named namespaces host i has (its own /run/netns, seen through its root).
  local function host_netns(i)
    local out = H.run({ "ls", "/proc/" .. pid1(i) .. "/root/run/netns" })
    local names = {}
    for n in out:gmatch("%S+") do names[#names + 1] = n end
    return names
  end

  -- Links of host i tagged with lab.
  local function tagged(i, lab)
    local out = {}
    for name, l in pairs(H.links("fwsh-h" .. i)) do
      if l.ifalias == "fwsh:" .. lab then out[#out + 1] = name end
    end
    table.sort(out)
    return out
  end

  local function daemons(i)
    local out = {}
    for _, p in ipairs(host_procs(i)) do
      if DAEMONS[p.comm] then out[#out + 1] = p.comm .. " " .. p.args end
    end
    return out
  end

  setup(function()
    fwsh.lab("hostspec")
    ns = string.format("fwsh-spec-hosts-%d", math.random(1, 1e9))
    assert(select(2, H.run({ "ip", "netns", "add", ns })))
    H.run({ "ip", "-n", ns, "link", "set", "lo", "up" })
    emu = fwsh.netns.run(ns, emulate.start, 2, { fwsh = EXE })
    for i = 1, 2 do pids[#pids + 1] = pid1(i) end
    -- the hosts file a user writes: NAME USER@ADDRESS key=value...
    local lines = {}
    for i, h in ipairs(emu) do
      lines[i] = string.format("%s %s identity=%s known_hosts=%s fwsh=%s underlay=%s dev=ul0", h.name, h.ssh,
                               h.identity, h.known_hosts, h.fwsh, h.underlay)
    end
    file = emu.dir .. "/hosts.txt"
    H.write_file(file, table.concat(lines, "\n") .. "\n")
  end)

  teardown(function()
    -- this spec's own state directories (the hosts' record among them)
    pcall(fwsh.down, "hostspec")
    if emu then pcall(fwsh.netns.run, ns, emu.close, emu) end
    if ns then H.run({ "ip", "netns", "delete", ns }) end
  end)

  it("runs a host's calls there, over one connection; closing without commit undoes them", function()
    fwsh.netns.run(ns, function()
      local h = hosts.host("h1", emu[1])
      local br = h.bridge.add("brq", { grounding = false })
      assert.truthy(tostring(br):find("^h1: bridge brq"))
      assert.truthy(H.links("fwsh-h1").brq)
      assert.falsy(H.links("fwsh-h2").brq)
      assert.falsy(H.links(ns).brq)
      for _ = 1, 20 do assert.is_true(h.link.exists("brq")) end
      local est = H.run({ "ip", "netns", "exec", "fwsh-h1", "ss", "-Htn", "state", "established", "( sport = :22 )" })
      assert.are.equal(1, select(2, est:gsub("\n", "")), est)
      -- an error there is an error here, naming the host, the operation and the reason
      H.raises(function() h.bridge.add("brq") end, "h1: ", "bridge.add brq", "exists")
      -- only data crosses: no function of this host, no object of another
      H.raises(function() h.wait{ fn = function() return true end } end, "a function of this host cannot go to host h1")
      h:close(false)
      assert.falsy(H.links("fwsh-h1").brq)
      H.raises(function() h.link.exists("brq") end, "closed")
    end)
  end)

  it("undoes a host's part when the connection is lost", function()
    fwsh.netns.run(ns, function()
      local h = hosts.host("h2", emu[2])
      h.bridge.add("brl", { grounding = false })
      assert.truthy(H.links("fwsh-h2").brl)
      H.run({ "pkill", "-KILL", "-f", "ControlPath=" .. rawget(h, "control") })
      assert.truthy(H.wait_for(function() return not H.links("fwsh-h2").brl end, 10), "brl is still there")
      H.raises(function() h.link.exists("brl") end, "h2: the connection to root@192.0.2.2 ended")
    end)
  end)

  it("refuses a host whose key is not the one known, and options that would reach a shell", function()
    fwsh.netns.run(ns, function()
      local o = {}
      for k, v in pairs(emu[1]) do o[k] = v end
      o.known_hosts = emu.dir .. "/wrong_known_hosts"
      -- host 2's key for host 1's address
      local key = H.read_file(emu[2].known_hosts):match("\n?192%.0%.2%.2 ([^\n]+)")
      H.write_file(o.known_hosts, "192.0.2.1 " .. key .. "\n")
      H.raises(function() hosts.host("h1", o) end, "its host key is not the one known for it")
      o.known_hosts = emu[1].known_hosts
      o.ssh = "-oProxyCommand=x"
      H.raises(function() hosts.host("h1", o) end, "ssh -oProxyCommand=x: user@address")
      o.ssh = "-v"
      H.raises(function() hosts.host("h1", o) end, "does not start with '-'")
      o.ssh, o.fwsh = emu[1].ssh, "fwsh; reboot"
      H.raises(function() hosts.host("h1", o) end, "without blanks or shell characters")
    end)
  end)

  it("builds the seed stretched over both, kept: fwsh labs and fwsh down reach each host", function()
    local out, ok = H.fwsh_in(ns, { "--lab", "sk", H.root .. "/scripts/seed-hosts.lua", "--hosts", file, "--keep" },
                              { stderr = true })
    assert(ok, out)
    assert.truthy(out:find("hosts: 2 ", 1, true), out)
    -- the bridges joined by VXLAN, read back in each host's namespace
    for i, peer in ipairs({ "192.0.2.2", "192.0.2.1" }) do
      for k, br in ipairs({ "br0", "br1", "br2" }) do
        local l = H.links("fwsh-h" .. i)["vx" .. br]
        assert.truthy(l, "no vx" .. br .. " on h" .. i)
        assert.are.equal("vxlan", l.linkinfo.info_kind)
        local d = l.linkinfo.info_data
        assert.are.equal(4300 + k - 1, d.id)
        assert.are.equal(peer, d.remote)
        assert.are.equal("192.0.2." .. i, d["local"])
        assert.are.equal(4789, d.port)
        assert.are.equal(br, l.master)
        assert.are.equal(1500, l.mtu) -- the underlay's 1550 less VXLAN's 50
      end
    end
    assert.are.same({ "net11", "net13", "vxbr1" }, H.ports("fwsh-h1", "br1"))
    assert.are.same({ "net12", "vxbr1" }, H.ports("fwsh-h2", "br1"))
    assert.are.equal(10, #tagged(1, "sk")) -- 3 bridges, 4 taps, 3 vxlan
    assert.are.equal(9, #tagged(2, "sk"))
    local labs = H.fwsh_in(ns, { "labs" })
    assert.truthy(labs:find("sk%s+10%s+0%s+on host h1"), labs)
    assert.truthy(labs:find("sk%s+9%s+0%s+on host h2"), labs)
    local down, dok = H.fwsh_in(ns, { "down", "sk" }, { stderr = true })
    assert(dok, down)
    assert.truthy(down:find("sk on host h1: removed 10 links", 1, true), down)
    assert.truthy(down:find("sk on host h2: removed 9 links", 1, true), down)
    assert.are.same({}, tagged(1, "sk"))
    assert.are.same({}, tagged(2, "sk"))
    local after = H.fwsh_in(ns, { "labs" })
    assert.falsy(after:find("\nsk ", 1, true) or after:find("^sk "), after)
  end)

  it("plans on every host with --dry-run: the commands, each prefixed by its host; nothing made", function()
    local before = { H.link_names("fwsh-h1"), H.link_names("fwsh-h2") }
    local out, ok = H.fwsh_in(ns, { "--dry-run", "--lab", "pl", H.root .. "/scripts/seed-hosts.lua", "--hosts", file })
    assert(ok, out)
    assert.truthy(out:find("\nh1: ip link add dev vxbr1 group %d+ up type vxlan id 4301 dstport 4789 "
                           .. "local 192%.0%.2%.1 remote 192%.0%.2%.2 dev ul0\n"), out)
    assert.truthy(out:find("\nh2: ip tuntap add dev net22 mode tap\n", 1, true), out)
    assert.truthy(out:find("^h1: ip link add dev br0 "), out)
    for line in out:gmatch("[^\n]+") do assert.truthy(line:find("^h[12]: [is][py]"), line) end
    assert.are.same(before, { H.link_names("fwsh-h1"), H.link_names("fwsh-h2") })
    assert.are.equal("", H.run({ "sh", "-c", "ls -d /tmp/fwsh-pl.* 2>/dev/null" }))
  end)

  it("fails the firewall pair over across the hosts, each firewall on its own, the stream surviving", function()
    local log = emu.dir .. "/fwx.log"
    local p = fwsh.proc.spawn({ EXE, "--lab", "fwx", SCENARIO, "--hosts", file, "--reps", "2" },
                              { stdout = log, netns = ns })
    -- while it runs: the stretched bridges, and where each firewall's daemons run
    assert.truthy(H.wait_for(function()
      return H.links("fwsh-h1").vxbr1 and H.links("fwsh-h2").vxbr1 and #daemons(1) >= 2 and #daemons(2) >= 2
    end, 60), H.read_file(log))
    local d = H.links("fwsh-h2").vxbr2.linkinfo.info_data
    assert.are.same({ 4202, "192.0.2.1", "192.0.2.2", "ul0" }, { d.id, d.remote, d["local"], d.link })
    local on1, on2 = table.concat(daemons(1), "\n"), table.concat(daemons(2), "\n")
    assert.truthy(on1:find("fw-1-keepalived.conf", 1, true) and not on1:find("fw-2-", 1, true), on1)
    assert.truthy(on2:find("fw-2-keepalived.conf", 1, true) and not on2:find("fw-1-", 1, true), on2)
    local r = p:wait(120)
    local out = H.read_file(log)
    assert(r.ok, out)
    assert.truthy(out:find("\nhosts: 2\n", 1, true), out)
    assert.truthy(out:find("\noutage_ms: %d+\n"), out)
    assert.truthy(out:find("\ntcp_stream: survived\n", 1, true), out)
    -- nothing of it left on either host, nor here (its hosts' logs and record go with them)
    assert.are.equal("", H.run({ "sh", "-c", "ls -d /tmp/fwsh-fwx.* 2>/dev/null" }))
    for i = 1, 2 do
      assert.are.same({}, tagged(i, "fwx"))
      assert.are.same({}, host_netns(i))
      assert.are.same({}, daemons(i))
    end
  end)

  it("leaves nothing on either host after SIGKILL of the script and fwsh down from the first", function()
    local log = emu.dir .. "/fwk.log"
    local p = fwsh.proc.spawn({ EXE, "--lab", "fwk", SCENARIO, "--hosts", file, "--reps", "5" },
                              { stdout = log, netns = ns })
    assert.truthy(H.wait_for(function() return (H.read_file(log) or ""):find("run 1:", 1, true) end, 60),
                  H.read_file(log))
    assert.are_not.same({}, tagged(1, "fwk"))
    p:kill("KILL")
    p:wait(10)
    local down, ok = H.fwsh_in(ns, { "down", "fwk" }, { stderr = true })
    assert(ok, down)
    assert.truthy(down:find("fwk on host h1: removed", 1, true), down)
    assert.truthy(down:find("fwk on host h2: removed", 1, true), down)
    for i = 1, 2 do
      assert.are.same({}, tagged(i, "fwk"))
      assert.are.same({}, host_netns(i))
      assert.truthy(H.wait_for(function() return #daemons(i) == 0 end, 10), table.concat(daemons(i), "\n"))
    end
    -- and nothing here: no ssh of the lab, no state directory
    assert.are.equal("", (H.run({ "pgrep", "-f", "[f]wsh-fwk" })))
    local labs = H.fwsh_in(ns, { "labs" })
    assert.falsy(labs:find("fwk", 1, true), labs)
  end)

  it("runs fw1-dies --hosts 2 as a user does, in a sandbox of its own", function()
    if os.getenv("LD_PRELOAD") then pending("the plain pass runs it (the tests above run the same code)") return end
    local out, ok = H.fwsh_cmd({ "--sandbox", SCENARIO, "--hosts", "2" }, { stderr = true })
    assert(ok, out)
    assert.truthy(out:find("\nhosts: 2\n", 1, true), out)
    assert.truthy(out:find("\noutage_ms: %d+\n"), out)
    assert.truthy(out:find("\ntcp_stream: survived\n", 1, true), out)
  end)

  it("stops the hosts' sshds, and every process of theirs with them", function()
    assert.are.equal(2, #pids)
    fwsh.netns.run(ns, emu.close, emu)
    emu = nil
    for _, pid in ipairs(pids) do
      assert.is_nil(H.read_file("/proc/" .. pid .. "/stat"), "sshd " .. pid .. " is still running")
    end
    assert.are.equal("", (H.run({ "pgrep", "-f", "[/]run/fwsh/host/sshd_config" })))
  end)
end)
