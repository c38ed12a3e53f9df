-- own_pids_spec.lua - the specs' view of "our processes" (H.pgrep): a
-- process of another run on the machine (here: one in network and mount
-- namespaces of its own, as another sandbox's are) is never counted, while
-- this run's are, in its namespaces named or not, as pgrep alone cannot tell.
local H = require "helper"

local function start(dir, ...)
  local argv = { ... }
  argv[#argv + 1] = dir .. "/fwsh-own-spec"
  argv[#argv + 1] = "60"
  local words = {}
  for i, a in ipairs(argv) do words[i] = H.quote(a) end
  local pid = H.run({ "sh", "-c", table.concat(words, " ") .. " >/dev/null 2>&1 & echo $!" }):match("%d+")
  assert(pid, table.concat(argv, " "))
  return pid
end

describe("H.pgrep", function()
  it("counts this run's processes, never another run's of the same name", H.ns(function(ns)
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    assert(select(2, H.run({ "cp", "/bin/sleep", dir .. "/fwsh-own-spec" })))
    -- unshare execs the program: the pid echoed is the process's own
    local other = start(dir, "unshare", "--net", "--mount", "--propagation", "private")
    local named = start(dir, "ip", "netns", "exec", ns)
    local here = start(dir)
    local ok, err = pcall(function()
      assert.truthy(H.wait_for(function()
        return select(2, H.run({ "pgrep", "-x", "fwsh-own-spec" }):gsub("%d+", "")) == 3
      end, 5), "the three did not start")
      local all = H.run({ "pgrep", "-x", "fwsh-own-spec" })
      assert.truthy(all:find(other .. "\n", 1, true), "pgrep alone counts the other run's: " .. all)
      local own = {}
      for pid in H.pgrep("-x", "fwsh-own-spec"):gmatch("%d+") do own[#own + 1] = pid end
      table.sort(own)
      local want = { named, here }
      table.sort(want)
      assert.are.same(want, own)
    end)
    H.run({ "kill", other, named, here })
    H.run({ "rm", "-rf", "--", dir })
    if not ok then error(err, 0) end
  end))

  it("counts a lab's process whose namespace is gone, by the lab's cgroup", H.ns(function(ns)
    -- the fwsh program under ip netns exec (a mount namespace of its own)
    -- starts it in a namespace it makes and then unnames: neither the
    -- process's mount nor its network namespace is one this run has
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    assert(select(2, H.run({ "cp", "/bin/sleep", dir .. "/fwsh-own-spec" })))
    local words = {}
    for i, a in ipairs({ "ip", "netns", "exec", ns, H.build .. "/fwsh", "--lab", "own", "-e", string.format([[
      fwsh.netns.add("own-in")
      local p = fwsh.proc.spawn({ %q, "60" }, { netns = "own-in" })
      fwsh.netns.delete("own-in")
      io.write(p:pid(), "\n"); io.flush()
      fwsh.wait{ fn = function() return false end, timeout = 30 }]], dir .. "/fwsh-own-spec") }) do
      words[i] = H.quote(a)
    end
    local fwsh_pid = H.run({ "sh", "-c", table.concat(words, " ") .. " >" .. H.quote(dir .. "/out")
                                         .. " 2>&1 & echo $!" }):match("%d+")
    local ok, err = pcall(function()
      local pid = H.wait_for(function() return (H.read_file(dir .. "/out") or ""):match("^(%d+)\n") end, 10)
      assert(pid, H.read_file(dir .. "/out"))
      if not (H.read_file("/proc/" .. pid .. "/cgroup") or ""):find("/fwsh.own.", 1, true) then
        return pending("no cgroup2 here: a lab's processes run without a cgroup")
      end
      assert.are.equal(pid .. "\n", H.pgrep("-x", "fwsh-own-spec"))
    end)
    H.run({ "kill", fwsh_pid })
    H.wait_for(function() return H.run({ "pgrep", "-x", "fwsh-own-spec" }) == "" end, 10)
    H.run({ "rm", "-rf", "--", dir })
    if not ok then error(err, 0) end
  end))
end)
