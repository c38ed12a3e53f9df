-- cgroup_spec.lua - a lab's processes, to the last descendant: each process
-- fwsh starts runs in a cgroup of its lab's (read back from /proc/PID/cgroup
-- and the cgroup2 tree), and what it forked, also what left its process
-- group, ends when it is stopped, when the fwsh program ends or gets SIGTERM,
-- and after a SIGKILL of fwsh with `fwsh down`; `ps` then shows none, and the
-- cgroup tree is as it was.
local H = require "helper"
local fwsh = H.fwsh

local P = require "lab_procs"
local sleepers, mark = P.sleepers, P.mark

local cg -- the cgroup2 tree, nil where the system has none
setup(function() cg = P.mount() end)
teardown(function() P.unmount(cg) end)

local function need_cgroup2()
  if not cg then pending("no cgroup2 on this system: processes run without a cgroup") end
  return cg ~= nil
end

local function cgroup_of(pid)
  return ((H.read_file("/proc/" .. pid .. "/cgroup") or ""):match("\n?0::(%S+)"))
end

local function lab_cgroups(lab)
  return P.lab_cgroups(cg, lab)
end

local function is_dir(path)
  return select(2, H.run({ "test", "-d", path })) == true
end

-- The argv of a fwsh program that starts, for lab, a shell with three
-- sleeps: one in a session of its own (out of every process group fwsh
-- knows), one its background child, one the shell itself; then it waits.
local function fwsh_with_forks(ns, lab, m)
  return { H.build .. "/fwsh", "--netns", ns, "--lab", lab, "-e", string.format([[
    fwsh.proc.spawn{ "sh", "-c", "setsid sleep 60 0.%s1 & sleep 60 0.%s2 & exec sleep 60 0.%s3" }
    fwsh.wait{ fn = function() return false end, timeout = 60 }]], m, m, m) }
end

-- Starts argv in the background, as a user's shell does (not as a process of
-- the spec's own, which fwsh would own: below); its PID.
local function background(argv)
  local words = {}
  for i, a in ipairs(argv) do words[i] = H.quote(a) end
  return H.run({ "sh", "-c", table.concat(words, " ") .. " >/dev/null 2>&1 & echo $!" }):match("%d+")
end

local function gone(pid)
  return H.wait_for(function() return not select(2, H.run({ "kill", "-0", pid })) end, 10)
end

