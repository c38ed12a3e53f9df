-- capture_spec.lua - fwsh.capture, lab:capture and `fwsh capture`: a link's
-- packets written as pcap, read back by tcpdump (never by fwsh), on a veth
-- pair between two throwaway namespaces and on the firewall lab's bridges
-- during a failover; what a failed call leaves (nothing), and that no
-- capture process outlives its object, its lab or a SIGKILLed fwsh.
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/lab/lua/?.lua;" .. package.path

-- tcpdump -nr FILE [FILTER...]: the packets it reads, one a line; raises if
-- it cannot read the file.
local function tcpdump(file, ...)
  local out, ok = H.run({ "tcpdump", "-nr", file, ... })
  assert(ok, "tcpdump -nr " .. file .. " failed")
  return out
end

local function lines(text)
  local t = {}
  for l in text:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local function count(text, plain)
  local n, from = 0, 1
  while true do
    local i = text:find(plain, from, true)
    if not i then return n end
    n, from = n + 1, i + #plain
  end
end

-- The capture processes of this run (their comm is fwsh-capture); other
-- labs on the machine may be capturing meanwhile.
local function capture_pids()
  return H.pgrep("-x", "fwsh-capture")
end

local function tmpdir()
  local d = H.run({ "mktemp", "-d", "/tmp/fwsh-capture-spec.XXXXXX" }):gsub("\n$", "")
  assert(d ~= "")
  return d
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A veth pair, va (10.9.0.1) in ns and vb (10.9.0.2) in peer, made by ip.
local function pair(ns, peer)
  for _, argv in ipairs({
    { "ip", "-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", peer },
    { "ip", "-n", ns, "addr", "add", "10.9.0.1/24", "dev", "va" },
    { "ip", "-n", ns, "link", "set", "va", "up" },
    { "ip", "-n", peer, "addr", "add", "10.9.0.2/24", "dev", "vb" },
    { "ip", "-n", peer, "link", "set", "vb", "up" },
    { "ip", "-n", peer, "link", "set", "lo", "up" },
  }) do
    local _, ok = H.run(argv)
    assert(ok, table.concat(argv, " "))
  end
end

