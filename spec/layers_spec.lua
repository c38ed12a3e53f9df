-- layers_spec.lua - the architecture holds in the built objects: each group of
-- core/ and bindings/ calls only the groups below it, and no files call each
-- other in a circle but the one tools/layers names and explains; the module's
-- Lua half never requires the lab library, nor does the program.
local H = require "helper"

local function layers(build, source)
  return H.run({ H.root .. "/tools/layers", build, source }, { stderr = true })
end

-- Objects of a made-up tree: files[unit] = C source, built where CMake puts them.
local function fake_build(files)
  local dir = os.tmpname()
  os.remove(dir)
  for unit, src in pairs(files) do
    local tree = unit:match("^core/") and "fwshcore" or unit:match("^repl/") and "fwsh" or "fwshlua"
    local obj = string.format("%s/CMakeFiles/%s.dir/%s.c.o", dir, tree, unit)
    local c = obj:gsub("%.o$", "")
    assert(H.run({ "mkdir", "-p", (obj:match("^(.*)/")) }))
    H.write_file(c, src)
    local out, ok = H.run({ "cc", "-c", "-o", obj, c })
    assert(ok, out)
  end
  return dir
end

-- A made-up source tree: files[path] = text.
local function fake_source(files)
  local dir = os.tmpname()
  os.remove(dir)
  for path, text in pairs(files) do
    assert(H.run({ "mkdir", "-p", dir .. "/" .. path:match("^(.*)/") }))
    H.write_file(dir .. "/" .. path, text)
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
    local nlua, nreq = out:match("\n(%d+) Lua files of the module, (%d+) requires of fwsh%.NAME")
    assert.truthy(tonumber(nlua) >= 4 and tonumber(nreq) >= 4, out)
  end)

  it("refuses a Lua file of the module that requires the lab library, or a name that is nowhere", function()
    local src = fake_source({
      ["bindings/lua/fwsh/a.lua"] = 'local fwsh = fwsh or require "fwsh"\n' ..
                                    '-- require "fwsh.firewall" in a comment is no require\n' ..
                                    'local b = require "fwsh.b"\nreturn require("fwsh.node").new',
      ["bindings/lua/fwsh/b.lua"] = 'return { x = require "fwsh.nowhere" }',
      ["lab/lua/fwsh/node.lua"] = 'return require "fwsh.b"',
      ["lab/lua/fwsh/firewall.lua"] = 'return {}',
    })
    local dir = fake_build({ ["core/base/a"] = "void a(void) {}" })
    local out, ok = layers(dir, src)
    H.run({ "rm", "-rf", dir, src })
    assert.falsy(ok)
    assert.truthy(out:find("bindings/lua/fwsh/a.lua requires fwsh.node (lab/lua/fwsh/node.lua): " ..
                           "the module's Lua may not require the lab library", 1, true), out)
    assert.truthy(out:find("bindings/lua/fwsh/b.lua requires fwsh.nowhere, which is no file of bindings/lua", 1, true), out)
    assert.falsy(out:find("fwsh.firewall", 1, true), out)
    assert.truthy(out:find("\n2 Lua files of the module, 3 requires of fwsh.NAME", 1, true), out)
  end)

  it("refuses the program's C naming a module of the lab library", function()
    local src = fake_source({ ["lab/lua/fwsh/node.lua"] = "return {}", ["bindings/lua/fwsh/hosts.lua"] = "return {}" })
    local dir = fake_build({
      ["core/base/a"] = "void a(void) {}",
      ["repl/main"] = 'const char *lab(void); const char *lab(void) { return "fwsh.node"; }\n' ..
                      'const char *own(void); const char *own(void) { return "fwsh.hosts"; }\n' ..
                      'const char *help(void); const char *help(void) { return "see require \\"fwsh.node\\""; }',
    })
    local out, ok = layers(dir, src)
    H.run({ "rm", "-rf", dir, src })
    assert.falsy(ok)
    assert.truthy(out:find("repl/main names fwsh.node (lab/lua/fwsh/node.lua): the program requires only " ..
                           "the module's Lua, not the lab library's", 1, true), out)
    assert.falsy(out:find("names fwsh.hosts", 1, true), out)
    assert.are.equal(1, select(2, out:gsub("layers: ", "")), out)
  end)

  -- fwsh's own program requires fwsh.hosts and fwsh.serve: in a tree where
  -- they were the lab library's, the check fails on the real objects.
  it("sees what the program requires: it would fail if the multi-host layer were in lab/", function()
    local src = fake_source({ ["lab/lua/fwsh/hosts.lua"] = "return {}", ["lab/lua/fwsh/serve.lua"] = "return {}" })
    local out, ok = layers(H.build, src)
    H.run({ "rm", "-rf", src })
    assert.falsy(ok)
    assert.truthy(out:find("repl/main names fwsh.hosts (lab/lua/fwsh/hosts.lua)", 1, true), out)
    assert.truthy(out:find("repl/serve names fwsh.serve (lab/lua/fwsh/serve.lua)", 1, true), out)
    assert.truthy(out:find("bindings/lab/host names fwsh.hosts (lab/lua/fwsh/hosts.lua)", 1, true), out)
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