describe("a lab's processes", function()
  it("each run in a cgroup of the lab's, and stop ends every descendant, forks that left the group too",
     H.ns(function()
    if not need_cgroup2() then return end
    fwsh.lab("cg-stop")
    local m = mark()
    local p = fwsh.proc.spawn({ "sh", "-c", string.format(
      "setsid sleep 60 0.%s1 & sleep 60 0.%s2 & exec sleep 60 0.%s3", m, m, m) })
    local ok, err = pcall(function()
      assert.truthy(H.wait_for(function() return #sleepers(m) == 3 end, 5), "the sleeps did not start")
      local path = cgroup_of(p:pid())
      assert.truthy(path and path:match("^/fwsh%.cg%-stop%.%d+/%x+$"), tostring(path))
      for _, pid in ipairs(sleepers(m)) do assert.are.equal(path, cgroup_of(pid)) end
      assert.truthy(is_dir(cg .. path))
      p:stop()
      assert.are.same({}, sleepers(m))
      assert.falsy(is_dir(cg .. path))
      assert.are.same({}, lab_cgroups("cg-stop"))
    end)
    p:stop()
    fwsh.lab("default")
    if not ok then error(err, 0) end
  end))

  it("end with a run that timed out, forks that left its group too", function()
    if not need_cgroup2() then return end
    local m = mark()
    -- a lab of its own: "default" is every other program's too (the tree is the machine's)
    fwsh.lab("cg-run")
    local ok, err = pcall(H.raises, function()
      fwsh.proc.run({ "sh", "-c", string.format("setsid sleep 60 0.%s1 & exec sleep 60 0.%s2", m, m) },
                    { timeout = 0.5 })
    end, "still running after 500 ms: killed")
    fwsh.lab("default")
    if not ok then error(err, 0) end
    assert.are.same({}, sleepers(m))
    assert.are.same({}, lab_cgroups("cg-run"))
  end)

  it("end with the fwsh program, and with a SIGTERM to it", H.ns(function(ns)
    if not need_cgroup2() then return end
    local m = mark()
    local out, ok = H.fwsh_cmd({ "--lab", "cg-end", "-e", string.format([[
      fwsh.proc.spawn{ "sh", "-c", "setsid sleep 60 0.%s1 & exec sleep 60 0.%s2" }
      fwsh.proc.run{ "sleep", "0.2" }]], m, m) }, { prefix = { "ip", "netns", "exec", ns }, stderr = true })
    assert.truthy(ok, out)
    assert.are.same({}, sleepers(m))
    assert.are.same({}, lab_cgroups("cg-end"))

    m = mark()
    local pid = background(fwsh_with_forks(ns, "cg-term", m))
    local started = H.wait_for(function() return #sleepers(m) == 3 end, 10)
    local cgroups = lab_cgroups("cg-term")
    H.run({ "kill", "-TERM", pid })
    assert.truthy(gone(pid))
    assert.truthy(started, "the sleeps did not start")
    assert.are.equal(1, #cgroups)
    assert.are.same({}, sleepers(m))
    assert.are.same({}, lab_cgroups("cg-term"))
  end))

  it("outlive a SIGKILL of fwsh only until fwsh down, also from ip netns exec", H.ns(function(ns)
    if not need_cgroup2() then return end
    local m = mark()
    local pid = background(fwsh_with_forks(ns, "cg-kill", m))
    local started = H.wait_for(function() return #sleepers(m) == 3 end, 10)
    H.run({ "kill", "-KILL", pid })
    assert.truthy(gone(pid))
    assert.truthy(started, "the sleeps did not start")
    -- the parent-death signal took the shell; what it forked is left
    assert.truthy(H.wait_for(function() return #sleepers(m) == 2 end, 5), #sleepers(m))
    assert.are.equal(1, #lab_cgroups("cg-kill"))
    local out, dok = H.fwsh_in(ns, { "down", "cg-kill" }, { stderr = true })
    assert.truthy(dok, out)
    assert.are.same({}, sleepers(m))
    assert.are.same({}, lab_cgroups("cg-kill"))
  end))

  it("end after a SIGHUP to fwsh, handled as SIGTERM", H.ns(function(ns)
    if not need_cgroup2() then return end
    local m = mark()
    local pid = background(fwsh_with_forks(ns, "cg-hup", m))
    local started = H.wait_for(function() return #sleepers(m) == 3 end, 10)
    H.run({ "kill", "-HUP", pid })
    assert.truthy(gone(pid))
    assert.truthy(started, "the sleeps did not start")
    assert.are.same({}, sleepers(m))
    assert.are.same({}, lab_cgroups("cg-hup"))
  end))

  it("of a fwsh that fwsh started are below its cgroup: they end with it, forks too", H.ns(function(ns)
    if not need_cgroup2() then return end
    local m = mark()
    fwsh.lab("cg-outer")
    local f = fwsh.proc.spawn(fwsh_with_forks(ns, "cg-inner", m))
    local ok, err = pcall(function()
      assert.truthy(H.wait_for(function() return #sleepers(m) == 3 end, 10), "the sleeps did not start")
      local outer = cgroup_of(f:pid())
      for _, pid in ipairs(sleepers(m)) do
        local inner = cgroup_of(pid)
        assert.are.equal(outer .. "/fwsh.cg-inner.", inner:sub(1, #outer + 15), inner)
      end
      assert.are.same({}, lab_cgroups("cg-inner")) -- not at the top
      f:kill("KILL")
      f:wait(5)
      assert.are.same({}, sleepers(m))
      assert.falsy(is_dir(cg .. outer))
    end)
    f:stop(1)
    fwsh.lab("default")
    if not ok then error(err, 0) end
  end))

  it("leave no cgroup when lua5.4 exits without closing its state", function()
    if not need_cgroup2() then return end
    local m = mark()
    local res = fwsh.proc.run({ "lua5.4", "-e", string.format([[
      package.cpath = %q .. "/?.so;" .. package.cpath
      local fwsh = require "fwsh"
      fwsh.lab("cg-exit")
      fwsh.proc.spawn{ "sh", "-c", "setsid sleep 60 0.%s1 & exec sleep 60 0.%s2" }
      fwsh.proc.run{ "sleep", "0.2" }
      os.exit(0)]], H.build, m, m) })
    assert.are.equal(0, res.code, res.err)
    assert.are.same({}, lab_cgroups("cg-exit"))
    assert.truthy(H.wait_for(function() return #sleepers(m) == 0 end, 5), #sleepers(m))
  end)

  it("of a lab of the same name in another namespace are another lab's: down leaves them", H.ns(function(ns)
    if not need_cgroup2() then return end
    local m = mark()
    fwsh.lab("cg-twin")
    local here = fwsh.proc.spawn({ "sleep", "60", "0." .. m .. "1" })
    local there
    local ok, err = pcall(function()
      H.with_netns(function(other)
        fwsh.netns.run(other, function()
          there = fwsh.proc.spawn({ "sleep", "60", "0." .. m .. "2" })
        end)
        assert.are_not.equal(cgroup_of(here:pid()):match("^/[^/]+"), cgroup_of(there:pid()):match("^/[^/]+"))
        local out, dok = H.fwsh_in(ns, { "down", "cg-twin" }, { stderr = true })
        assert.truthy(dok, out)
        assert.is_false(here:running())
        assert.is_true(there:running())
        assert.are.equal(1, #lab_cgroups("cg-twin"))
        there:stop()
        assert.are.same({}, lab_cgroups("cg-twin"))
      end)
    end)
    here:stop()
    if there then there:stop() end
    fwsh.lab("default")
    if not ok then error(err, 0) end
  end))
end)
