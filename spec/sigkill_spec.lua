-- sigkill_spec.lua - a SIGKILL of fwsh at any instant leaves nothing that
-- `fwsh down` cannot find: killed at random instants while it adds
-- namespaces, builds a lab (with a process that forks), rolls one back, or
-- takes one down, also as PID 1 of a PID namespace and where the PID it had
-- is another live process's when down runs. After down, read back: the
-- links (ip -j), /run/netns, the intent records, ps, the cgroup tree; and a
-- later build of the same names does not fail with "File exists".
local H = require "helper"
local fwsh = H.fwsh
local P = require "lab_procs"

local cg
setup(function() cg = P.mount() end)
teardown(function() P.unmount(cg) end)

local BUILD = [[
  fwsh.proc.spawn{ "sh", "-c", "setsid sleep 60 0.%s1 & exec sleep 60 0.%s2" }
  for b = 0, 2 do
    local br = fwsh.bridge.add("kb" .. b, { grounding = false })
    fwsh.veth.add("kv" .. b, "kw" .. b)
    for t = 1, 30 do fwsh.tap.add("kt" .. b .. "-" .. t, { bridge = br }) end
    fwsh.netns.add(fwsh.lab() .. "-" .. b)
  end
]]

-- What each kind of run does; %s: the mark of its processes (twice).
local SCRIPTS = {
  netns = [[for i = 1, 60 do fwsh.netns.add(fwsh.lab() .. "-" .. i) end while true do end]],
  build = "fwsh.transaction(function()\n" .. BUILD .. "end) while true do end",
  rollback = "fwsh.transaction(function()\n" .. BUILD .. "error('undo') end)",
}

-- When each is killed, in ms after its start: the build takes some 50 to 170
-- ms here, its rollback some 2 s (a tap deleted at a time), down tens of ms.
local WINDOW = { netns = { 5, 120 }, build = { 5, 150 }, rollback = { 60, 1200 }, down = { 1, 40 } }

