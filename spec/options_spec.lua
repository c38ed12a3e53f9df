-- options_spec.lua - every option table, found in the sources: the field lists
-- the bindings give lfwsh_check_fields are read from bindings/**/*.c, so a new
-- option table cannot be missed (one without a way to call it below fails the
-- spec). For each field of each list, a key with a zero byte
-- ({["grounding\0x"] = false}: strcmp took it for "grounding", and the field
-- was then ignored) and a value with a zero byte are refused with an error naming the
-- field, and nothing changed: links, addresses, routes, qdiscs, namespaces,
-- the bridge sysctls and the files of a fake root, read back by ip, tc and find.
-- The same cases run through fwsh.host's RPC too (option_rpc.lua, on a host
-- that is this one: fwsh --serve without ssh), the errors sent back.
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/spec/?.lua;" .. package.path
local C = require "option_cases"

local function readers_without_check()
  local bad = {}
  local out = assert(H.run({ "find", H.root .. "/bindings", "-name", "*.c" }))
  for path in out:gmatch("[^\n]+") do
    local text = assert(H.read_file(path))
    if not path:find("/base/opts%.c$") and text:find("lfwsh_opt_[%a]+%(L, [^,]+, \"") and
       not text:find("lfwsh_check_fields(", 1, true) then
      bad[#bad + 1] = path:sub(#H.root + 2)
    end
  end
  return bad
end

local FAKE -- a fake root, for the host-setup functions (made per test)

-- What a call could have changed, read back without fwsh.
local function snapshot()
  local out = H.run({ "sh", "-c", "ip -j -d link show; ip -j addr show; ip -j route show table all; " ..
                      "ip -j -6 route show table all; tc -j qdisc show; ls -A /run/netns 2>/dev/null; " ..
                      "cat /proc/sys/net/bridge/bridge-nf-call-* 2>/dev/null; " ..
                      -- a directory by its name: its time changes with what is made and removed in it
                      "find " .. H.quote(FAKE) .. " -type d -printf '%p/\\n' -o -printf '%p %s %T@\\n'" })
  return out
end

-- fn(o) raises naming every want.
local function refused(what, fn, o, ...)
  local ok, err = pcall(fn, o)
  assert(not ok, what .. ": no error")
  local msg = tostring(err)
  for _, want in ipairs({ ... }) do
    assert(msg:find(want, 1, true), string.format("%s: error %q does not name %q", what, msg, want))
  end
  return msg
end

-- Runs fn(), which makes calls that must all be refused, and asserts that
-- they changed nothing (read back once around them all: a snapshot per call
-- would cost a second per table on a loaded machine).
local function unchanged(what, fn)
  local before = snapshot()
  fn()
  local after = snapshot()
  assert(before == after, what .. ": something changed:\n" .. before .. "\n---\n" .. after)
end

describe("option tables", function()
  before_each(function()
    FAKE = assert(H.run({ "mktemp", "-d" })):gsub("\n$", "")
    assert(H.run({ "mkdir", "-p", FAKE .. "/etc/default", FAKE .. "/etc/modules-load.d" }))
    H.write_file(FAKE .. "/etc/default/grub", 'GRUB_CMDLINE_LINUX=""\n')
  end)
  after_each(function()
    H.run({ "rm", "-r", "--one-file-system", FAKE })
  end)

  it("the scan finds the field lists, and every one has a call", function()
    local lists, calls = C.field_lists(H.root), C.calls(fwsh, FAKE)
    assert.truthy(#lists >= 20, #lists)
    local missing = {}
    for _, l in ipairs(lists) do
      if not calls[l.key] then missing[#missing + 1] = l.key .. " {" .. table.concat(l.fields, ", ") .. "}" end
      assert.truthy(#l.fields > 0, l.key)
    end
    assert(#missing == 0, "option tables with no call in option_cases.lua:\n" .. table.concat(missing, "\n"))
  end)

  it("every binding that reads option fields checks its keys", function()
    local bad = readers_without_check()
    assert(#bad == 0, "option readers without lfwsh_check_fields: " .. table.concat(bad, ", "))
  end)

  it("a zero byte in a key or a value is refused in every table, naming it; nothing changes", H.ns(function()
    H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
    local cases, keys, strings = C.cases(H.root, fwsh, FAKE), 0, 0
    local i = 1
    while i <= #cases do -- a list's cases together, read back around them
      local list = cases[i].list
      unchanged(list, function()
        while cases[i] and cases[i].list == list do
          local c = cases[i]
          local msg = refused(c.what, c.call, c.o, table.unpack(c.want))
          if c.want[1]:find("\\0x'$") then keys = keys + 1 end
          if c.what:find("a\\0b\"}$") and msg:find("zero byte", 1, true) then strings = strings + 1 end
          i = i + 1
        end
      end)
    end
    assert.truthy(keys >= 140, keys)
    -- the string fields (root, bus, netns, file, bridge, owner, rate...) say why
    assert.truthy(strings >= 40, strings)
  end))

  it("the same, through fwsh.host's RPC (a host that is this one: fwsh --serve)", H.ns(function(ns)
    H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
    -- the host's files (its log, the lab's hosts record) go to FAKE/host and
    -- FAKE/labs, not /tmp; the record's directory is gone once the host is closed
    assert(H.run({ "mkdir", FAKE .. "/labs" }))
    local before = snapshot()
    local argv = { "ip", "netns", "exec", ns, "env", "FWSH_LAB_ROOT=" .. FAKE .. "/labs" }
    if os.getenv("LD_PRELOAD") then argv[#argv + 1] = "LD_PRELOAD=" .. os.getenv("LD_PRELOAD") end
    for _, a in ipairs({ H.build .. "/fwsh", H.root .. "/spec/option_rpc.lua", H.root, FAKE }) do
      argv[#argv + 1] = a
    end
    local out, ok = H.run(argv, { stderr = true })
    H.run({ "rm", "-r", FAKE .. "/host" })
    assert.truthy(ok, out)
    local after = snapshot()
    local n, cases = 0, C.cases(H.root, {}, FAKE)
    for line in out:gmatch("[^\n]+") do
      local i, refused_, msg = line:match("^case (%d+)\t(%a+)\t(.*)$")
      if i then
        local c = assert(cases[tonumber(i)], line)
        assert(refused_ == "refused", c.what .. ": no error over RPC")
        for _, want in ipairs(c.want) do
          assert(msg:find(want, 1, true), string.format("%s: error %q does not name %q", c.what, msg, want))
        end
        n = n + 1
      end
    end
    assert.are.equal(#cases, n, out)
    assert(before == after, "something changed:\n" .. before .. "\n---\n" .. after)
  end))

  it("list items and names with a zero byte are refused where they are read", H.ns(function(ns)
    H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
    H.run({ "ip", "link", "add", "foreign0", "type", "bridge" })
    local cases = {
      { "tap bridge", function() return fwsh.tap.add("t0", { bridge = "foreign0\0evil" }) end, "field 'bridge'" },
      { "tap owner", function() return fwsh.tap.add("t0", { owner = "root\0x" }) end, "field 'owner'" },
      { "tap group", function() return fwsh.tap.add("t0", { group = "root\0x" }) end, "field 'group'" },
      { "bridge address item", function() return fwsh.bridge.add("b0", { address = { "10.9.0.1/24\0x" } }) end,
        "field 'address'" },
      { "impair rate", function() return fwsh.link.get("d0"):impair{ rate = "1mbit\0x" } end, "field 'rate'" },
      { "regenerate command item", function() return fwsh.boot.regenerate{ root = FAKE, command = { "true\0x" } } end,
        "field 'command'" },
      { "persist module item", function() return fwsh.boot.persist({ "a\0b" }, { root = FAKE }) end, "module name" },
      { "proc argv item", function() return fwsh.proc.run({ "true\0x" }) end, "argv[1]" },
      { "wait run item", function() return fwsh.wait{ run = { "true\0x" }, timeout = 0 } end,
        "wait' (field 'run'" },
      { "module params", function() return fwsh.module.load("dummy", { ["p\0x"] = 1 }, { root = FAKE }) end,
        "parameter name" },
      { "bridge name", function() return fwsh.bridge.add("b0\0x") end, "zero byte" },
    }
    for _, c in ipairs(cases) do
      unchanged(c[1], function() refused(c[1], c[2], nil, c[3], "zero byte") end)
    end
    -- the tap was not attached to foreign0: there is no tap at all
    assert.are.same({}, H.ports(ns, "foreign0"))
  end))
end)
