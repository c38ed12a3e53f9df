-- flows_spec.lua - fwsh-flows between two throwaway namespaces joined by a
-- veth pair: every connection checked at both ends, each kind of damage
-- (a changed byte, a reset, a stall) found and counted in its own class, and
-- nothing left behind. What the kernel saw is read back on its own: nft
-- counters in the server's namespace, `ss` in both, /proc for the processes.
local H = require "helper"
local json = require "dkjson"

local FLOWS = H.build .. "/fwsh-flows"
local SERVER = "10.77.0.1"
local NSRC = 16 -- client addresses 10.77.1.1 ..., used round-robin by connection id

-- Two namespaces (client, server), a veth pair, NSRC addresses on the client's
-- end, and a directory for the outputs; fn(lab) runs, then everything goes,
-- also when fn fails: the processes it started (by pid), the namespaces, the
-- directory.
local function with_pair(fn)
  local tag = string.format("%d", math.random(1, 1e9))
  local lab = { c = "fwsh-flc-" .. tag, s = "fwsh-fls-" .. tag, pids = {} }
  lab.dir = H.run({ "mktemp", "-d", "/tmp/fwsh-flows-spec.XXXXXX" }):gsub("%s+$", "")
  local ok, err = pcall(function()
    for _, ns in ipairs({ lab.c, lab.s }) do
      assert(select(2, H.run({ "ip", "netns", "add", ns })), "ip netns add " .. ns)
      H.run({ "ip", "-n", ns, "link", "set", "lo", "up" })
    end
    assert(select(2, H.run({ "ip", "-n", lab.c, "link", "add", "fl0", "type", "veth",
                             "peer", "name", "fl1", "netns", lab.s })))
    H.run({ "ip", "-n", lab.c, "link", "set", "fl0", "up" })
    H.run({ "ip", "-n", lab.s, "link", "set", "fl1", "up" })
    H.run({ "ip", "-n", lab.s, "addr", "add", SERVER .. "/16", "dev", "fl1", "nodad" })
    for i = 1, NSRC do
      H.run({ "ip", "-n", lab.c, "addr", "add", "10.77.1." .. i .. "/16", "dev", "fl0", "nodad" })
    end
    assert(#H.ip(lab.c, "-4", "addr", "show", "dev", "fl0")[1].addr_info == NSRC)
    fn(lab)
    -- Under the sanitizer build a report goes to the tool's stderr, in its .out file.
    for name in H.run({ "ls", lab.dir }):gmatch("[^\n]+%.out") do
      local text = H.read_file(lab.dir .. "/" .. name)
      assert(not text:match("Sanitizer") and not text:match("runtime error"), name .. ":\n" .. text)
    end
  end)
  for _, pid in ipairs(lab.pids) do H.run({ "kill", "-KILL", tostring(pid) }) end
  H.run({ "ip", "netns", "delete", lab.c })
  H.run({ "ip", "netns", "delete", lab.s })
  H.run({ "rm", "-rf", lab.dir })
  if not ok then error(err, 0) end
end

-- Starts fwsh-flows ARGS in namespace ns, its stdout to the file out; returns its pid.
local function spawn(lab, ns, args, out)
  local words = { "env", "-u", "LD_PRELOAD", "ip", "netns", "exec", ns, FLOWS }
  for _, a in ipairs(args) do words[#words + 1] = a end
  for i, w in ipairs(words) do words[i] = H.quote(w) end
  local p = assert(io.popen(table.concat(words, " ") .. " >" .. H.quote(out) .. " 2>&1 & echo $!"))
  local pid = assert(tonumber(p:read("l")))
  p:close()
  lab.pids[#lab.pids + 1] = pid
  return pid
end

local function alive(pid)
  local stat = H.read_file("/proc/" .. pid .. "/stat")
  return stat ~= nil and not stat:match("^%d+ %b() Z")
end

-- Waits (up to seconds) until the file out has a line matching pattern.
local function wait_line(out, pattern, seconds)
  local found = H.wait_for(function() return (H.read_file(out) or ""):match(pattern) end, seconds)
  assert(found, string.format("no line %q in %s:\n%s", pattern, out, H.read_file(out) or ""))
  return found
end

local function wait_exit(pid, seconds)
  assert(H.wait_for(function() return not alive(pid) end, seconds), "fwsh-flows " .. pid .. " still runs")
end

-- The summary's counts: { total=, survived=, stalled=, reset=, lost_bytes= }.
local function outcome(text)
  local t, s, x, r, l = text:match(
    "connections: total (%d+) survived (%d+) stalled (%d+) reset (%d+) lost_bytes (%d+)")
  assert(t, "no connections: line in:\n" .. text)
  return { total = tonumber(t), survived = tonumber(s), stalled = tonumber(x), reset = tonumber(r),
           lost_bytes = tonumber(l) }
end

-- The report's TCP lines, by id: each a table of the header's columns.
local function report(path)
  local rows, names = {}, nil
  for line in (assert(H.read_file(path), "no report " .. path)):gmatch("[^\n]+") do
    if not line:match("^#") then
      local f = {}
      for v in line:gmatch("[^\t]+") do f[#f + 1] = v end
      if not names then
        names = f
      else
        local row = {}
        for i, n in ipairs(names) do row[n] = f[i] end
        if row.proto == "tcp" then rows[tonumber(row.id)] = row end
      end
    end
  end
  return rows
end

local function nft(ns, rules)
  local _, ok = H.run({ "ip", "netns", "exec", ns, "nft", "-f", "-" }, { stdin = rules })
  assert(ok, "nft: " .. rules)
end

local function counter(ns, name)
  local out = H.run({ "ip", "netns", "exec", ns, "nft", "-j", "list", "counter", "inet", "flows", name })
  for _, o in ipairs(json.decode(out).nftables) do
    if o.counter then return o.counter.packets end
  end
end

-- Sockets in ns other than TIME-WAIT (what the kernel keeps after a clean close, no process's).
local function sockets(ns)
  local out = H.run({ "ip", "netns", "exec", ns, "ss", "-Htuan" })
  local left = {}
  for line in out:gmatch("[^\n]+") do
    if not line:match("TIME%-WAIT") then left[#left + 1] = line end
  end
  return left
end

local function count(rows, fn)
  local n = 0
  for _, r in pairs(rows) do if fn(r) then n = n + 1 end end
  return n
end

local function client_args(lab, extra)
  local args = { "client", "--connect", SERVER .. ":5001", "--src", "10.77.1.1+" .. NSRC,
                 "--report", lab.dir .. "/c.tsv" }
  for _, a in ipairs(extra) do args[#args + 1] = a end
  return args
end

describe("fwsh-flows", function()
  it("carries 1,000 connections, half of them opened during the run, every byte to both ends", function()
    with_pair(function(lab)
      -- Counted by the kernel, not the tool: every SYN the server's side receives.
      nft(lab.s, "table inet flows { counter syns {}\n chain in { type filter hook input priority 0;\n"
                 .. " tcp dport 5001 tcp flags & (syn|ack) == syn counter name syns\n }\n}")
      local sout, cout = lab.dir .. "/s.out", lab.dir .. "/c.out"
      local spid = spawn(lab, lab.s, { "server", "--listen", SERVER .. ":5001", "--udp", "--duration", "60",
                                       "--report", lab.dir .. "/s.tsv" }, sout)
      wait_line(sout, "listening: " .. SERVER .. ":5001 tcp udp", 5)
      local cpid = spawn(lab, lab.c, client_args(lab, { "--flows", "500", "--new-rate", "250", "--new-max", "500",
                                                         "--duration", "6", "--udp", "4", "--interval", "50" }), cout)
      wait_line(cout, "ready: connections 500 established 500", 10)
      -- While it runs, the server's namespace holds the first 500 at least.
      local est = #H.run({ "ip", "netns", "exec", lab.s, "ss", "-Htn", "state", "established", "sport", "=", ":5001" })
                      :gsub("[^\n]", "")
      assert.is_true(est >= 500, "established at the server: " .. est)
      wait_exit(cpid, 20)
      H.run({ "kill", "-TERM", tostring(spid) })
      wait_exit(spid, 10)
      local c, s = H.read_file(cout), H.read_file(sout)
      assert.are.same({ total = 1000, survived = 1000, stalled = 0, reset = 0, lost_bytes = 0 }, outcome(c))
      assert.are.same(outcome(c), outcome(s))
      -- What the client sent the server received, and the other way.
      assert.are.equal(c:match("bytes: sent (%d+)"), s:match("bytes: sent %d+ received (%d+)"))
      assert.are.equal(s:match("bytes: sent (%d+)"), c:match("bytes: sent %d+ received (%d+)"))
      assert.truthy(c:match("udp: flows 4 sent (%d+) received %1 lost 0"))
      assert.truthy(c:match("connection_gap_ms min/median/p99/max: [%d.]+ / [%d.]+ / [%d.]+ / [%d.]+"))
      assert.truthy(c:match("rss_kb: %d+"))
      assert.are.equal(1000, counter(lab.s, "syns"))
      -- Both reports name the same 1,000 connections, each survived at both ends.
      local cr, sr = report(lab.dir .. "/c.tsv"), report(lab.dir .. "/s.tsv")
      for id = 0, 999 do
        assert.are.equal("survived", cr[id] and cr[id].class, "client, connection " .. id)
        assert.are.equal("survived", sr[id] and sr[id].class, "server, connection " .. id)
        assert.are.equal(cr[id].sent, sr[id].received)
        assert.are.equal(cr[id].src, sr[id].src) -- no NAT here: both ends saw the same address
      end
      -- Half were opened after the first 500 were up: later, and while those ran.
      assert.is_true(tonumber(cr[999].opened_ms) > tonumber(cr[499].established_ms) + 1000)
      local m = H.run({ FLOWS, "merge", lab.dir .. "/c.tsv", lab.dir .. "/s.tsv" })
      assert.are.same(outcome(c), outcome(m))
      assert.are.same({}, sockets(lab.c))
      assert.are.same({}, sockets(lab.s))
    end)
  end)

  it("finds a changed byte, a reset and a stall, each in its own class", function()
    with_pair(function(lab)
      local sout, cout = lab.dir .. "/s.out", lab.dir .. "/c.out"
      -- The test hook on each side: the client changes byte 100 of connection 5,
      -- the server byte 50 of connection 7 (ids 5 and 7 come from 10.77.1.6 and .8).
      local spid = spawn(lab, lab.s, { "server", "--listen", SERVER .. ":5001", "--duration", "60",
                                       "--stall-ms", "1000", "--corrupt-at", "7:50",
                                       "--report", lab.dir .. "/s.tsv" }, sout)
      wait_line(sout, "listening:", 5)
      local cpid = spawn(lab, lab.c, client_args(lab, { "--flows", "64", "--duration", "7", "--interval", "50",
                                                         "--stall-ms", "1000", "--corrupt-at", "5:100" }), cout)
      wait_line(cout, "ready: connections 64 established 64", 10)
      -- 10.77.1.3's connections are answered with resets; 10.77.1.4's dropped
      -- for 2.5 s, then let through again.
      nft(lab.s, "table inet flows { counter rejected {}\n counter dropped {}\n"
                 .. " chain in { type filter hook input priority 0;\n"
                 .. " ip saddr 10.77.1.3 tcp dport 5001 counter name rejected reject with tcp reset\n"
                 .. " ip saddr 10.77.1.4 tcp dport 5001 counter name dropped drop\n }\n}")
      H.run({ "sleep", "2.5" })
      local dropped = counter(lab.s, "dropped")
      nft(lab.s, "delete chain inet flows in")
      wait_exit(cpid, 30)
      H.run({ "kill", "-TERM", tostring(spid) })
      wait_exit(spid, 10)
      assert.is_true(dropped > 0)
      assert.is_true(counter(lab.s, "rejected") > 0)
      local c, s = H.read_file(cout), H.read_file(sout)
      -- 4 connections a source address; the changed byte the server sent is found by the client.
      assert.are.same({ total = 64, survived = 55, stalled = 4, reset = 4, lost_bytes = 1 }, outcome(c))
      local cr, sr = report(lab.dir .. "/c.tsv"), report(lab.dir .. "/s.tsv")
      assert.are.same({ "10.77.1.8", "corrupt", "50", "lost_bytes" },
                      { cr[7].src:match("^[%d.]+"), cr[7]["end"], cr[7].corrupt_at, cr[7].class })
      assert.are.same({ "10.77.1.6", "corrupt", "100", "lost_bytes" },
                      { sr[5].src:match("^[%d.]+"), sr[5]["end"], sr[5].corrupt_at, sr[5].class })
      assert.are.equal(100, tonumber(sr[5].verified))
      for id, r in pairs(cr) do
        local src = r.src:match("^[%d.]+")
        if src == "10.77.1.3" then
          assert.are.same({ "reset", "ECONNRESET", "reset" }, { r["end"], r.errno, r.class }, "connection " .. id)
        elseif src == "10.77.1.4" then
          -- stalled, then every byte came through
          assert.are.same({ "closed", "stalled" }, { r["end"], r.class }, "connection " .. id)
          assert.is_true(tonumber(r.max_gap_ms) >= 2000, r.max_gap_ms)
          assert.are.equal(r.sent, r.verified)
        elseif id ~= 7 then
          assert.are.equal("survived", r.class, "connection " .. id)
        end
      end
      -- The server's ends of 10.77.1.3's connections mostly just went quiet
      -- (stalled); one whose reply was in flight when the rule came is
      -- retransmitted after the rule went, and the client's RST resets it.
      assert.are.same({ total = 64, survived = 55, lost_bytes = 1 },
                      { total = outcome(s).total, survived = outcome(s).survived, lost_bytes = outcome(s).lost_bytes })
      for id, r in pairs(sr) do
        local src = r.src:match("^[%d.]+")
        if src == "10.77.1.3" then
          assert.truthy(r.class == "stalled" or r.class == "reset", "server, connection " .. id .. ": " .. r.class)
        elseif src == "10.77.1.4" then
          assert.are.same({ "closed", "stalled" }, { r["end"], r.class }, "server, connection " .. id)
        end
      end
      assert.are.same({ total = 64, survived = 54, stalled = 4, reset = 4, lost_bytes = 2 },
                      outcome(H.run({ FLOWS, "merge", lab.dir .. "/c.tsv", lab.dir .. "/s.tsv" })))
    end)
  end)

  it("counts each connection's gaps from the mark (SIGUSR1) on, at both ends", function()
    with_pair(function(lab)
      local sout, cout = lab.dir .. "/s.out", lab.dir .. "/c.out"
      local spid = spawn(lab, lab.s, { "server", "--listen", SERVER .. ":5001", "--duration", "60",
                                       "--stall-ms", "1000", "--report", lab.dir .. "/s.tsv" }, sout)
      wait_line(sout, "listening:", 5)
      local cpid = spawn(lab, lab.c, client_args(lab, { "--flows", "16", "--duration", "7", "--interval", "50",
                                                         "--stall-ms", "1000" }), cout)
      wait_line(cout, "ready: connections 16 established 16", 10)
      -- one source address a connection: 10.77.1.4's is held up for 2 s
      -- before the mark, 10.77.1.5's for 2 s after it
      local function hold(src)
        nft(lab.s, "table inet flows { counter dropped {}\n chain in { type filter hook input priority 0;\n"
                   .. " ip saddr " .. src .. " tcp dport 5001 counter name dropped drop\n }\n}")
        H.run({ "sleep", "2" })
        assert.is_true(counter(lab.s, "dropped") > 0)
        nft(lab.s, "delete table inet flows")
      end
      hold("10.77.1.4")
      H.run({ "sleep", "0.5" })
      H.run({ "kill", "-USR1", tostring(cpid), tostring(spid) })
      wait_line(cout, "mark_ms:", 5)
      wait_line(sout, "mark_ms:", 5)
      hold("10.77.1.5")
      wait_exit(cpid, 30)
      H.run({ "kill", "-TERM", tostring(spid) })
      wait_exit(spid, 10)
      assert.are.same({ total = 16, survived = 15, stalled = 1, reset = 0, lost_bytes = 0 },
                      outcome(H.read_file(cout)))
      for _, side in ipairs({ "c", "s" }) do
        for id, r in pairs(report(lab.dir .. "/" .. side .. ".tsv")) do
          local src = r.src:match("^[%d.]+")
          if src == "10.77.1.5" then
            assert.are.same({ "closed", "stalled" }, { r["end"], r.class }, side .. " connection " .. id)
            assert.is_true(tonumber(r.max_gap_ms) >= 1800, r.max_gap_ms)
          else
            assert.are.equal("survived", r.class, side .. " connection " .. id .. " from " .. src)
            assert.is_true(tonumber(r.max_gap_ms) < 1000, r.max_gap_ms)
          end
        end
      end
    end)
  end)

  it("ends on SIGTERM with its report written and nothing left behind", function()
    with_pair(function(lab)
      local sout, cout = lab.dir .. "/s.out", lab.dir .. "/c.out"
      local spid = spawn(lab, lab.s, { "server", "--listen", SERVER .. ":5001", "--listen", SERVER .. ":5002",
                                       "--udp", "--duration", "600", "--report", lab.dir .. "/s.tsv" }, sout)
      wait_line(sout, "listening: " .. SERVER .. ":5002", 5)
      local args = client_args(lab, { "--flows", "300", "--duration", "600", "--udp", "2" })
      args[3] = SERVER .. ":5001"
      table.insert(args, 4, "--connect")
      table.insert(args, 5, SERVER .. ":5002")
      local cpid = spawn(lab, lab.c, args, cout)
      wait_line(cout, "ready: connections 300 established 300", 10)
      H.run({ "kill", "-TERM", tostring(cpid) })
      wait_exit(cpid, 10) -- it drains: every stream ends and is answered
      H.run({ "kill", "-TERM", tostring(spid) })
      wait_exit(spid, 10)
      assert.are.same({ total = 300, survived = 300, stalled = 0, reset = 0, lost_bytes = 0 },
                      outcome(H.read_file(cout)))
      assert.are.equal(300, outcome(H.read_file(sout)).survived)
      local ports = {}
      for _, r in pairs(report(lab.dir .. "/s.tsv")) do ports[r.dst] = (ports[r.dst] or 0) + 1 end
      assert.are.same({ [SERVER .. ":5001"] = 150, [SERVER .. ":5002"] = 150 }, ports)
      assert.are.same({}, sockets(lab.c))
      assert.are.same({}, sockets(lab.s))
      -- No process of it in either namespace.
      for _, ns in ipairs({ lab.c, lab.s }) do
        assert.are.equal("", H.run({ "ip", "netns", "pids", ns }))
      end
    end)
  end)

  it("leaves no process and no open socket after SIGKILL either", function()
    with_pair(function(lab)
      local sout, cout = lab.dir .. "/s.out", lab.dir .. "/c.out"
      local spid = spawn(lab, lab.s, { "server", "--listen", SERVER .. ":5001", "--duration", "600" }, sout)
      wait_line(sout, "listening:", 5)
      local cpid = spawn(lab, lab.c, client_args(lab, { "--flows", "300", "--duration", "600" }), cout)
      wait_line(cout, "ready: connections 300 established 300", 10)
      H.run({ "kill", "-KILL", tostring(cpid), tostring(spid) })
      wait_exit(cpid, 5)
      wait_exit(spid, 5)
      for _, ns in ipairs({ lab.c, lab.s }) do
        assert.are.equal("", H.run({ "ip", "netns", "pids", ns }))
        -- The kernel closes what the process held: nothing listens or stays
        -- established (what remains are closing states it ends by itself).
        assert.truthy(H.wait_for(function()
          return H.run({ "ip", "netns", "exec", ns, "ss", "-Htan", "state", "established" }) == "" and
                 H.run({ "ip", "netns", "exec", ns, "ss", "-Htln" }) == ""
        end, 5), ns)
      end
    end)
  end)

  it("holds 10,000 connections split over two clients and two servers, joined by merge", function()
    with_pair(function(lab)
      local cmd = {}
      for k = 1, 2 do
        local port = tostring(5000 + k)
        cmd[k] = { sout = lab.dir .. "/s" .. k .. ".out", cout = lab.dir .. "/c" .. k .. ".out" }
        cmd[k].spid = spawn(lab, lab.s, { "server", "--listen", SERVER .. ":" .. port, "--duration", "120",
                                          "--report", lab.dir .. "/s" .. k .. ".tsv" }, cmd[k].sout)
        wait_line(cmd[k].sout, "listening:", 5)
      end
      for k = 1, 2 do
        cmd[k].cpid = spawn(lab, lab.c, { "client", "--connect", SERVER .. ":" .. (5000 + k),
                                          "--src", "10.77.1.1+" .. NSRC, "--flows", "5000",
                                          "--id-base", tostring((k - 1) * 5000),
                                          "--open-rate", "5000", "--interval", "1000", "--duration", "20",
                                          "--report", lab.dir .. "/c" .. k .. ".tsv" }, cmd[k].cout)
      end
      for k = 1, 2 do
        wait_line(cmd[k].cout, "ready: connections 5000 established 5000", 20)
      end
      local est = #H.run({ "ip", "netns", "exec", lab.s, "ss", "-Htn", "state", "established" }):gsub("[^\n]", "")
      assert.are.equal(10000, est)
      for k = 1, 2 do wait_exit(cmd[k].cpid, 60) end
      for k = 1, 2 do
        H.run({ "kill", "-TERM", tostring(cmd[k].spid) })
        wait_exit(cmd[k].spid, 10)
      end
      -- The two clients' reports and the two servers' reports, concatenated, merge by id.
      local function cat(name)
        local path = lab.dir .. "/" .. name .. ".tsv"
        local one, two = lab.dir .. "/" .. name .. "1.tsv", lab.dir .. "/" .. name .. "2.tsv"
        H.write_file(path, H.read_file(one) .. H.read_file(two))
        return path
      end
      local m = H.run({ FLOWS, "merge", cat("c"), cat("s") })
      assert.are.same({ total = 10000, survived = 10000, stalled = 0, reset = 0, lost_bytes = 0 }, outcome(m))
    end)
  end)

  it("refuses what it cannot hold or was not given", function()
    local function usage(args, want)
      local out, ok, code = H.run({ "prlimit", "--nofile=1000:1000", FLOWS, table.unpack(args) }, { stderr = true })
      assert.is_falsy(ok)
      assert.are.equal(2, code)
      assert.truthy(out:find(want, 1, true), out)
    end
    local c = { "client", "--connect", "127.0.0.1:1", "--src", "127.0.0.1" }
    usage({ c[1], c[2], c[3], c[4], c[5], "--flows", "200001" }, "usage:")
    usage({ c[1], c[2], c[3], c[4], c[5], "--flows", "5000" }, "RLIMIT_NOFILE lets this process hold")
    usage({ c[1], c[2], c[3], c[4], c[5], "--flows", "100000", "--new-rate", "100000", "--duration", "10" },
          "at most 200000")
    usage({ c[1], c[2], c[3], c[4], c[5], "--flows", "10", "--duration", "3601" }, "usage:")
    usage({ c[1], c[2], c[3], c[4], c[5], "--flows", "10x" }, "usage:")
    usage({ "client", "--connect", "127.0.0.1", "--src", "127.0.0.1", "--flows", "1" }, "usage:")
    usage({ "server", "--listen", "127.0.0.1:1", "--src", "127.0.0.1" }, "usage:")
    usage({ "server" }, "usage:")
    usage({ "server", "--listen", "127.0.0.1:1", "--interval", "5000" },
          "--stall-ms 5000 must be longer than --interval 5000")
  end)
end)
