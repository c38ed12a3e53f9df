-- down_links_spec.lua - `fwsh down` deletes a lab's links in one request by
-- their identity, never by the group number alone: a link that joins the
-- lab's link group after down listed the lab's links stays, while every
-- tagged one goes. strace holds fwsh at its first netlink request after the
-- listing (its second sendmsg), long enough for another program to add such
-- a link; what is left is read back with ip.
local H = require "helper"

-- The link called name in ns, from ip -j -d, or nil.
local function link(ns, name)
  local out, ok = H.run({ "ip", "-n", ns, "-j", "-d", "link", "show", "dev", name })
  if not ok then return nil end
  return (out:gsub("%s+$", ""))
end

-- What /proc/PID/syscall says pid is in (its first word: the number), or nil.
local function syscall(pid)
  return ((H.read_file("/proc/" .. pid .. "/syscall") or ""):match("^(%S+)"))
end

local SENDMSG = "46" -- x86_64's number

describe("fwsh down", function()
  it("leaves a link that joins the lab's group after the listing, and deletes the lab's", H.ns(function(ns)
    if H.run({ "uname", "-m" }):gsub("%s+$", "") ~= "x86_64" then
      return pending("reads /proc/PID/syscall as x86_64 numbers it")
    end
    local lab = "dl" .. math.random(10000, 99999)
    local out, ok = H.run({ H.build .. "/fwsh", "--netns", ns, "--lab", lab, "-e",
                            "fwsh.bridge.add('db1'); fwsh.bridge.add('db2'); fwsh.tap.add('dt1')" },
                          { stderr = true })
    assert.truthy(ok, out)
    local group = link(ns, "db1"):match('"group":"(%d+)"')
    assert(group, "no group number on db1: " .. link(ns, "db1"))
    -- (the leak check cannot run under ptrace: off for this run of the sanitizer build)
    local p <close> = H.fwsh.proc.spawn({ "env",
      "ASAN_OPTIONS=" .. (os.getenv("ASAN_OPTIONS") or "") .. ":detect_leaks=0",
      "strace", "-qq", "-o", "/dev/null", "-e", "trace=sendmsg",
      "-e", "inject=sendmsg:delay_enter=3000000:when=2",
      H.build .. "/fwsh", "--netns", ns, "down", lab })
    -- (env execs strace, which starts fwsh as its child)
    local fwsh_pid = H.wait_for(function()
      return H.run({ "pgrep", "-P", tostring(p:pid()), "-x", "fwsh" }):match("%d+")
    end, 5)
    assert(fwsh_pid, "no fwsh under strace")
    -- held at the second sendmsg: in it now and still a moment later (the
    -- first one passes through in a few milliseconds)
    assert.truthy(H.wait_for(function()
      if syscall(fwsh_pid) ~= SENDMSG then return false end
      H.run({ "sleep", "0.3" })
      return syscall(fwsh_pid) == SENDMSG
    end, 10), "fwsh down was not held at its second sendmsg")
    out, ok = H.run({ "ip", "-n", ns, "link", "add", "dfx", "group", group, "type", "bridge" }, { stderr = true })
    assert.truthy(ok, out)
    local r = p:wait(30)
    assert.truthy(r.ok, r.err or "")
    assert.truthy(link(ns, "dfx"), "the link that joined the group was deleted")
    assert.truthy(link(ns, "dfx"):find('"group":"' .. group .. '"', 1, true), link(ns, "dfx"))
    for _, name in ipairs({ "db1", "db2", "dt1" }) do assert.is_nil(link(ns, name), name .. " was left") end
  end))
end)
