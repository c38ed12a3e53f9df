-- option_cases.lua - the cases of options_spec.lua, shared with the driver
-- that replays them through fwsh.host's RPC (option_rpc.lua): the field lists
-- of the bindings' option tables, read from their sources, and how to call
-- each table. Not a spec itself (busted runs *_spec.lua).
local M = {}

-- { key = "file:function" or "file:ARRAY", file, fields = {...} } for every
-- lfwsh_check_fields(L, idx, NAME) in the bindings: NAME's array, found in the
-- function that makes the call or else at the file's top level.
function M.field_lists(root)
  local lists, seen = {}, {}
  local function add(a)
    if not seen[a.key] then
      seen[a.key] = true
      lists[#lists + 1] = a
    end
  end
  local files = {}
  local find = assert(io.popen("find '" .. root .. "/bindings' -name '*.c'"))
  for path in find:lines() do files[#files + 1] = path end
  find:close()
  table.sort(files)
  for _, path in ipairs(files) do
    local file = path:sub(#root + 2)
    local func, top, locals, pending, param, handed = nil, {}, {}, nil, nil, {}
    local f = assert(io.open(path))
    local text = f:read("a")
    f:close()
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
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
        -- own fields and the kind's options, which are rows in core (kind_rows)
        local kind, with_rows = line:match(
          'lfwsh_check_fields%(L, [^,]+, lfwsh_kind_fields%("(%a+)", ([%w_]+), [%w_]+%)%)')
        used = used or with_rows
        if used then
          local a = locals[used] or top[used]
          if a and with_rows and not a.rows then
            a.rows = true
            for _, r in ipairs(M.kind_rows(root, kind)) do a.fields[#a.fields + 1] = r end
          end
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

-- The names of a link kind's option rows (core/net/opt_row.c; the rows are in
-- core/net/KIND_opts.c or the kind's own file), which the bindings read from
-- the rows rather than from a list of their own.
function M.kind_rows(root, kind)
  local f = io.open(root .. "/core/net/" .. kind .. "_opts.c") or assert(io.open(root .. "/core/net/" .. kind .. ".c"))
  local text = f:read("a")
  f:close()
  local rows = {}
  for name in assert(text:match("ROWS%[%] = {(.-)\n};")):gmatch('\n%s*[%[%w_%]= ]-{ "([%w_]+)", "') do
    rows[#rows + 1] = name
  end
  assert(#rows > 0, "no " .. kind .. " option rows found")
  return rows
end

function M.calls(fw, FAKE)
  -- The host-setup functions get the fake root: on a build that let a bad key
  -- through (as before this spec), they would otherwise work on the host's /etc.
  local function in_fake_root()
    return { root = FAKE }
  end

  -- firewalld: a bus where there is none, for the same reason
  local function no_bus()
    return { bus = "unix:path=" .. FAKE .. "/nobus" }
  end

  -- How to call each option table through fw (the fwsh module, or a host's
  -- context): functions of the options, and the fields given with the one under
  -- test (base: what a call needs before it reads the others, and the fake
  -- root). Every list the scan finds needs an entry (the link "d0", a veth,
  -- exists, down).
  local calls = {
    ["bindings/host/boot.c:CHANGE_FIELDS"] = {
      function(o) return fw.boot.persist("dummy", o) end,
      function(o) return fw.boot.remove("dummy", o) end,
      base = in_fake_root,
    },
    ["bindings/host/boot.c:l_status"] = { function(o) return fw.boot.status(o) end, base = in_fake_root },
    ["bindings/host/boot.c:l_regenerate"] = { function(o) return fw.boot.regenerate(o) end, base = in_fake_root },
    ["bindings/host/brnf.c:l_set"] = { function(o) return fw.brnf.set(o) end },
    ["bindings/host/firewalld.c:QUERY_FIELDS"] = {
      function(o) return fw.firewalld.interfaces("trusted", o) end,
      function(o) return fw.firewalld.zone_of("d0", o) end,
      base = no_bus,
    },
    ["bindings/host/firewalld.c:l_running"] = { function(o) return fw.firewalld.running(o) end, base = no_bus },
    ["bindings/host/firewalld.c:CHANGE_FIELDS"] = {
      function(o) return fw.firewalld.add("trusted", "d0", o) end,
      function(o) return fw.firewalld.remove("trusted", "d0", o) end,
      base = no_bus,
    },
    ["bindings/host/module.c:OPT_FIELDS"] = {
      function(o) return fw.module.status("dummy", o) end,
      function(o) return fw.module.unload("dummy", o) end,
      function(o) return fw.module.info("dummy", o) end,
      base = in_fake_root,
    },
    ["bindings/host/module.c:LOAD_FIELDS"] = { function(o) return fw.module.load("dummy", nil, o) end,
                                               base = in_fake_root },
    ["bindings/lab/capture.c:l_capture"] = { function(o) return fw.capture("d0", o) end,
                                             base = function() return { file = FAKE .. "/c.pcap" } end },
    ["bindings/lab/nft.c:l_run"] = { function(o) return fw.nft.run("list ruleset", o) end },
    ["bindings/lab/proc.c:l_run"] = { function(o) return fw.proc.run({ "true" }, o) end },
    ["bindings/lab/proc.c:l_spawn"] = { function(o) return fw.proc.spawn({ "true" }, o) end },
    ["bindings/lab/wait.c:l_wait"] = {
      function(o) return fw.wait(o) end,
      base = function(f)  -- one condition of link=, fdb=, fn=, run=; timeout: do not wait
        if f == "link" or f == "fdb" or f == "fn" or f == "run" then return { timeout = 0 } end
        return { link = "d0", timeout = 0 }
      end,
    },
    ["bindings/net/bridge.c:SPEC_FIELDS"] = {
      function(o) return fw.bridge.add("b0", o) end,
      function(o) return fw.bridge.ensure("b0", o) end,
    },
    ["bindings/net/impair.c:lfwsh_link_impair"] = { function(o) return fw.link.get("d0"):impair(o) end },
    ["bindings/net/link.c:l_set"] = { function(o) return fw.link.get("d0"):set(o) end },
    ["bindings/net/route.c:read_args"] = {
      function(o) return fw.route.add(o) end,
      function(o) return fw.route.ensure(o) end,
      function(o) return fw.route.delete(o) end,
      base = function() return { dst = "10.99.0.0/24", dev = "d0" } end,
    },
    ["bindings/net/route.c:l_list"] = { function(o) return fw.route.list(o) end },
    ["bindings/net/show.c:l_show"] = { function(o) return fw.show(o) end },
    ["bindings/net/tap.c:SPEC_FIELDS"] = {
      function(o) return fw.tap.add("t0", o) end,
      function(o) return fw.tap.ensure("t0", o) end,
    },
    ["bindings/net/veth.c:make"] = {
      function(o) return fw.veth.add("v0", "v1", o) end,
      function(o) return fw.veth.ensure("v0", "v1", o) end,
    },
    ["bindings/net/vxlan.c:SPEC_FIELDS"] = {
      function(o) return fw.vxlan.add("x0", o) end,
      function(o) return fw.vxlan.ensure("x0", o) end,
      base = function() return { id = 42 } end,
    },
  }
  return calls
end

local function shown(s)
  return (s:gsub("%z", "\\0"))
end

-- Every case, in the order of the lists: { list = key, what = label, call =
-- function, o = options, want = { plain texts the error must hold } }. Each
-- field of each list with a zero byte in its key, then with one in its value;
-- {[1] = true} and {nope = 1} once per call.
function M.cases(root, fw, FAKE)
  local calls, out = M.calls(fw, FAKE), {}
  local function add(list, what, call, o, ...)
    out[#out + 1] = { list = list, what = what, call = call, o = o, want = { ... } }
  end
  for _, l in ipairs(M.field_lists(root)) do
    local c = calls[l.key] or {}
    local function base(f)
      return c.base and c.base(f) or {}
    end
    for i, call in ipairs(c) do
      local what = l.key .. "#" .. i
      for _, f in ipairs(l.fields) do
        local o = base(f)
        o[f .. "\0x"] = false
        add(l.key, string.format("%s {[\"%s\"] = false}", what, shown(f .. "\0x")), call, o,
            "option '" .. f .. "\\0x'", "zero byte")
      end
      local o = base("")
      o[1] = true
      add(l.key, what .. " {[1] = true}", call, o, "unknown option [1]")
      o = base("")
      o.nope = 1
      add(l.key, what .. " {nope = 1}", call, o, "unknown option 'nope'")
      for _, f in ipairs(l.fields) do
        o = base(f)
        -- cut at its zero byte (a bug), it is a path in the fake root
        o[f] = FAKE .. "/a\0b"
        add(l.key, string.format("%s {%s = \"FAKE/a\\0b\"}", what, f), call, o, "'" .. f .. "'")
      end
    end
  end
  return out
end

return M
