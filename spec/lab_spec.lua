-- lab_spec.lua - labs: everything fwsh makes carries its lab's tag, so that
-- `fwsh down LAB` removes exactly that lab's objects, without the script, also
-- after the script was killed with SIGKILL; `fwsh labs` lists what is there.
local H = require "helper"
local fwsh = H.fwsh

-- Links in ns tagged with lab (read by iproute2: the ifalias).
local function tagged(ns, lab)
  local names = {}
  for name, l in pairs(H.links(ns)) do
    if l.ifalias == "fwsh:" .. lab then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local function script_file(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("labs", function()
  it("fwsh down removes what a SIGKILLed script made, and nothing else", H.ns(function(ns)
    local node = ns .. "-node"
    -- Made by ip before the lab: a same-named link the lab's script skips.
    H.run({ "ip", "-n", ns, "link", "add", "net150", "type", "bridge" })
    local script = script_file(string.format([[
      fwsh.netns.add(%q)
      local br = fwsh.bridge.add("labbr")
      for i = 1, 200 do
        local name = "net" .. i
        if not fwsh.link.exists(name) then fwsh.tap.add(name, { bridge = br }) end
        local t = os.clock() + 0.01 while os.clock() < t do end -- slow enough to be caught
      end
      while true do end
    ]], node))
    local pid = H.run({ "sh", "-c", string.format(
      -- --netns, not `ip netns exec`: that one's private mounts would hide the
      -- namespace the lab makes from everyone else
      "%s --netns %s --lab big %s >/dev/null 2>&1 & echo $!", H.build .. "/fwsh", ns,
      script) }):match("%d+")
    assert.truthy(pid)
    local midway = H.wait_for(function() return #tagged(ns, "big") >= 50 end, 20)
    H.run({ "kill", "-9", pid })
    assert.truthy(H.wait_for(function() return not select(2, H.run({ "kill", "-0", pid })) end, 5))
    os.remove(script)
    assert.truthy(midway, "the script made 50 taps")
    local left = tagged(ns, "big")
    assert.truthy(#left >= 50 and #left < 201, "killed midway: " .. #left .. " links")

    local labs = H.fwsh_in(ns, { "labs" })
    assert.truthy(labs:find("\nbig%s+" .. #left .. "%s+1\n"), labs)

    local out, ok = H.fwsh_in(ns, { "down", "big" })
    assert.truthy(ok)
    assert.are.equal(string.format("big: removed %d links, 1 namespaces\n", #left), out)
    assert.are.same({}, tagged(ns, "big"))
    assert.is_nil(H.link(ns, "labbr"))
    assert.are.equal("bridge", H.link(ns, "net150").linkinfo.info_kind) -- not the lab's
    local _, node_left = H.run({ "ip", "netns", "exec", node, "true" })
    assert.is_falsy(node_left)
    assert.are.equal("", (H.fwsh_in(ns, { "labs" })))
  end))

  it("a build SIGKILLed at any instant leaves nothing fwsh down cannot find", H.ns(function(ns)
    -- Someone else's, made before: fwsh down must leave them as they are.
    H.run({ "ip", "link", "add", "fbr", "type", "bridge" })
    H.run({ "ip", "tuntap", "add", "ftap", "mode", "tap" })
    H.run({ "ip", "link", "add", "fv0", "type", "veth", "peer", "name", "fv1" })
    local before = H.link_names(ns)
    local scripts = {
      transaction = [[fwsh.transaction(function()
        for b = 0, 3 do
          local br = fwsh.bridge.add("kb" .. b, { grounding = false })
          fwsh.veth.add("kv" .. b, "kw" .. b)
          for t = 1, 50 do fwsh.tap.add("kt" .. b .. "-" .. t, { bridge = br }) end
        end
      end) while true do end]],
      batch = [[fwsh.batch(function()
        for b = 0, 3 do
          local br = fwsh.bridge.add("kb" .. b)
          for t = 1, 50 do fwsh.tap.add("kt" .. b .. "-" .. t, { bridge = br }) end
        end
      end) while true do end]],
    }
    math.randomseed(os.time())
    local landed = 0
    for run = 1, 10 do
      local kind = run % 2 == 0 and "batch" or "transaction"
      local pid = H.run({ "sh", "-c", string.format("%s --netns %s --lab kill -e %s >/dev/null 2>&1 & echo $!",
        H.build .. "/fwsh", ns, H.quote(scripts[kind])) }):match("%d+")
      local t = fwsh.proc.clock() + math.random(2, 60) / 1000
      while fwsh.proc.clock() < t do end
      H.run({ "kill", "-9", pid })
      assert.truthy(H.wait_for(function() return not select(2, H.run({ "kill", "-0", pid })) end, 5))
      if #H.link_names(ns) > #before then landed = landed + 1 end
      local out, ok = H.fwsh_in(ns, { "down", "kill" }, { stderr = true })
      assert.truthy(ok, out)
      assert.are.same(before, H.link_names(ns), kind .. " run " .. run .. ": " .. out)
    end
    assert.truthy(landed > 0, "no kill landed during a build")
    assert.are.equal("bridge", H.link(ns, "fbr").linkinfo.info_kind)
    assert.are.equal("tun", H.link(ns, "ftap").linkinfo.info_kind)
  end))

  it("fwsh down removes an untagged link a killed fwsh recorded, and no stranger", H.ns(function(ns)
    fwsh.lab("ghost")
    local group = H.link(ns, fwsh.bridge.add("gtagged").name).group
    fwsh.lab("default")
    -- as a kill between the create and the tag leaves it: in the group, no alias
    H.run({ "ip", "link", "add", "ghostbr", "group", tostring(group), "type", "bridge" })
    H.run({ "ip", "link", "add", "strbr", "group", tostring(group), "type", "bridge" })
    local nsid = H.run({ "stat", "-L", "-c", "%d %i", "/proc/self/ns/net" })
    -- a record nobody holds a lock on: its maker is gone, whatever its PID was
    local record = "/run/fwsh/intent/ghost.00000000000000a1"
    H.run({ "mkdir", "-p", "/run/fwsh/intent" })
    H.write_file(record, nsid .. "ghostbr\n")
    -- a live process's record (it holds the lock) is not touched: it may still tag its links
    local live = "/run/fwsh/intent/ghost.00000000000000a2"
    H.write_file(live, nsid .. "strbr\n")
    local holder = fwsh.proc.spawn({ "flock", "-x", live, "sleep", "30" })
    assert.truthy(H.wait_for(function()
      return select(2, H.run({ "flock", "-xn", live, "true" })) == nil
    end, 5), "flock did not take the lock")
    local out, ok = H.fwsh_in(ns, { "down", "ghost" })
    holder:stop()
    assert.truthy(ok, out)
    assert.are.equal("ghost: removed 2 links, 0 namespaces\n", out)
    assert.is_nil(H.link(ns, "ghostbr"))
    assert.is_not_nil(H.link(ns, "strbr"))
    assert.is_nil(H.read_file(record))
    assert.is_not_nil(H.read_file(live))
    os.remove(live)
  end))

  it("fwsh.down removes one lab and leaves another", H.ns(function(ns)
    fwsh.lab("one")
    fwsh.bridge.add("b1")
    fwsh.tap.add("t1", { bridge = "b1" })
    fwsh.lab("two")
    fwsh.bridge.add("b2")
    local labs = {}
    for _, l in ipairs(fwsh.labs()) do labs[l.name] = l.links end
    assert.are.same({ one = 2, two = 1 }, labs)
    local links = fwsh.down("one")
    assert.are.equal(2, links)
    assert.are.same({}, tagged(ns, "one"))
    assert.are.same({ "b2" }, tagged(ns, "two"))
    assert.are.equal("two", fwsh.lab())
    fwsh.down()
    assert.are.same({ "lo" }, H.link_names(ns))
    fwsh.lab("default")
  end))

  it("tags what it makes with the script's name, or --lab", H.ns(function(ns)
    local script = script_file('fwsh.bridge.add("tagged0")')
    local named = script:match("[^/]+$"):match("^[^.]+")
    H.fwsh_in(ns, { script })
    H.fwsh_in(ns, { "--lab", "mine", "-e", 'fwsh.bridge.add("tagged1")' })
    os.remove(script)
    assert.are.equal("fwsh:" .. named, H.link(ns, "tagged0").ifalias)
    assert.are.equal("fwsh:mine", H.link(ns, "tagged1").ifalias)
    -- --lab wins over the script's own fwsh.lab(NAME): that is only its default
    H.fwsh_in(ns, { "--lab", "mylab", "-e", 'fwsh.lab("seed") fwsh.bridge.add("tagged2") print(fwsh.lab())' })
    assert.are.equal("fwsh:mylab", H.link(ns, "tagged2").ifalias)
    local out = H.fwsh_in(ns, { "down", "mylab" })
    assert.are.equal("mylab: removed 1 links, 0 namespaces\n", out)
    assert.is_nil(H.link(ns, "tagged2"))
    assert.is_not_nil(H.link(ns, "tagged1"))
  end))

  -- Starts fwsh ARGS in ns in the background, waits until ready() holds, sends
  -- sig, and returns the exit status.
  local function interrupt(ns, args, ready, sig)
    local status = os.tmpname()
    local pid = H.run({ "sh", "-c", string.format(
      -- the subshell lets go of our pipe, or reading $! would wait for it to end
      "(%s --netns %s %s; echo $? > %s) >/dev/null 2>&1 & echo $!", H.build .. "/fwsh", ns,
      args, status) }):match("%d+")
    assert.truthy(H.wait_for(ready, 20), "ready")
    -- the subshell's child is fwsh itself
    local fwsh_pid = H.run({ "pgrep", "-P", pid }):match("%d+")
    H.run({ "kill", "-" .. sig, fwsh_pid })
    local code
    H.wait_for(function()
      local f = io.open(status)
      code = f and tonumber(f:read("a"))
      if f then f:close() end
      return code
    end, 10)
    os.remove(status)
    return code
  end

  it("SIGTERM rolls back what the script made, and exits 128 + 15", H.ns(function(ns)
    local script = script_file([[
      local br = fwsh.bridge.add("sigbr")
      for i = 1, 30 do fwsh.tap.add("sig" .. i, { bridge = br }) end
      while true do end
    ]])
    local code = interrupt(ns, script, function() return H.link(ns, "sig30") end, "TERM")
    os.remove(script)
    assert.are.equal(143, code)
    assert.are.same({ "lo" }, H.link_names(ns))
  end))

  it("SIGINT closes <close> handles, also with --keep-partial", H.ns(function(ns)
    local script = script_file([[
      fwsh.bridge.add("kept")
      local scoped <close> = fwsh.bridge.add("scoped")
      while true do end
    ]])
    local code = interrupt(ns, "--keep-partial " .. script,
                           function() return H.link(ns, "scoped") end, "INT")
    os.remove(script)
    assert.are.equal(130, code)
    assert.are.same({ "kept", "lo" }, H.link_names(ns))
  end))

  it("fwsh down removes a lab's state directories with its tag inside, and no other", H.ns(function(ns)
    local lab = "dirs" .. math.random(1, 1e6)
    fwsh.lab(lab)
    local mine = fwsh.lab_dir()
    fwsh.lab(lab .. "x")
    local other = fwsh.lab_dir()
    fwsh.lab("default")
    assert.truthy(mine:match("^/tmp/fwsh%-" .. lab .. "%.%w%w%w%w%w%w$"), mine)
    assert.are.equal("fwsh:" .. lab .. "\n", H.read_file(mine .. "/.fwsh-lab"))
    H.run({ "mkdir", mine .. "/logs" })
    H.write_file(mine .. "/logs/keepalived.log", "what a killed run left\n")
    -- the same name pattern without the tag, and with another lab's tag
    local untagged, lying = "/tmp/fwsh-" .. lab .. ".abcdef", "/tmp/fwsh-" .. lab .. ".ghijkl"
    H.run({ "mkdir", untagged, lying })
    H.write_file(lying .. "/.fwsh-lab", "fwsh:" .. lab .. "x\n")
    local out = H.fwsh_in(ns, { "down", lab })
    local left = {}
    for _, d in ipairs({ mine, untagged, lying, other }) do
      left[#left + 1] = select(2, H.run({ "test", "-d", d })) and d:match("[^/]+$") or "-"
    end
    H.run({ "rm", "-rf", "--", untagged, lying, other })
    assert.are.equal(lab .. ": removed 0 links, 0 namespaces, 1 directory\n", out)
    assert.are.same({ "-", untagged:match("[^/]+$"), lying:match("[^/]+$"), other:match("[^/]+$") },
                    left)
  end))

  it("fwsh down deletes a lab's links in one request, never a stranger in their group", H.ns(function(ns)
    fwsh.lab("grp")
    local br = fwsh.bridge.add("gbr")
    for i = 1, 5 do fwsh.tap.add("g" .. i, { bridge = br }) end
    local group = H.link(ns, "g1").group
    assert.are.equal(group, H.link(ns, "gbr").group)
    assert.are_not.equal("default", group)
    fwsh.lab("default")

    -- a link made by ip, put into the very same group by hand
    H.run({ "ip", "-n", ns, "link", "add", "stranger", "type", "bridge" })
    H.run({ "ip", "-n", ns, "link", "set", "stranger", "group", tostring(group) })
    local out = H.fwsh_in(ns, { "down", "grp" })
    assert.are.equal("grp: removed 6 links, 0 namespaces\n", out)
    assert.are.same({ "lo", "stranger" }, H.link_names(ns))

    -- and with no stranger, the group goes in one request: one RTM_DELLINK
    fwsh.lab("grp")
    br = fwsh.bridge.add("gbr")
    for i = 1, 5 do fwsh.tap.add("g" .. i, { bridge = br }) end
    fwsh.lab("default")
    H.run({ "ip", "-n", ns, "link", "del", "stranger" })
    local trace = os.tmpname()
    H.run({ "strace", "-f", "-e", "trace=sendmsg", "-o", trace, H.build .. "/fwsh", "--netns", ns,
            "down", "grp" })
    local f = assert(io.open(trace))
    local dellinks = select(2, f:read("a"):gsub("RTM_DELLINK", ""))
    f:close()
    os.remove(trace)
    assert.are.equal(1, dellinks)
    assert.are.same({ "lo" }, H.link_names(ns))
  end))
end)