-- How the fwsh program runs: as itself; as PID 1 of a PID namespace; as
-- PID 2 of one. Down runs in a PID namespace of its own with a live process
-- at PID 2 (a PID reuse: the PID the killed fwsh had, in the namespace it
-- had it in, is someone's).
local MODES = {
  plain = { run = {}, down = {} },
  pid1 = { run = { "unshare", "--pid", "--fork", "--kill-child" },
           down = { "unshare", "--pid", "--fork", "--kill-child" } },
  reused = { run = { "unshare", "--pid", "--fork", "--kill-child", "sh", "-c", '"$@"; :', "sh" },
             down = { "unshare", "--pid", "--fork", "--kill-child", "sh", "-c",
                      'sleep 30 & "$@"; s=$?; kill $!; exit $s', "sh" } },
}

local function argv(prefix, ...)
  local v = {}
  for _, a in ipairs(prefix) do v[#v + 1] = a end
  v[#v + 1] = H.build .. "/fwsh"
  for _, a in ipairs({ ... }) do v[#v + 1] = a end
  return v
end

-- The fwsh processes working on lab (ours, the unshare and sh around them).
local function running(lab)
  local n = 0
  for line in H.run({ "ps", "-eo", "args=" }):gmatch("[^\n]+") do
    if line:find(lab, 1, true) and line:find("fwsh", 1, true) then n = n + 1 end
  end
  return n
end

-- The PID of the fwsh program working on lab, nil if none runs.
local function fwsh_pid(lab)
  for line in H.run({ "ps", "-eo", "pid=,args=" }):gmatch("[^\n]+") do
    local pid, args = line:match("^%s*(%d+)%s+(.*)$")
    if args and args:sub(1, #H.build + 5) == H.build .. "/fwsh" and args:find(lab, 1, true) then
      return pid
    end
  end
end

-- Starts argv in the background and SIGKILLs the fwsh program in it ms
-- milliseconds later (itself: a kill of the unshare around it may come before
-- that has armed the parent-death signal of its child).
local function kill_after(v, ms, lab)
  local words = {}
  for i, a in ipairs(v) do words[i] = H.quote(a) end
  H.run({ "sh", "-c", table.concat(words, " ") .. " >/dev/null 2>&1 &" })
  local t = fwsh.proc.clock() + ms / 1000
  while fwsh.proc.clock() < t do end
  local pid
  assert.truthy(H.wait_for(function() pid = fwsh_pid(lab) return pid end, 5), "fwsh did not start")
  H.run({ "kill", "-9", pid })
  assert.truthy(H.wait_for(function() return running(lab) == 0 end, 5), "the killed fwsh is still there")
end

local function listing(dir, prefix)
  local names = {}
  for name in H.run({ "ls", dir }):gmatch("[^\n]+") do
    if name:sub(1, #prefix) == prefix then names[#names + 1] = name end
  end
  return names
end

-- What is left of lab: a list of strings, empty if nothing.
local function left(ns, lab, m, before)
  local out = {}
  local names = H.link_names(ns)
  if #names ~= #before then out[#out + 1] = "links: " .. table.concat(names, " ") end
  for _, n in ipairs(listing("/run/netns", lab .. "-")) do out[#out + 1] = "netns " .. n end
  for _, n in ipairs(listing("/run/fwsh/intent", lab .. ".")) do out[#out + 1] = "record " .. n end
  for _, pid in ipairs(P.sleepers(m)) do out[#out + 1] = "process " .. pid end
  for _, n in ipairs(cg and P.lab_cgroups(cg, lab) or {}) do out[#out + 1] = "cgroup " .. n end
  return out
end

local function down(mode, ns, lab)
  local out, ok = H.run(argv(MODES[mode].down, "--netns", ns, "down", lab), { stderr = true })
  assert(ok, out)
end

-- Eight kills in mode: two of each kind; what each left counted in landed.
local function kills(mode, ns)
  local before = H.link_names(ns)
  local lab = "kx" .. mode:sub(1, 2) .. P.mark()
  local landed = 0
  for run = 1, 8 do
    local kind = ({ "netns", "build", "rollback", "down" })[(run - 1) % 4 + 1]
    local m = P.mark()
    if kind == "down" then
      -- a whole lab first, then a down killed half way
      local out, ok = H.run(argv({}, "--netns", ns, "--lab", lab, "-e",
        BUILD:format(m, m) .. "fwsh.proc.run{ 'sleep', '0.05' }"), { stderr = true })
      assert(ok, out)
      kill_after(argv(MODES[mode].run, "--netns", ns, "down", lab),
                 math.random(WINDOW.down[1], WINDOW.down[2]), lab)
    else
      local script = SCRIPTS[kind]:gsub("%%s", m)
      kill_after(argv(MODES[mode].run, "--netns", ns, "--lab", lab, "-e", script),
                 math.random(WINDOW[kind][1], WINDOW[kind][2]), lab)
    end
    if #left(ns, lab, m, before) > 0 then landed = landed + 1 end
    down(mode, ns, lab)
    assert.are.same({}, left(ns, lab, m, before), string.format("%s run %d (%s)", mode, run, kind))
  end
  -- and the names are free again
  local out, ok = H.run(argv({}, "--netns", ns, "--lab", lab, "-e",
    "fwsh.netns.add(fwsh.lab() .. '-1') fwsh.bridge.add('kb0') fwsh.veth.add('kv0', 'kw0')"),
    { stderr = true })
  assert(ok, out)
  down(mode, ns, lab)
  assert.are.same({}, left(ns, lab, "-", before))
  return landed
end

describe("fwsh down after a netns.add killed before its mount", function()
  it("removes the empty /run/netns file its record names, by identity only", H.ns(function(ns)
    local lab = "kxf" .. P.mark()
    local mine, other = lab .. "-mine", lab .. "-other"
    H.run({ "mkdir", "-p", "/run/fwsh/intent" })
    -- as a kill between the link of the file and the mount leaves it
    H.write_file("/run/netns/" .. mine, "")
    local id = H.run({ "stat", "-c", "%d %i", "/run/netns/" .. mine }):gsub("%s+$", "")
    H.write_file("/run/fwsh/intent/" .. lab .. ".00000000000000b1", "netns " .. id .. "\n" .. mine .. "\n")
    -- a record whose file was replaced since: someone else's file of that name
    H.write_file("/run/netns/" .. other, "")
    H.write_file("/run/fwsh/intent/" .. lab .. ".00000000000000b2", "netns " .. id .. "\n" .. other .. "\n")
    local out, ok = H.run({ H.build .. "/fwsh", "--netns", ns, "down", lab }, { stderr = true })
    local mine_left, other_left = H.read_file("/run/netns/" .. mine), H.read_file("/run/netns/" .. other)
    os.remove("/run/netns/" .. mine)
    os.remove("/run/netns/" .. other)
    assert.truthy(ok, out)
    assert.are.equal(lab .. ": removed 0 links, 1 namespaces\n", out)
    assert.is_nil(mine_left)
    assert.are.equal("", other_left)
    assert.are.same({}, listing("/run/fwsh/intent", lab .. "."))
    -- and the name is free
    out, ok = H.run({ H.build .. "/fwsh", "--netns", ns, "--lab", lab, "-e", "fwsh.netns.add('" .. mine .. "')" },
                    { stderr = true })
    assert.truthy(ok, out)
    out, ok = H.run({ H.build .. "/fwsh", "--netns", ns, "down", lab }, { stderr = true })
    assert.truthy(ok, out)
    assert.are.same({}, listing("/run/netns", lab))
  end))
end)

describe("fwsh down killed between a namespace's umount and its unlink", function()
  -- The instant is rare at random (once in 48 kills); strace kills fwsh
  -- exactly there: at the unlink of the file the namespace was mounted on.
  it("leaves the empty file under a record the next down removes", H.ns(function(ns)
    local lab = "kxu" .. P.mark()
    local name = lab .. "-a"
    local out, ok = H.run({ H.build .. "/fwsh", "--netns", ns, "--lab", lab, "-e",
                            "fwsh.netns.add('" .. name .. "')" }, { stderr = true })
    assert.truthy(ok, out)
    out, ok = H.run({ "strace", "-f", "-qq", "-o", "/dev/null", "-P", "/run/netns/" .. name,
                      "-e", "trace=unlink,unlinkat", "-e", "inject=unlink,unlinkat:signal=KILL",
                      H.build .. "/fwsh", "--netns", ns, "down", lab }, { stderr = true })
    assert.falsy(ok, "strace did not kill fwsh down at the unlink: " .. out)
    -- killed after the umount: an empty regular file, no namespace any more
    local kind = H.run({ "stat", "-c", "%F %s", "/run/netns/" .. name }):gsub("%s+$", "")
    assert.are.equal("regular empty file 0", kind)
    assert.are.equal(1, #listing("/run/fwsh/intent", lab .. "."))
    out, ok = H.run({ H.build .. "/fwsh", "--netns", ns, "down", lab }, { stderr = true })
    assert.truthy(ok, out)
    assert.are.equal(lab .. ": removed 0 links, 1 namespaces\n", out)
    assert.are.same({}, listing("/run/netns", lab))
    assert.are.same({}, listing("/run/fwsh/intent", lab .. "."))
  end))
end)

describe("SIGKILL of fwsh at a random instant, then fwsh down", function()
  for _, mode in ipairs({ "plain", "pid1", "reused" }) do
    it("leaves nothing (" .. mode .. ")", H.ns(function(ns)
      assert.truthy(kills(mode, ns) > 0, "no kill landed while something was half made")
    end))
  end
end)
