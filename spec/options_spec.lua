-- options_spec.lua - every option table, found in the sources: the field lists
-- the bindings give lfwsh_check_fields are read from bindings/**/*.c, so a new
-- option table cannot be missed (one without a way to call it below fails the
-- spec). For each field of each list, a key with a zero byte
-- ({["grounding\0x"] = false}: strcmp took it for "grounding", and the field
-- was then ignored) and a value with a zero byte are refused with an error naming the
-- field, and nothing changed: links, addresses, routes, qdiscs, namespaces,
-- the bridge sysctls and the files of a fake root, read back by ip, tc and find.
-- fwsh.host's RPC is not walked here: its arguments reach these same readers
-- on the far side (lab/lua/fwsh/serve.lua calls the API), at the cost of an
-- emulated host per case.
local H = require "helper"
local fwsh = H.fwsh

-- { key = "file:function" or "file:ARRAY", file, fields = {...} } for every
-- lfwsh_check_fields(L, idx, NAME) in the bindings: NAME's array, found in the
-- function that makes the call or else at the file's top level.
local function field_lists()
  local lists, seen = {}, {}
  local function add(a)
    if not seen[a.key] then
      seen[a.key] = true
      lists[#lists + 1] = a
    end
  end
  local out = assert(H.run({ "find", H.root .. "/bindings", "-name", "*.c" }))
  local files = {}
  for path in out:gmatch("[^\n]+") do files[#files + 1] = path end
  table.sort(files)
  for _, path in ipairs(files) do
    local file = path:sub(#H.root + 2)
    local func, top, locals, pending, param, handed = nil, {}, {}, nil, nil, {}
    for line in (assert(H.read_file(path)) .. "\n"):gmatch("([^\n]*)\n") do
      if pending then
        for s in line:gmatch('"([^"]*)"') do pending.fields[#pending.fields + 1] = s end
        if line:find("};", 1, true) then pending = nil end
      else
        local fname = not line:find("^static const char") and
                      (line:match("^[%a_][%w_ %*]-([%a_][%w_]*)%(lua_State") or
                       line:match("^[%a_][%w_ %*]-([%a_][%w_]*)%(.*%)$"))
        if fname then func = fname; locals = {} end
        local name, rest = line:match("const char %*const ([%w_]+)%[%] = {(.*)$")
        if name then
          local a = { file = file, fields = {} }
          for s in rest:gmatch('"([^"]*)"') do a.fields[#a.fields + 1] = s end
          if line:match("^%s") and func then
            a.key = file .. ":" .. func
            locals[name] = a
          else
            a.key = file .. ":" .. name
            top[name] = a
          end
          if not rest:find("};", 1, true) then pending = a end
        end
        local used = line:match("lfwsh_check_fields%(L, [^,]+, ([%w_]+)%)")
        if used then
          local a = locals[used] or top[used]
          if a then
            add(a)
          else -- a helper's parameter: the lists are those the file hands to it
            param = used
          end
        end
        for name in line:gmatch("[,(]%s*([%u_][%u%d_]*)%s*[,)]") do
          if top[name] then handed[#handed + 1] = top[name] end
        end
      end
    end
    if param then
      assert(#handed > 0, string.format("%s: no field list handed to the helper that checks %s", file, param))
      for _, a in ipairs(handed) do add(a) end
    end
  end
  return lists
end

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

-- The host-setup functions get the fake root: on a build that let a bad key
-- through (as before this spec), they would otherwise work on the host's /etc.
local function in_fake_root()
  return { root = FAKE }
end

-- firewalld: a bus where there is none, for the same reason
local function no_bus()
  return { bus = "unix:path=" .. FAKE .. "/nobus" }
end

-- How to call each option table: functions of the options, and the fields
-- given with the one under test (base: what a call needs before it reads the
-- others, and the fake root). Every list the scan finds needs an entry (the
-- link "d0", a veth, exists, down).
local CALLS = {
  ["bindings/host/boot.c:CHANGE_FIELDS"] = {
    function(o) return fwsh.boot.persist("dummy", o) end,
    function(o) return fwsh.boot.remove("dummy", o) end,
    base = in_fake_root,
  },
  ["bindings/host/boot.c:l_status"] = { function(o) return fwsh.boot.status(o) end, base = in_fake_root },
  ["bindings/host/boot.c:l_regenerate"] = { function(o) return fwsh.boot.regenerate(o) end, base = in_fake_root },
  ["bindings/host/brnf.c:l_set"] = { function(o) return fwsh.brnf.set(o) end },
  ["bindings/host/firewalld.c:QUERY_FIELDS"] = {
    function(o) return fwsh.firewalld.interfaces("trusted", o) end,
    function(o) return fwsh.firewalld.zone_of("d0", o) end,
    base = no_bus,
  },
  ["bindings/host/firewalld.c:l_running"] = { function(o) return fwsh.firewalld.running(o) end, base = no_bus },
  ["bindings/host/firewalld.c:CHANGE_FIELDS"] = {
    function(o) return fwsh.firewalld.add("trusted", "d0", o) end,
    function(o) return fwsh.firewalld.remove("trusted", "d0", o) end,
    base = no_bus,
  },
  ["bindings/host/module.c:OPT_FIELDS"] = {
    function(o) return fwsh.module.status("dummy", o) end,
    function(o) return fwsh.module.unload("dummy", o) end,
    function(o) return fwsh.module.info("dummy", o) end,
    base = in_fake_root,
  },
  ["bindings/host/module.c:LOAD_FIELDS"] = { function(o) return fwsh.module.load("dummy", nil, o) end,
                                             base = in_fake_root },
  ["bindings/lab/capture.c:l_capture"] = { function(o) return fwsh.capture("d0", o) end,
                                           base = function() return { file = FAKE .. "/c.pcap" } end },
  ["bindings/lab/nft.c:l_run"] = { function(o) return fwsh.nft.run("list ruleset", o) end },
  ["bindings/lab/proc.c:l_run"] = { function(o) return fwsh.proc.run({ "true" }, o) end },
  ["bindings/lab/proc.c:l_spawn"] = { function(o) return fwsh.proc.spawn({ "true" }, o) end },
  ["bindings/lab/wait.c:l_wait"] = {
    function(o) return fwsh.wait(o) end,
    base = function(f)  -- one condition of link=, fdb=, fn=, run=; timeout: do not wait
      if f == "link" or f == "fdb" or f == "fn" or f == "run" then return { timeout = 0 } end
      return { link = "d0", timeout = 0 }
    end,
  },
  ["bindings/net/bridge.c:SPEC_FIELDS"] = {
    function(o) return fwsh.bridge.add("b0", o) end,
    function(o) return fwsh.bridge.ensure("b0", o) end,
  },
  ["bindings/net/impair.c:lfwsh_link_impair"] = { function(o) return fwsh.link.get("d0"):impair(o) end },
  ["bindings/net/link.c:l_set"] = { function(o) return fwsh.link.get("d0"):set(o) end },
  ["bindings/net/route.c:read_args"] = {
    function(o) return fwsh.route.add(o) end,
    function(o) return fwsh.route.ensure(o) end,
    function(o) return fwsh.route.delete(o) end,
    base = function() return { dst = "10.99.0.0/24", dev = "d0" } end,
  },
  ["bindings/net/route.c:l_list"] = { function(o) return fwsh.route.list(o) end },
  ["bindings/net/show.c:l_show"] = { function(o) return fwsh.show(o) end },
  ["bindings/net/tap.c:SPEC_FIELDS"] = {
    function(o) return fwsh.tap.add("t0", o) end,
    function(o) return fwsh.tap.ensure("t0", o) end,
  },
  ["bindings/net/veth.c:l_add"] = { function(o) return fwsh.veth.add("v0", "v1", o) end },
  ["bindings/net/vxlan.c:l_add"] = { function(o) return fwsh.vxlan.add("x0", o) end,
                                     base = function() return { id = 42 } end },
}

-- What a call could have changed, read back without fwsh.
local function snapshot()
  local out = H.run({ "sh", "-c", "ip -j -d link show; ip -j addr show; ip -j route show table all; " ..
                      "ip -j -6 route show table all; tc -j qdisc show; ls -A /run/netns 2>/dev/null; " ..
                      "cat /proc/sys/net/bridge/bridge-nf-call-* 2>/dev/null; " ..
                      "find " .. H.quote(FAKE) .. " -printf '%p %s %T@\\n'" })
  return out
end

local function shown(s)
  return (s:gsub("%z", "\\0"))
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
    local lists = field_lists()
    assert.truthy(#lists >= 20, #lists)
    local missing = {}
    for _, l in ipairs(lists) do
      if not CALLS[l.key] then missing[#missing + 1] = l.key .. " {" .. table.concat(l.fields, ", ") .. "}" end
      assert.truthy(#l.fields > 0, l.key)
    end
    assert(#missing == 0, "option tables with no call in options_spec.lua's CALLS:\n" .. table.concat(missing, "\n"))
  end)

  it("every binding that reads option fields checks its keys", function()
    local bad = readers_without_check()
    assert(#bad == 0, "option readers without lfwsh_check_fields: " .. table.concat(bad, ", "))
  end)

  it("a key with a zero byte is refused in every table, naming it, and nothing changes", H.ns(function()
    H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
    local n = 0
    for _, l in ipairs(field_lists()) do
      unchanged(l.key, function()
        for _, call in ipairs(CALLS[l.key] or {}) do
          for _, f in ipairs(l.fields) do
            local what = string.format("%s {[%q] = false}", l.key, shown(f .. "\0x"))
            local o = CALLS[l.key].base and CALLS[l.key].base(f) or {}
            o[f .. "\0x"] = false
            refused(what, call, o, "option '" .. f .. "\\0x'", "zero byte")
            n = n + 1
          end
          local o = CALLS[l.key].base and CALLS[l.key].base("") or {}
          o[1], o.nope = true, nil
          refused(l.key .. " {[1] = true}", call, o, "unknown option [1]")
          o[1], o.nope = nil, 1
          refused(l.key .. " {nope = 1}", call, o, "unknown option 'nope'")
        end
      end)
    end
    assert.truthy(n >= 140, n)
  end))

  it("a value with a zero byte is refused in every field, naming it, and nothing changes", H.ns(function()
    H.run({ "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1" })
    local strings = 0
    for _, l in ipairs(field_lists()) do
      unchanged(l.key, function()
        for _, call in ipairs(CALLS[l.key] or {}) do
          for _, f in ipairs(l.fields) do
            local o = CALLS[l.key].base and CALLS[l.key].base(f) or {}
            -- cut at its zero byte (a bug), it is a path in the fake root
            o[f] = FAKE .. "/a\0b"
            local msg = refused(string.format("%s {%s = \"a\\0b\"}", l.key, f), call, o, "'" .. f .. "'")
            if msg:find("zero byte", 1, true) then strings = strings + 1 end
          end
        end
      end)
    end
    -- the string fields (root, bus, netns, file, bridge, owner, rate...) say why
    assert.truthy(strings >= 40, strings)
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