-- ping -c n from ns to vb, with more options if given.
local function ping(ns, n, ...)
  local argv = { "ip", "netns", "exec", ns, "ping", "-n", "-c", tostring(n), "-i", "0.2", "-W", "2", ... }
  argv[#argv + 1] = "10.9.0.2"
  local out, ok = H.run(argv)
  assert(ok, out)
end

-- Runs fn(ns, peer, dir) with the veth pair and a directory for the files.
local function with_pair(fn)
  return H.ns(function(ns)
    H.with_netns(function(peer)
      pair(ns, peer)
      local dir = tmpdir()
      local ok, err = pcall(fn, ns, peer, dir)
      H.run({ "rm", "-rf", "--", dir })
      if not ok then error(err, 0) end
    end)
  end)
end

describe("fwsh.capture", function()
  it("writes what tcpdump reads: from its return, the filter's packets, up to its count", with_pair(function(ns, _, dir)
    local file = dir .. "/a.pcap"
    local c = fwsh.capture("va", { file = file, filter = "icmp", count = 4 })
    assert.are.equal(file, c.file)
    assert.are.equal("va", c.link)
    assert.truthy(tostring(c):find("^capture va %-> " .. file:gsub("%p", "%%%0") .. " %(running, 0 packets%)$"),
                  tostring(c))
    ping(ns, 3) -- at once: 6 ICMP packets, and ARP, which the filter leaves out
    local packets, dropped = c:wait(5)
    assert.are.equal(4, packets)
    assert.are.equal(0, dropped)
    assert.is_false(c:running())
    assert.are.equal(4, c:packets())
    local got = lines(tcpdump(file))
    assert.are.equal(4, #got, table.concat(got, "\n"))
    assert.truthy(got[1]:find("IP 10.9.0.1 > 10.9.0.2: ICMP echo request, id %d+, seq 1,"), got[1])
    assert.truthy(got[2]:find("IP 10.9.0.2 > 10.9.0.1: ICMP echo reply, id %d+, seq 1,"), got[2])
    assert.truthy(got[3]:find("ICMP echo request, id %d+, seq 2,"), got[3])
    assert.truthy(got[4]:find("ICMP echo reply, id %d+, seq 2,"), got[4])
    assert.are.same({ 4, 0 }, { c:stop() }) -- stopped already: the same numbers
    assert.are.equal("", capture_pids())
  end))

  it("captures in another namespace (netns=), and on a handle's link", with_pair(function(ns, peer, dir)
    local far = fwsh.capture("vb", { file = dir .. "/b.pcap", netns = peer })
    assert.are.equal(peer, far.netns)
    local near = fwsh.capture(fwsh.link.get("va"), { file = dir .. "/a.pcap", filter = "icmp" })
    ping(ns, 2)
    local n_far = far:stop()
    local n_near, dropped = near:stop()
    assert.are.equal(0, dropped)
    local a, b = tcpdump(dir .. "/a.pcap"), tcpdump(dir .. "/b.pcap")
    assert.are.equal(n_near, #lines(a), a)
    assert.are.equal(n_far, #lines(b), b)
    assert.are.equal(4, n_near, a)
    for _, text in ipairs({ a, b }) do
      assert.are.equal(2, count(text, "IP 10.9.0.1 > 10.9.0.2: ICMP echo request"), text)
      assert.are.equal(2, count(text, "IP 10.9.0.2 > 10.9.0.1: ICMP echo reply"), text)
    end
    -- vb's capture has no filter: the ARP exchange before the first ping too
    assert.truthy(b:find("ARP, Request who-has 10.9.0.2 tell 10.9.0.1", 1, true), b)
    -- promiscuous while it ran, not after
    assert.are.equal(0, H.ip(ns, "-d", "link", "show", "va")[1].promiscuity)
    assert.are.equal(0, H.ip(peer, "-d", "link", "show", "vb")[1].promiscuity)
  end))

  it("keeps snaplen bytes of each packet", with_pair(function(ns, _, dir)
    local c = fwsh.capture("va", { file = dir .. "/s.pcap", filter = "icmp", snaplen = 64 })
    ping(ns, 1, "-s", "1000")
    c:stop()
    local out = H.run({ "tcpdump", "-nr", dir .. "/s.pcap" }, { stderr = true })
    assert.truthy(out:find("snapshot length 64", 1, true), out)
    local f = assert(io.open(dir .. "/s.pcap", "rb"))
    local size = f:seek("end")
    f:close()
    -- a 24-byte header, and two records of 16 + 64 bytes: the 1042-byte packets cut
    assert.are.equal(24 + 2 * (16 + 64), size)
  end))

  it("refuses a bad filter, an unknown link or namespace clearly, and makes nothing", with_pair(function(ns, _, dir)
    local before = H.link_state(ns)
    local file = dir .. "/x.pcap"
    local err = H.raises(function() fwsh.capture("va", { file = file, filter = "icmp and and" }) end,
                         "capture va: Invalid argument: filter 'icmp and and': ", "syntax error")
    assert.are.equal("EINVAL", err.code)
    err = H.raises(function() fwsh.capture("va", { file = file, filter = "tcp port nosuchport" }) end,
                   "filter 'tcp port nosuchport': ", "nosuchport")
    err = H.raises(function() fwsh.capture("vz", { file = file }) end,
                   "capture vz: No such device: no such link in this namespace")
    assert.are.equal("ENODEV", err.code)
    H.raises(function() fwsh.capture("va", { file = file, netns = "fwsh-no-such-ns" }) end,
             "capture va (netns fwsh-no-such-ns): No such file or directory: no namespace fwsh-no-such-ns")
    H.raises(function() fwsh.capture("va", { file = dir .. "/no/such/dir/x.pcap" }) end,
             "capture va: No such file or directory: " .. dir .. "/no/such/dir/x.pcap")
    assert.is_false(exists(file))
    assert.are.same(before, H.link_state(ns))
    assert.are.equal("", capture_pids())
    -- arguments
    H.raises(function() fwsh.capture("va") end, "bad argument #2", "table expected")
    H.raises(function() fwsh.capture("va", {}) end, "field 'file'")
    H.raises(function() fwsh.capture("va", { file = file, count = 0 }) end, "field 'count': 0 is out of range")
    H.raises(function() fwsh.capture("va", { file = file, snaplen = 262145 }) end, "field 'snaplen'")
    H.raises(function() fwsh.capture("va", { file = file, bogus = 1 }) end, "unknown option 'bogus'")
    H.raises(function() fwsh.capture("va", { file = file, filter = "icmp\0tcp" }) end, "zero byte")
    H.raises(function() fwsh.capture(fwsh.link.get("va"), { file = file, netns = "x" }) end,
             "a handle knows its namespace")
    assert.is_false(exists(file))
  end))

  it("stops at <close>, at garbage collection and at fwsh.proc.stop_lab", with_pair(function(ns, _, dir)
    do
      local c <close> = fwsh.capture("va", { file = dir .. "/1.pcap", filter = "icmp" })
      ping(ns, 1)
      assert.truthy(c:running())
    end
    assert.are.equal("", capture_pids())
    assert.are.equal(2, #lines(tcpdump(dir .. "/1.pcap")))
    fwsh.capture("va", { file = dir .. "/2.pcap" }) -- let go of at once
    assert.truthy(capture_pids() ~= "")
    collectgarbage()
    collectgarbage()
    assert.are.equal("", capture_pids())
    local c = fwsh.capture("va", { file = dir .. "/3.pcap", filter = "icmp" })
    ping(ns, 1)
    assert.are.equal(1, fwsh.proc.stop_lab())
    assert.is_false(c:running())
    assert.are.same({ 2, 0 }, { c:stop() })
    assert.are.equal(2, #lines(tcpdump(dir .. "/3.pcap")))
    assert.are.equal("", capture_pids())
  end))

  it("ends with a SIGKILLed fwsh, its file closed whole", with_pair(function(ns, _, dir)
    local file, log = dir .. "/k.pcap", dir .. "/k.out"
    local p = fwsh.proc.spawn({ H.build .. "/fwsh", "--lab", "cap-killed", "-e", string.format([[
      local c = fwsh.capture("va", { file = %q, filter = "icmp" })
      print("ready") io.stdout:flush()
      fwsh.wait{ fn = function() return false end, timeout = 60 }]], file) }, { stdout = log })
    local ok, err = pcall(function()
      fwsh.wait{ fn = function() return (H.read_file(log) or ""):find("ready") ~= nil end,
                 interval = 0.02, timeout = 10 }
      ping(ns, 2)
      p:kill("KILL")
      assert.are.equal(9, p:wait(5).signal)
    end)
    p:stop(1)
    if not ok then error(tostring(err) .. "\n" .. (H.read_file(log) or ""), 0) end
    -- its parent-death signal: it writes what it has, closes the file, ends
    assert.truthy(H.wait_for(function() return capture_pids() == "" end, 5), capture_pids())
    local got = tcpdump(file)
    assert.are.equal(2, count(got, "ICMP echo request"), got)
    assert.are.equal(2, count(got, "ICMP echo reply"), got)
    assert.are.equal(0, H.ip(ns, "-d", "link", "show", "va")[1].promiscuity)
    local out, dok = H.fwsh_in(ns, { "down", "cap-killed" }, { stderr = true })
    assert.truthy(dok, out)
  end))
end)

describe("fwsh capture", function()
  local function fwsh_argv(...)
    return { H.build .. "/fwsh", ... }
  end

  -- Starts sh -c script (no sanitizer runtime for sh and tcpdump) and waits
  -- until err says the capture runs.
  local function start(script, err)
    local p = fwsh.proc.spawn({ "env", "-u", "LD_PRELOAD", "sh", "-c", script })
    fwsh.wait{ fn = function() return (H.read_file(err) or ""):find("capturing on") ~= nil end,
               interval = 0.02, timeout = 10 }
    return p
  end

  it("streams into tcpdump -r - through a pipe, and ends at its count", with_pair(function(ns, _, dir)
    local err, out = dir .. "/err", dir .. "/out"
    local p = start(string.format("%s capture va --netns %s -f icmp -c 4 2>%s | tcpdump -nr - >%s 2>&1",
                                  H.quote(H.build .. "/fwsh"), H.quote(ns), H.quote(err), H.quote(out)), err)
    ping(ns, 2)
    local r = p:wait(10)
    local text = H.read_file(out) or ""
    assert.truthy(r.ok, text .. (H.read_file(err) or ""))
    assert.are.equal(2, count(text, "IP 10.9.0.1 > 10.9.0.2: ICMP echo request"), text)
    assert.are.equal(2, count(text, "IP 10.9.0.2 > 10.9.0.1: ICMP echo reply"), text)
    assert.truthy(text:find("reading from file -, link-type EN10MB (Ethernet), snapshot length 262144", 1, true), text)
    assert.truthy(H.read_file(err):find("fwsh capture: 4 packets captured, 0 dropped by the kernel\n", 1, true),
                  H.read_file(err))
  end))

  it("ends cleanly on SIGINT with its count, the file whole", with_pair(function(ns, _, dir)
    local err, file = dir .. "/err", dir .. "/i.pcap"
    local p = fwsh.proc.spawn(fwsh_argv("capture", "va", "-w", file, "-f", "icmp"), { stderr = err })
    fwsh.wait{ fn = function() return (H.read_file(err) or ""):find("capturing on va") ~= nil end,
               interval = 0.02, timeout = 10 }
    ping(ns, 2)
    p:kill("INT")
    local r = p:wait(5)
    assert.are.equal(0, r.code, H.read_file(err))
    assert.truthy(H.read_file(err):find("fwsh capture: 4 packets captured, 0 dropped by the kernel\n", 1, true),
                  H.read_file(err))
    assert.are.equal(4, #lines(tcpdump(file)))
  end))

  it("ends cleanly when the reader goes away (SIGPIPE)", with_pair(function(ns, _, dir)
    local err = dir .. "/err"
    local p = start(string.format("%s capture va 2>%s | head -c 100 >/dev/null",
                                  H.quote(H.build .. "/fwsh"), H.quote(err)), err)
    ping(ns, 4)
    local r = p:wait(10)
    local text = H.read_file(err)
    assert.truthy(r.ok, text)
    assert.truthy(text:find("packets? captured, 0 dropped by the kernel %(the reader closed the pipe%)\n"), text)
  end))

  it("refuses a terminal, a bad filter, an unknown link and bad options", with_pair(function(_, _, dir)
    -- script(1) gives it a terminal as standard output
    local out, ok, code = H.run({ "script", "-qec", H.quote(H.build .. "/fwsh") .. " capture va", "/dev/null" },
                                { stderr = true })
    assert.is_falsy(ok)
    assert.are.equal(1, code)
    assert.truthy(out:find("fwsh capture: standard output is a terminal: pcap is binary", 1, true), out)
    local file = dir .. "/x.pcap"
    out, ok, code = H.fwsh_cmd({ "capture", "va", "-f", "icmp and and", "-w", file }, { stderr = true })
    assert.are.equal(1, code)
    assert.truthy(out:find("fwsh capture: va: Invalid argument: filter 'icmp and and': ", 1, true), out)
    out, ok, code = H.fwsh_cmd({ "capture", "vz", "-w", file }, { stderr = true })
    assert.are.equal(1, code)
    assert.truthy(out:find("fwsh capture: vz: No such device: no such link in this namespace", 1, true), out)
    assert.is_false(exists(file))
    for _, args in ipairs({ { "-c", "0" }, { "-c", "1x" }, { "-s", "300000" }, { "-x" }, { "-w" } }) do
      local argv = { "capture", "va", "-w", file }
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      out, ok, code = H.fwsh_cmd(argv, { stderr = true })
      assert.are.equal(2, code, table.concat(args, " ") .. ": " .. out)
      assert.truthy(out:find("usage: fwsh capture LINK", 1, true), out)
    end
    assert.is_false(exists(file))
    out = H.fwsh_cmd({ "--help" })
    assert.truthy(out:find("fwsh capture LINK [-f FILTER] [-c COUNT] [-w FILE]", 1, true), out)
  end))
end)

describe("the firewall lab's capture", function()
  local firewall = require "fwsh.firewall"

  -- VRRP's adverts go over br1 (and br0), where keepalived's instances are;
  -- conntrackd's sync goes over br2, as unicast UDP between the two eth2s.
  -- So br2 has the sync and no VRRP, and br1 shows the master change hands.
  it("sees VRRP on br1 and conntrackd's sync on br2 during a failover", H.ns(function(ns)
    -- fwsh.capture's C runs under the sanitizer in the cases above; what
    -- these two add is what the lab's daemons send and the scenario keeps.
    if os.getenv("LD_PRELOAD") then pending("the plain pass captures a lab's failover") return end
    -- 50 ms adverts, not 10: in one sanitizer pass on two cores lab:failover
    -- found the virtual MAC on neither port right after the build (a starved
    -- backup taking over for a moment, most likely). The capture is the
    -- point here, not the timing, which failover_spec measures.
    local lab <close> = firewall.build{ advert_int = 0.05 }
    local sync = lab:capture("br2")
    local vrrp = lab:capture("br1", { filter = "ip proto 112" })
    lab:wait_master("fw-1")
    local r = lab:failover("power")
    assert.are.equal("survived", r.stream)
    assert.are.same({ "fw-1", "fw-2" }, { r.from, r.to })
    local n_sync = sync:stop()
    local n_vrrp = vrrp:stop()
    local all = tcpdump(sync.file)
    assert.are.equal(n_sync, #lines(all), all)
    local udp = tcpdump(sync.file, "udp port " .. firewall.sync_port)
    assert.truthy(udp:find("IP 10%.2%.0%.1%.%d+ > 10%.2%.0%.2%.3780: UDP, length %d+"), all)
    assert.truthy(udp:find("IP 10%.2%.0%.2%.%d+ > 10%.2%.0%.1%.3780: UDP, length %d+"), all)
    assert.are.equal("", tcpdump(sync.file, "ip proto 112"))
    local adverts = tcpdump(vrrp.file)
    assert.are.equal(n_vrrp, #lines(adverts))
    -- fw-1 advertised as master (priority 150) before the failure, fw-2 after it
    local first = adverts:find("IP 10.1.0.2 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 150, intvl 5cs", 1, true)
    local second = adverts:find("IP 10.1.0.3 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 100, intvl 5cs", 1, true)
    assert.truthy(first and second and first < second, adverts)
    assert.are.equal(0, H.ip(ns, "-d", "link", "show", "br2")[1].promiscuity)
    lab:close()
    assert.are.equal("", capture_pids())
  end))

  it("is kept as evidence by the scenario's --capture FILE", H.ns(function(ns)
    if os.getenv("LD_PRELOAD") then pending("the plain pass captures a scenario's run") return end
    local dir = tmpdir()
    local file = dir .. "/fw1-dies.pcap"
    local netns = H.netns_names()
    local out, ok = H.fwsh_cmd({ "--netns", ns, H.root .. "/scripts/lab/scenarios/fw1-dies.lua", "--capture", file },
                               { stderr = true })
    local ok2, err = pcall(function()
      assert(ok, out)
      assert.truthy(out:find("\ntcp_stream: survived\n", 1, true), out)
      local n = tonumber(out:match("\ncapture: " .. file:gsub("%p", "%%%0") .. " %((%d+) packets%)\n"))
      assert.truthy(n and n > 0, out)
      local all = tcpdump(file)
      assert.are.equal(n, #lines(all), all)
      assert.truthy(#lines(tcpdump(file, "udp port 3780 and src 10.2.0.1")) > 0, all)
      assert.truthy(#lines(tcpdump(file, "udp port 3780 and src 10.2.0.2")) > 0, all)
      assert.are.equal("", capture_pids())
      assert.are.same({ "lo" }, H.link_names(ns))
      assert.are.same(netns, H.netns_names())
    end)
    H.run({ "rm", "-rf", "--", dir })
    if not ok2 then error(err, 0) end
  end))
end)
