-- proc_spec.lua - fwsh.proc, checked against /proc and kill -0: processes
-- really run where asked, and are really gone after stop, stop_lab, the end
-- of the Lua state, and the death of fwsh itself.
local H = require "helper"
local fwsh = H.fwsh

-- Commands run by the specs, without the AddressSanitizer runtime of the pass.
local function argv(...)
  local v = { ... }
  if os.getenv("LD_PRELOAD") then table.insert(v, 1, "-u"); table.insert(v, 1, "env"); table.insert(v, 3, "LD_PRELOAD") end
  return v
end

local function alive(pid)
  local _, ok = H.run({ "kill", "-0", tostring(pid) })
  return ok == true
end

local read = H.read_file

local function netns_inode(path)
  local out = H.run({ "stat", "-L", "-c", "%i", path })
  return out:match("%d+")
end

describe("fwsh.proc", function()
  it("runs an argv list and captures stdout, stderr and the exit code", function()
    local r = fwsh.proc.run(argv("sh", "-c", "echo out; echo err >&2; exit 3"))
    assert.are.equal("out\n", r.out)
    assert.are.equal("err\n", r.err)
    assert.is_false(r.ok)
    assert.are.equal(3, r.code)
    local t = fwsh.proc.run(argv("sh", "-c", "kill -TERM $$"))
    assert.are.equal(15, t.signal)
    assert.is_true(fwsh.proc.run(argv("true")).ok)
  end)

  it("never uses a shell: arguments arrive as given", function()
    local r = fwsh.proc.run(argv("printf", "%s|", "a b", "$(id)", "'q'", ";"))
    assert.are.equal("a b|$(id)|'q'|;|", r.out)
  end)

  it("runs inside a named namespace", H.ns(function(ns)
    fwsh.veth.add("va", "vb")
    local r = fwsh.proc.run(argv("ip", "-j", "link", "show"), { netns = ns })
    assert.truthy(r.out:find('"va"', 1, true))
    -- In a fresh namespace there is only lo.
    H.run({ "ip", "netns", "add", ns .. "-2" })
    local r2 = fwsh.proc.run(argv("ip", "-o", "link", "show"), { netns = ns .. "-2" })
    H.run({ "ip", "netns", "delete", ns .. "-2" })
    assert.are.equal(1, select(2, r2.out:gsub("\n", "")))
    assert.truthy(r2.out:find("lo:", 1, true))
  end))

  it("kills a command that runs past its timeout", function()
    local t0 = fwsh.proc.clock()
    local err = H.raises(function() fwsh.proc.run(argv("sleep", "30"), { timeout = 0.2 }) end,
                         "proc.run", "timed out", "killed")
    assert.are.equal("ETIMEDOUT", err.code)
    assert.truthy(fwsh.proc.clock() - t0 < 5)
    assert.are.equal("", H.pgrep("-x", "-f", "sleep 30"))
  end)

  it("says why a program cannot start", function()
    local err = H.raises(function() fwsh.proc.run({ "/nonexistent/prog" }) end,
                         "proc.run /nonexistent/prog: No such file or directory")
    assert.are.equal("ENOENT", err.code)
  end)

  it("spawns in a namespace, and stop kills and reaps the whole process group", H.ns(function(ns)
    local p = fwsh.proc.spawn(argv("sh", "-c", "sleep 100 & wait"), { netns = ns })
    local pid = p:pid()
    assert.is_true(alive(pid))
    assert.are.equal(netns_inode("/run/netns/" .. ns), netns_inode("/proc/" .. pid .. "/ns/net"))
    -- the grandchild, sleep, in the same group
    local kids
    fwsh.wait{ fn = function()
      kids = read("/proc/" .. pid .. "/task/" .. pid .. "/children") or ""
      return kids:match("%d+") ~= nil
    end, timeout = 5, interval = 0.01 }
    local grandchild = tonumber(kids:match("%d+"))
    assert.is_true(alive(grandchild))
    local st = p:stop(1)
    assert.is_false(st.ok)
    assert.is_false(p:running())
    assert.is_nil(p:pid())
    assert.is_false(alive(pid))
    fwsh.wait{ fn = function() return not alive(grandchild) end, timeout = 2, interval = 0.01 }
    assert.is_false(alive(grandchild))
    assert.is_nil(read("/proc/" .. pid .. "/stat"))
  end))

  it("sends signals by name: STOP freezes, CONT thaws", function()
    local p <close> = fwsh.proc.spawn(argv("sleep", "100"))
    p:kill("STOP")
    fwsh.wait{ fn = function() return (read("/proc/" .. p:pid() .. "/stat") or ""):match("^%d+ %b() (%a)") == "T" end,
               timeout = 2, interval = 0.01 }
    p:kill("SIGCONT")
    fwsh.wait{ fn = function() return (read("/proc/" .. p:pid() .. "/stat") or ""):match("^%d+ %b() (%a)") ~= "T" end,
               timeout = 2, interval = 0.01 }
    H.raises(function() p:kill("NOPE") end, "unknown signal 'NOPE'")
  end)

  it("waits with a deadline and reports the exit", function()
    local p = fwsh.proc.spawn(argv("sh", "-c", "exit 7"))
    local st = p:wait(5)
    assert.are.equal(7, st.code)
    local q <close> = fwsh.proc.spawn(argv("sleep", "100"))
    local err = H.raises(function() q:wait(0.1) end, "proc.wait")
    assert.are.equal("ETIMEDOUT", err.code)
    H.raises(function() p:kill() end, "it has ended")
  end)

  it("stops every process of a lab with stop_lab", function()
    fwsh.lab("spec-a")
    local a = fwsh.proc.spawn(argv("sleep", "100"))
    fwsh.lab("spec-b")
    local b = fwsh.proc.spawn(argv("sleep", "100"))
    local pa, pb = a:pid(), b:pid()
    assert.are.equal(1, fwsh.proc.stop_lab("spec-a"))
    assert.is_false(alive(pa))
    assert.is_true(alive(pb))
    fwsh.proc.stop_lab()
    assert.is_false(alive(pb))
    fwsh.lab("default")
  end)

  it("leaves nothing running when the fwsh program ends, or is killed", function()
    local out = H.fwsh_cmd({ "-e", "local p = fwsh.proc.spawn{'sleep', '100'} print(p:pid())" })
    local pid = tonumber(out:match("%d+"))
    assert.truthy(pid)
    assert.is_false(alive(pid))
    -- SIGKILL to fwsh: its children die with it (PR_SET_PDEATHSIG).
    local file = os.tmpname()
    local f = fwsh.proc.spawn({ H.build .. "/fwsh", "--lab", "proc-killed", "-e",
      "local p = fwsh.proc.spawn{'sleep', '100'} " ..
      "local f = io.open('" .. file .. "', 'w') f:write(p:pid()) f:close() fwsh.proc.run({'sleep', '100'}, {timeout = 100})" })
    fwsh.wait{ fn = function() return (read(file) or ""):match("%d+") end, timeout = 10, interval = 0.01 }
    local child = tonumber(read(file))
    assert.is_true(alive(child))
    f:kill("KILL")
    f:wait(5)
    fwsh.wait{ fn = function() return not alive(child) end, timeout = 5, interval = 0.01 }
    assert.is_false(alive(child))
    os.remove(file)
    -- the cgroups of its processes are down's to remove (cgroup_spec.lua)
    local out, ok = H.fwsh_cmd({ "down", "proc-killed" }, { stderr = true })
    assert.truthy(ok, out)
  end)

  it("checks its arguments", function()
    H.raises(function() fwsh.proc.run({}) end, "argv list is empty")
    H.raises(function() fwsh.proc.run({ "true", {} }) end, "argv[2]: string expected, got table")
    H.raises(function() fwsh.proc.spawn({ "true" }, { nope = 1 }) end, "unknown option 'nope'")
    H.raises(function() fwsh.proc.run({ "true" }, { netns = "no-such-ns" }) end, "no namespace no-such-ns")
    assert.truthy(tostring(fwsh.proc.spawn(argv("true"))):match("^proc "))
  end)

  it("keeps a process out of real-time scheduling when asked (realtime=false): the kernel refuses it", function()
    -- it raises itself to RR 50 (as conntrackd does to 99), then sleeps
    local function raising(realtime)
      local p = fwsh.proc.spawn(argv("sh", "-c", "chrt -r -p 50 $$ 2>/dev/null; exec sleep 30"), { realtime = realtime })
      local pid = p:pid()
      fwsh.wait{ fn = function() return read("/proc/" .. pid .. "/comm"):match("^sleep") end, timeout = 5 }
      return p, pid
    end
    local on <close>, on_pid = raising(nil)
    assert.are.equal(2, H.sched_policy(on_pid)) -- SCHED_RR
    local off <close>, off_pid = raising(false)
    assert.are.equal(0, H.sched_policy(off_pid)) -- normal
    -- what refused it: no real-time priority allowed, and CAP_SYS_NICE gone for good
    assert.truthy(read("/proc/" .. off_pid .. "/limits"):find("Max realtime priority%s+0%s+0"))
    local bnd = tonumber(read("/proc/" .. off_pid .. "/status"):match("CapBnd:%s*(%x+)"), 16)
    assert.are.equal(0, bnd >> 23 & 1)
    H.raises(function() fwsh.proc.spawn({ "true" }, { realtime = "no" }) end, "realtime")
  end)

  it("does not write to _G", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    fwsh.proc.run(argv("true"))
    for k in pairs(_G) do assert.truthy(before[k], "new global " .. tostring(k)) end
  end)
  it("names the culprit when it cannot start: the stdin file, not the command", function()
    local ok, err = pcall(fwsh.proc.run, { "cat" }, { stdin = "/nonexistent" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("cannot start cat: stdin /nonexistent: No such file", 1, true),
                  tostring(err))
  end)
  it("leaves, when the fwsh program ends, no process its daemons forked, even in a group of its own", function()
    local mark = tostring(math.random(100000, 999999))
    local out, ok = H.fwsh_cmd({ "--sandbox", "-e", string.format([[
      fwsh.proc.spawn{ "sh", "-c", "setsid sleep %s.1 & exec sleep %s.2" }
      fwsh.proc.run{ "sleep", "0.2" }]], mark, mark) }, { stderr = true })
    assert.truthy(ok, out)
    local ps = H.run({ "ps", "-eo", "stat,args" })
    assert.falsy(ps:find("sleep " .. mark, 1, true), ps)
  end)

  it("reaps, while the program runs on, what a lab's process left and that ended after it was killed", H.ns(function(ns)
    -- fwsh is the subreaper of what its processes leave: a child that left
    -- the group (setsid) outlives its killed parent as fwsh's child, ends,
    -- and must not stay a zombie until the program's end (a lab runs for hours)
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    local words = {}
    for i, a in ipairs({ H.build .. "/fwsh", "--netns", ns, "--lab", "reap", "-e", [[
      local p = fwsh.proc.spawn{ "sh", "-c", "setsid sh -c 'sleep 0.5; exit 0' & exec sleep 60" }
      fwsh.proc.run{ "sleep", "0.2" }
      p:kill("KILL")
      p:wait(5)
      fwsh.proc.run{ "sleep", "1" } -- the one that left ends meanwhile, if still running
      fwsh.proc.run{ "true" }       -- the lab's next step
      io.write("ready\n"); io.flush()
      fwsh.wait{ fn = function() return false end, timeout = 30 }]] }) do
      words[i] = H.quote(a)
    end
    local pid = H.run({ "sh", "-c", table.concat(words, " ") .. " >" .. H.quote(dir .. "/out")
                                    .. " 2>&1 & echo $!" }):match("%d+")
    local ok, err = pcall(function()
      assert.truthy(H.wait_for(function() return (read(dir .. "/out") or ""):find("^ready\n") end, 20),
                    read(dir .. "/out"))
      assert.truthy(alive(pid), "fwsh ended: " .. (read(dir .. "/out") or ""))
      local zombies = {} -- fwsh's children in state Z, from ps (which reads /proc/PID/stat)
      for line in H.run({ "ps", "-eo", "pid=,ppid=,stat=,args=" }):gmatch("[^\n]+") do
        local p, ppid, stat, args = line:match("^%s*(%d+)%s+(%d+)%s+(%S+)%s+(.*)$")
        if ppid == pid and stat:find("Z", 1, true) then zombies[#zombies + 1] = p .. " " .. args end
      end
      assert.are.same({}, zombies)
    end)
    H.run({ "kill", pid })
    H.wait_for(function() return not alive(pid) end, 10)
    H.run({ "rm", "-rf", "--", dir })
    if not ok then error(err, 0) end
  end))
end)
