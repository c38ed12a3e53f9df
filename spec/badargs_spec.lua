-- badargs_spec.lua - every public function refuses bad arguments clearly and
-- changes nothing (after luaposix's badargs): one row per function and method
-- of the API reference with its argument shape; each argument, and each option
-- field, is given every wrong kind of value in turn - a string with a zero
-- byte, the wrong type, NaN, infinities, negative and huge numbers - while the
-- others stay valid. The error names the function and the argument (its
-- position or its field). A function the reference lists without a row fails
-- the last case.
local H = require "helper"
local fwsh = H.fwsh

-- s: a string (a name); n: a number of seconds or an integer; t: an option
-- table; f: a function; u: a handle of fwsh.proc or fwsh.capture (methods);
-- k: kept valid (an argument whose wrong values a later check makes moot);
-- w: a name or a table of them.
local BAD = {
  s = { "bd\0z", {}, true },
  n = { 0 / 0, math.huge, -math.huge, -1, 2 ^ 63, "x", {} },
  t = { "x", 1, true },
  f = { "x", 1, {} },
  u = { "x", 1, {} },
  k = {},
  w = { "bd\0z", true }, -- a name, or a table of them
}
local GOOD = { s = "bdz0", n = 1, t = {}, f = function() end }

local CAPTURE = debug.getregistry()["fwsh.capture"].methods
local PROC = debug.getregistry()["fwsh.proc"].__index
local ROUTE = { dst = "s", via = "s", table = "n", metric = "n" }
local FAKE_ROOT = "/nonexistent/fwsh-badargs"

-- { name as the reference writes it, function, positional shapes,
--   { [position] = { field = shape } } [, { parameter names }] }: an argument
-- is named by its position (#1) or, where given, its parameter's name; a method's self is its first argument
-- (a name or a handle for links), and an empty shape list is a function that
-- takes no argument.
local ROWS = {
  { "fwsh.addr.add", fwsh.addr.add, { "s", "s" } },
  { "fwsh.addr.ensure", fwsh.addr.ensure, { "s", "s" } },
  { "fwsh.addr.delete", fwsh.addr.delete, { "s", "s" } },
  { "fwsh.addr.list", fwsh.addr.list, { "s" } },
  { "fwsh.batch", fwsh.batch, { "f" } },
  { "fwsh.boot.persist", fwsh.boot.persist, { "k", "t" }, { [2] = { root = "s" } } },
  { "fwsh.boot.remove", fwsh.boot.remove, { "k", "t" }, { [2] = { root = "s" } } },
  { "fwsh.boot.status", fwsh.boot.status, { "t" }, { [1] = { root = "s" } } },
  { "fwsh.boot.regenerate", fwsh.boot.regenerate, { "t" }, { [1] = { root = "s" } } },
  { "fwsh.bridge.add", fwsh.bridge.add, { "s", "t" }, { [2] = { mtu = "n", mac = "s" } } },
  { "fwsh.bridge.ensure", fwsh.bridge.ensure, { "s", "t" }, { [2] = { mtu = "n", forward_delay = "n" } } },
  { "fwsh.bridge.get", fwsh.bridge.get, { "s" } },
  { "fwsh.bridge.list", fwsh.bridge.list, {} },
  { "bridge:ports", fwsh.bridge.ports, { "s" } },
  -- (the bridge is looked up before the port is read, so only self here)
  { "bridge:attach", fwsh.bridge.attach, { "s" } },
  { "bridge:detach", fwsh.bridge.detach, { "s" } },
  { "bridge:grounding", fwsh.bridge.grounding, { "s" } },
  { "fwsh.brnf.get", fwsh.brnf.get, { "s" } },
  { "fwsh.brnf.set", fwsh.brnf.set, { "w" } },
  { "fwsh.capture", fwsh.capture, { "s", "t" },
    { [2] = { file = "s", filter = "s", count = "n", snaplen = "n", netns = "s" } } },
  { "capture:stop", CAPTURE.stop, { "u" } },
  { "capture:wait", CAPTURE.wait, { "u" } },
  { "capture:packets", CAPTURE.packets, { "u" } },
  { "capture:running", CAPTURE.running, { "u" } },
  { "fwsh.firewalld.running", fwsh.firewalld.running, { "t" }, { [1] = { bus = "s" } } },
  { "fwsh.firewalld.add", fwsh.firewalld.add, { "s", "s", "t" }, { [3] = { bus = "s" } } },
  { "fwsh.firewalld.remove", fwsh.firewalld.remove, { "s", "s", "t" }, { [3] = { bus = "s" } } },
  { "fwsh.firewalld.interfaces", fwsh.firewalld.interfaces, { "s", "t" }, { [2] = { bus = "s" } } },
  { "fwsh.firewalld.zone_of", fwsh.firewalld.zone_of, { "s", "t" }, { [2] = { bus = "s" } } },
  { "fwsh.lab", fwsh.lab, { "s" } },
  -- (opts kept a table and timeout left out: the lab library reads a string
  -- there as "ssh nil", and a NaN timeout only when it waits)
  { "fwsh.host", fwsh.host, { "s", "k" }, { [2] = { ssh = "s" } }, { "name" } },
  { "link:impair", fwsh.link.impair, { "s", "t" }, { [2] = { delay = "n", loss = "n" } } },
  { "link:clear_impairment", fwsh.link.clear_impairment, { "s" } },
  { "fwsh.labs", fwsh.labs, {} },
  { "fwsh.down", fwsh.down, { "s" } },
  { "fwsh.lab_dir_find", fwsh.lab_dir_find, { "s", "s" } },
  { "fwsh.lab_dir_labs", fwsh.lab_dir_labs, { "s" } },
  { "fwsh.lab_dir", fwsh.lab_dir, {} },
  { "fwsh.lab_dir_remove", fwsh.lab_dir_remove, { "s" } },
  { "fwsh.link.get", fwsh.link.get, { "s" } },
  { "fwsh.link.exists", fwsh.link.exists, { "s" } },
  { "fwsh.link.delete", fwsh.link.delete, { "s" } },
  { "fwsh.link.delete_made", fwsh.link.delete_made, { "s", "n" } },
  { "fwsh.link.list", fwsh.link.list, { "s" } },
  { "link:info", fwsh.link.info, { "s" } },
  { "link:up", fwsh.link.up, { "s" } },
  { "link:down", fwsh.link.down, { "s" } },
  { "link:set", fwsh.link.set, { "s", "t" }, { [2] = { mtu = "n", name = "s", alias = "s" } } },
  { "link:delete", fwsh.link.delete, { "s" } },
  { "link:detach", fwsh.link.detach, { "s" } },
  { "fwsh.mode", fwsh.mode, {} },
  { "fwsh.explain", fwsh.explain, { "s" } },
  { "fwsh.module.status", fwsh.module.status, { "s", "t" }, { [2] = { root = "s" } } },
  { "fwsh.module.load", fwsh.module.load, { "s" } },
  { "fwsh.module.unload", fwsh.module.unload, { "s", "t" }, { [2] = { root = "s" } } },
  { "fwsh.module.info", fwsh.module.info, { "s", "t" }, { [2] = { root = "s" } } },
  { "fwsh.netns.add", fwsh.netns.add, { "s" } },
  { "fwsh.netns.ensure", fwsh.netns.ensure, { "s" } },
  { "fwsh.netns.delete", fwsh.netns.delete, { "s" } },
  { "fwsh.netns.id", fwsh.netns.id, { "s" } },
  { "fwsh.netns.delete_made", fwsh.netns.delete_made, { "s", "n" } },
  { "fwsh.netns.exists", fwsh.netns.exists, { "s" } },
  { "fwsh.netns.list", fwsh.netns.list, {} },
  { "fwsh.netns.run", fwsh.netns.run, { "s", "f" } },
  { "fwsh.nft.run", fwsh.nft.run, { "s", "t" }, { [2] = { netns = "s" } } },
  { "fwsh.port.attach", fwsh.port.attach, { "s", "s" } },
  { "fwsh.port.detach", fwsh.port.detach, { "s" } },
  { "fwsh.proc.run", fwsh.proc.run, { "t", "t" }, { [2] = { timeout = "n", stdin = "s", netns = "s" } } },
  { "fwsh.proc.spawn", fwsh.proc.spawn, { "t", "t" }, { [2] = { netns = "s", stdout = "s" } } },
  { "proc:kill", PROC.kill, { "u" } },
  { "proc:wait", PROC.wait, { "u" } },
  { "proc:stop", PROC.stop, { "u" } },
  { "proc:write", PROC.write, { "u" } },
  { "proc:read", PROC.read, { "u" } },
  { "proc:running", PROC.running, { "u" } },
  { "proc:pid", PROC.pid, { "u" } },
  { "fwsh.proc.stop_lab", fwsh.proc.stop_lab, { "s" } },
  { "fwsh.proc.clock", fwsh.proc.clock, {} },
  { "fwsh.route.add", fwsh.route.add, { "t" }, { [1] = ROUTE } },
  { "fwsh.route.ensure", fwsh.route.ensure, { "t" }, { [1] = ROUTE } },
  { "fwsh.route.delete", fwsh.route.delete, { "t" }, { [1] = ROUTE } },
  { "fwsh.route.list", fwsh.route.list, { "t" }, { [1] = { dev = "s" } } },
  { "fwsh.show", fwsh.show, { "t" } },
  { "fwsh.state", fwsh.state, {} },
  { "fwsh.tap.add", fwsh.tap.add, { "s", "t" }, { [2] = { mtu = "n", bridge = "s", owner = "n" } } },
  { "fwsh.tap.ensure", fwsh.tap.ensure, { "s", "t" }, { [2] = { mtu = "n" } } },
  { "fwsh.tap.get", fwsh.tap.get, { "s" } },
  { "fwsh.tap.list", fwsh.tap.list, {} },
  { "fwsh.transaction", fwsh.transaction, { "f" } },
  { "fwsh.keep", fwsh.keep, {} },
  { "fwsh.veth.add", fwsh.veth.add, { "s", "s", "t" }, { [3] = { netns = "s", mtu = "n" } } },
  { "fwsh.veth.ensure", fwsh.veth.ensure, { "s", "s", "t" }, { [3] = { netns = "s", mtu = "n" } } },
  { "fwsh.vxlan.add", fwsh.vxlan.add, { "s", "t" }, { [2] = { id = "n", dstport = "n", dev = "s" } } },
  { "fwsh.vxlan.ensure", fwsh.vxlan.ensure, { "s", "t" }, { [2] = { id = "n", ttl = "n", remote = "s" } } },
  { "fwsh.wait", fwsh.wait, { "t" }, { [1] = { timeout = "n", interval = "n", link = "s" } } },
}

-- Listed in the reference, with no row, and why.
local NO_ROW = {
  help = "the shell's own (not the module's): takes any value and says what it knows of it",
}

-- Valid arguments for a row: each option table gets its other fields valid.
local function args_for(row)
  local a = {}
  for i, shape in ipairs(row[3]) do a[i] = (shape == "t" or shape == "k") and {} or GOOD[shape] end
  local name = row[1]
  if name == "fwsh.proc.run" or name == "fwsh.proc.spawn" then a[1] = { "true" } end
  if name:find("^fwsh%.route%.") and name ~= "fwsh.route.list" then a[1] = { dst = "10.77.0.0/24", dev = "bdz0" } end
  if name == "fwsh.wait" then a[1] = { fn = function() return true end } end
  if name == "fwsh.capture" then a[2] = { file = "/nonexistent/fwsh-badargs.pcap" } end
  if name:find("^fwsh%.boot%.") or name:find("^fwsh%.module%.") then a[#a] = { root = FAKE_ROOT } end
  if name == "fwsh.boot.persist" or name == "fwsh.boot.remove" then a[1] = { "bdz0" } end
  if name == "fwsh.host" then a[2] = { ssh = "nobody@192.0.2.1", timeout = 1 } end
  if name == "fwsh.vxlan.add" or name == "fwsh.vxlan.ensure" then a[2] = { id = 42 } end
  if name:find("^fwsh%.firewalld%.") then a[#a] = { bus = "/nonexistent/fwsh-badargs-bus" } end
  return a
end
-- Every call of a row with one bad value: { label, args }.
local function cases(row)
  local out = {}
  for i, shape in ipairs(row[3]) do
    for _, bad in ipairs(BAD[shape]) do
      local a = args_for(row)
      a[i] = bad
      out[#out + 1] = { string.format("argument %d = %s", i, H.quote(tostring(bad))), a, i }
    end
    for field, fshape in pairs((row[4] or {})[i] or {}) do
      for _, bad in ipairs(BAD[fshape]) do
        local a = args_for(row)
        a[i][field] = bad
        if field == "link" then a[i].fn = nil end
        out[#out + 1] = { string.format("field %s = %s", field, H.quote(tostring(bad))), a, i, field }
      end
    end
  end
  return out
end

describe("bad arguments", function()
  for _, row in ipairs(ROWS) do
    -- No namespace of its own: the tier needs no root (nothing is made; what
    -- is here, a sandbox's or a user's, is read before and after).
    it(row[1] .. " refuses each, clearly, and changes nothing", function()
      local ns = nil
      local links, names = H.link_names(ns), H.netns_names()
      local fn = row[1]:match("[%w_]+$")
      -- called as a script calls it (fwsh.bridge.add(...)), so that Lua can name it
      local call = assert(load("local t, n, a = ...; return t." .. fn .. "(table.unpack(a, 1, n))"))
      for _, c in ipairs(cases(row)) do
        local ok, err = pcall(call, { [fn] = row[2] }, #row[3], c[2])
        local msg = tostring(err)
        assert(not ok, row[1] .. " took " .. c[1])
        assert(not msg:find("attempt to", 1, true), row[1] .. " with " .. c[1] .. ": " .. msg)
        assert(not msg:find("to '?'", 1, true), row[1] .. " with " .. c[1] .. ": " .. msg)
        assert(msg:find(fn, 1, true), row[1] .. " with " .. c[1] .. " does not name " .. fn .. ": " .. msg)
        local arg = c[4] and ("%f[%w_]" .. c[4] .. "%f[^%w_]") or ("#" .. c[3] .. "%f[^%d]")
        local pname = row[5] and row[5][c[3]]
        assert(msg:find(arg) or (not c[4] and pname and msg:find(pname .. " ", 1, true)), row[1] .. " with " .. c[1] .. " does not name " .. arg .. ": " .. msg)
        assert.are.same(links, H.link_names(ns), row[1] .. " with " .. c[1])
        assert.are.same(names, H.netns_names(), row[1] .. " with " .. c[1])
      end
    end)
  end

  it("has a row for every function and method README's reference lists", function()
    local readme = assert(H.read_file(H.root .. "/README.md"))
    local block = assert(readme:match("<!%-%- apidoc:begin %-%->\n(.-)<!%-%- apidoc:end %-%->"))
    local rows, listed, missing = {}, 0, {}
    for _, row in ipairs(ROWS) do rows[row[1]] = true end
    for entry in block:gmatch("\n%- `([%w_.:]+)") do
      listed = listed + 1
      if not rows[entry] and not NO_ROW[entry] then missing[#missing + 1] = entry end
    end
    assert.is_true(listed > 80, "reference entries read: " .. listed)
    assert.are.same({}, missing)
  end)

  it("the exact reproducers of the hostile run: nothing made, nothing cut", H.ns(function(ns)
    assert.is_false(pcall(fwsh.bridge.add, "ab\0cd"))
    assert.is_nil(H.link(ns, "ab"))
    assert.is_false(pcall(fwsh.tap.add, "ab\0cd"))
    assert.is_nil(H.link(ns, "ab"))
    local br = fwsh.bridge.add("br9")
    for _, p in ipairs({ "/2x4", "/24abc", "/+24", "/ 24", "/0x18", "/33" }) do
      assert.is_false(pcall(fwsh.addr.add, br, "10.0.0.3" .. p), p)
    end
    for _, a in ipairs(H.addrs(ns, "br9")) do assert.falsy(a:find("^10%."), a) end
    assert.is_false(pcall(fwsh.route.add, { dst = "10.9.0.0/24", dev = "br9", table = 2 ^ 32 + 100 }))
    assert.is_false(pcall(fwsh.route.add, { dst = "10.9.0.0/24", dev = "br9", table = 2 ^ 40 }))
    assert.are.same({}, H.ip(ns, "route", "show", "table", "all", "10.9.0.0/24"))
    assert.is_false(pcall(function() br:set{ mtu = 2 ^ 32 + 1300 } end))
    assert.are.equal(1500, H.link(ns, "br9").mtu)
    assert.is_false(pcall(function() br:set{ alias = string.rep("a", 300) } end))
    assert.is_nil(H.link(ns, "br9").ifalias and H.link(ns, "br9").ifalias:find("^a"))
    fwsh.addr.add(br, "10.0.0.3/24")
    assert.is_false(pcall(fwsh.route.add, { dst = "10.9.0.0/24", via = "10.0.0.1/24" }))
    assert.is_false(pcall(fwsh.boot.status, { root = "/\0/tmp/fake" }))
    assert.is_false(pcall(fwsh.bridge.add, "br8", { address = { "10.0.8.1/24\0junk" } }))
    assert.is_nil(H.link(ns, "br8"))
    assert.is_false(pcall(fwsh.route.add, { dst = "10.9.0.0/24", dev = "br9", table = "main\0x" }))
    assert.is_false(pcall(fwsh.module.load, "br_netfilter", { x = "1\0y" }))
    assert.is_false(pcall(fwsh.boot.persist, { "-x" }, { root = "/nonexistent" }))
    local node = (function()
      package.path = H.root .. "/lab/lua/?.lua;" .. package.path
      return require "fwsh.node"
    end)()
    -- A name no one else has: a temporary file's, the file removed.
    local victim = os.tmpname()
    os.remove(victim)
    assert.is_false(pcall(node.sysctl, "../.." .. victim, "1"))
    assert.is_nil(H.read_file(victim))
  end))

  it("the program refuses a namespace path, an empty name and an option as a lab", function()
    local out, ok = H.fwsh_cmd({ "--netns", "../../proc/self/ns/net", "-e", "" }, { stderr = true })
    assert.is_falsy(ok)
    assert.truthy(out:find("not a namespace name", 1, true), out)
    out, ok = H.fwsh_cmd({ "--netns", "", "-e", "" }, { stderr = true })
    assert.is_falsy(ok)
    assert.falsy(out:find("CAP_SYS_ADMIN", 1, true), out)
    out, ok = H.fwsh_cmd({ "down", "--bogus" }, { stderr = true })
    assert.is_falsy(ok)
    assert.truthy(out:find("unknown option --bogus", 1, true), out)
  end)
end)
