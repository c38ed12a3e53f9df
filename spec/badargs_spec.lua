-- badargs_spec.lua - every public function refuses bad arguments clearly and
-- changes nothing (after luaposix's badargs): one row per function with its
-- argument shape; each argument, and each option field, is given every wrong
-- kind of value in turn - a string with a zero byte, the wrong type, NaN,
-- infinities, negative and huge numbers - while the others stay valid.
local H = require "helper"
local fwsh = H.fwsh

-- s: a string (a name); n: a number of seconds or an integer; t: an option table.
local BAD = {
  s = { "bd\0z", {}, true },
  n = { 0 / 0, math.huge, -math.huge, -1, 2 ^ 63, "x", {} },
  t = { "x", 1, true },
}
local GOOD = { s = "bdz0", n = 1, t = {} }

-- { name, function, positional shapes, { [position] = { field = shape } } }
local ROWS = {
  { "fwsh.bridge.add", fwsh.bridge.add, { "s", "t" }, { [2] = { mtu = "n", mac = "s" } } },
  { "fwsh.bridge.ensure", fwsh.bridge.ensure, { "s", "t" }, { [2] = { mtu = "n", forward_delay = "n" } } },
  { "fwsh.tap.add", fwsh.tap.add, { "s", "t" }, { [2] = { mtu = "n", bridge = "s", owner = "n" } } },
  { "fwsh.tap.ensure", fwsh.tap.ensure, { "s", "t" }, { [2] = { mtu = "n" } } },
  { "fwsh.veth.add", fwsh.veth.add, { "s", "s", "t" }, { [3] = { netns = "s" } } },
  { "fwsh.link.get", fwsh.link.get, { "s" } },
  { "fwsh.link.exists", fwsh.link.exists, { "s" } },
  { "fwsh.link.delete", fwsh.link.delete, { "s" } },
  { "fwsh.link.delete_made", fwsh.link.delete_made, { "s", "n" } },
  { "fwsh.netns.add", fwsh.netns.add, { "s" } },
  { "fwsh.netns.ensure", fwsh.netns.ensure, { "s" } },
  { "fwsh.netns.delete", fwsh.netns.delete, { "s" } },
  { "fwsh.netns.id", fwsh.netns.id, { "s" } },
  { "fwsh.netns.delete_made", fwsh.netns.delete_made, { "s", "n" } },
  { "fwsh.addr.add", fwsh.addr.add, { "s", "s" } },
  { "fwsh.addr.delete", fwsh.addr.delete, { "s", "s" } },
  { "fwsh.route.add", fwsh.route.add, { "t" },
    { [1] = { dst = "s", via = "s", table = "n", metric = "n" } } },
  { "fwsh.lab", fwsh.lab, { "s" } },
  { "fwsh.lab_dir_remove", fwsh.lab_dir_remove, { "s" } },
  { "fwsh.wait", fwsh.wait, { "t" }, { [1] = { timeout = "n", interval = "n", link = "s" } } },
  { "fwsh.proc.run", fwsh.proc.run, { "t", "t" }, { [2] = { timeout = "n", stdin = "s", netns = "s" } } },
  { "fwsh.boot.status", fwsh.boot.status, { "t" }, { [1] = { root = "s" } } },
  { "fwsh.nft.run", fwsh.nft.run, { "s", "t" }, { [2] = { netns = "s" } } },
  { "fwsh.capture", fwsh.capture, { "s", "t" },
    { [2] = { file = "s", filter = "s", count = "n", snaplen = "n", netns = "s" } } },
}

-- Valid arguments for a row: each option table gets its other fields valid.
local function args_for(row)
  local a = {}
  for i, shape in ipairs(row[3]) do a[i] = shape == "t" and {} or GOOD[shape] end
  if row[1] == "fwsh.proc.run" then a[1] = { "true" } end
  if row[1] == "fwsh.route.add" then a[1] = { dst = "10.77.0.0/24", dev = "bdz0" } end
  if row[1] == "fwsh.wait" then a[1] = { fn = function() return true end } end
  if row[1] == "fwsh.capture" then a[2] = { file = "/nonexistent/fwsh-badargs.pcap" } end
  return a
end

-- Every call of a row with one bad value: { label, args }.
local function cases(row)
  local out = {}
  for i, shape in ipairs(row[3]) do
    for _, bad in ipairs(BAD[shape]) do
      local a = args_for(row)
      a[i] = bad
      out[#out + 1] = { string.format("argument %d = %s", i, H.quote(tostring(bad))), a }
    end
    for field, fshape in pairs((row[4] or {})[i] or {}) do
      for _, bad in ipairs(BAD[fshape]) do
        local a = args_for(row)
        a[i][field] = bad
        if field == "link" then a[i].fn = nil end
        out[#out + 1] = { string.format("field %s = %s", field, H.quote(tostring(bad))), a }
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
      for _, c in ipairs(cases(row)) do
        local ok, err = pcall(function() return row[2](table.unpack(c[2], 1, #row[3])) end)
        local msg = tostring(err)
        assert(not ok, row[1] .. " took " .. c[1])
        assert(not msg:find("attempt to", 1, true), row[1] .. " with " .. c[1] .. ": " .. msg)
        assert(not msg:find("to '?'", 1, true), row[1] .. " with " .. c[1] .. ": " .. msg)
        assert.are.same(links, H.link_names(ns), row[1] .. " with " .. c[1])
        assert.are.same(names, H.netns_names(), row[1] .. " with " .. c[1])
      end
    end)
  end

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
