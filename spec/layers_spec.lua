-- layers_spec.lua - the architecture holds in the built objects: each group of
-- core/ and bindings/ calls only the groups below it, and no files call each
-- other in a circle but the one tools/layers names and explains.
local H = require "helper"

local function layers(build)
  return H.run({ H.root .. "/tools/layers", build }, { stderr = true })
end

-- Objects of a made-up tree: files[unit] = C source, built where CMake puts them.
local function fake_build(files)
  local dir = os.tmpname()
  os.remove(dir)
  for unit, src in pairs(files) do
    local tree = unit:match("^core/") and "fwshcore" or "fwshlua"
    local obj = string.format("%s/CMakeFiles/%s.dir/%s.c.o", dir, tree, unit)
    local c = obj:gsub("%.o$", "")
    assert(H.run({ "mkdir", "-p", (obj:match("^(.*)/")) }))
    H.write_file(c, src)
    local out, ok = H.run({ "cc", "-c", "-o", obj, c })
    assert(ok, out)
  end
  return dir
end

describe("tools/layers", function()
  it("finds fwsh's groups in order and one explained circle", function()
    local out, ok = layers(H.build)
    assert.truthy(ok, out)
    assert.truthy(out:find("core/net -> core/change", 1, true), out)
    assert.truthy(out:find("bindings/net -> bindings/base", 1, true), out)
    assert.falsy(out:find("core/net -> core/host", 1, true), out)
    assert.falsy(out:find("core/base -> ", 1, true), out)
    assert.truthy(out:find(" files, 1 circles\n", 1, true), out)
  end)

  it("refuses a net file that calls host setup", function()
    local dir = fake_build({
      ["core/net/a"] = "void host_thing(void); void net_thing(void) { host_thing(); }",
      ["core/host/b"] = "void host_thing(void) {}",
    })
    local out, ok = layers(dir)
    H.run({ "rm", "-rf", dir })
    assert.falsy(ok)
    assert.truthy(out:find("core/net/a calls host_thing (core/host/b): net may not call host", 1, true), out)
  end)

  it("refuses two files of one group that call each other", function()
    local dir = fake_build({
      ["bindings/net/a"] = "void b(void); void a(void) { b(); }",
      ["bindings/net/b"] = "void a(void); void b(void) { a(); }",
    })
    local out, ok = layers(dir)
    H.run({ "rm", "-rf", dir })
    assert.falsy(ok)
    assert.truthy(out:find("files call each other in a circle: bindings/net/a bindings/net/b", 1, true), out)
  end)

  -- A link kind is found once, by name, in core/net/kind.c; what is particular
  -- to it is in its own file. Anywhere else, a test of a kind's name is a kind's
  -- fact spread over the tree again.
  it("finds no test of a link kind's name outside the kinds' own files", function()
    local own = { ["core/net/bridge.c"] = "bridge", ["core/net/tap.c"] = "tap tun",
                  ["core/net/veth.c"] = "veth", ["core/net/vxlan.c"] = "vxlan" }
    local out = H.run({ "grep", "-rnE", [[strcmp\([^;]*"(bridge|tap|tun|veth|vxlan)"]],
                        H.root .. "/core", H.root .. "/bindings", H.root .. "/repl" }) or ""
    local found = {}
    for line in out:gmatch("[^\n]+") do
      local file, kind = line:match("^" .. H.root:gsub("%p", "%%%0") .. "/([^:]+):%d+:.-\"(%a+)\"")
      if not (own[file] and own[file]:find(kind, 1, true)) then found[#found + 1] = line end
    end
    assert.are.same({}, found)
  end)
end)
