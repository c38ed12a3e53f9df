-- readers_spec.lua - every string a binding hands from Lua to C goes through
-- the strict readers of bindings/base/opts.c (read with its length, a zero
-- byte refused, naming the argument or field). This scan keeps it so: a raw
-- Lua reader (lua_tostring, luaL_checkstring...) anywhere else in bindings/
-- fails it, unless the allow-list below says why that use hands nothing to C
-- (a message being built, a string fwsh made itself, bytes read with their
-- length). A new binding that reads a string the old way cannot pass.
local H = require "helper"

local RAW = { "lua_tostring", "lua_tolstring", "luaL_checkstring", "luaL_checklstring",
              "luaL_optstring", "luaL_optlstring", "luaL_tolstring" }

-- [file] = { { line text (a plain substring of the line), why }, ... }
local ALLOW = {
  ["bindings/base/error.c"] = {
    { "luaL_tolstring(L, 1, NULL);", "__tostring of an error: a message" },
    { "luaL_tolstring(L, 2, NULL);", "__tostring of an error: a message" },
  },
  ["bindings/base/handle.c"] = {
    { "const char *key = lua_tostring(L, 2);", "__index: compared with \"name\", never handed on" },
  },
  ["bindings/net/batch.c"] = {
    { "return lfwsh_fail_detail(L, r, lua_tostring(L, -1),", "the op name of a message, made here" },
  },
  ["bindings/net/bridge.c"] = {
    { "const char *a = lua_tostring(L, -1);", "addresses read_spec already read strictly" },
    { "return lfwsh_fail_detail(L, r, op, lua_tostring(L, -1), detail);", "a message, made here" },
  },
  ["bindings/net/show.c"] = {
    { "fputs(lua_tostring(L, -1), stdout);", "the text show made, printed" },
  },
  ["bindings/lab/wait.c"] = {
    { "what = lua_tostring(L, -1);", "the condition's description, made by describe()" },
    { "lfwsh_fail_detail(L, r, \"wait\", what, lua_tostring(L, -1));", "a message, made here" },
    { "lfwsh_to_str(L, -1, 1, lua_tostring(L, -2));", "the run= item's name, made here" },
  },
  ["bindings/lab/lab.c"] = {
    { "fwsh_lab_dir_remove(ctx, lua_tostring(L, -1), lua_tostring(L, -2));",
      "lab and path of the directories fwsh made, kept in the registry" },
    { "lab = lua_tostring(L, -1);", "the lab of a directory fwsh made, kept in the registry" },
  },
  ["bindings/lab/proc.c"] = {
    { "lua_tostring(L, -1); /* a number is converted in place",
      "turns a number into a string in place; lfwsh_to_str reads it next" },
    { "argv[i - 1] = lfwsh_to_str(L, -2, idx, lua_tostring(L, -1));", "the item's name, made here" },
    { "const char *s = luaL_checklstring(L, 2, &len);", "bytes for a pipe, written with their length" },
  },
  ["bindings/lab/capture.c"] = {
    { "file = lua_tostring(L, -1);", "__tostring of a capture: a message" },
  },
  ["bindings/host/module.c"] = {
    { "luaL_tolstring(L, -2, NULL)));", "a message about a key that is not a string" },
    { "v = (lua_tostring(L, -1), /* a number becomes a string in place",
      "turns a number into a string in place; lfwsh_to_str reads it next" },
    { "words[i] = lua_tostring(L, -1);   /* list keeps it alive */", "strings made here from checked ones" },
    { "return lua_tostring(L, -1);", "the parameter string made here from checked words" },
  },
}

local function sources()
  local out = assert(H.run({ "find", H.root .. "/bindings", "-name", "*.c" }))
  local files = {}
  for path in out:gmatch("[^\n]+") do files[#files + 1] = path:sub(#H.root + 2) end
  table.sort(files)
  return files
end

-- The raw readers used in the text of a C file, as { line number, line }.
local function raw_uses(text)
  local uses, n = {}, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local code = line:gsub("/%*.-%*/", ""):gsub("//.*", "")
    for _, fn in ipairs(RAW) do
      if code:find("%f[%w_]" .. fn .. "%s*%(") then
        uses[#uses + 1] = { n = n, line = line }
        break
      end
    end
  end
  return uses
end

local function allowed(file, line)
  for _, a in ipairs(ALLOW[file] or {}) do
    if line:find(a[1], 1, true) then return true end
  end
  return false
end

describe("strict string readers", function()
  it("finds the bindings' sources", function()
    local files = sources()
    assert.truthy(#files > 20, #files)
  end)

  it("no binding reads a string from Lua but through bindings/base/opts.c", function()
    local bad = {}
    for _, file in ipairs(sources()) do
      if file ~= "bindings/base/opts.c" then
        for _, u in ipairs(raw_uses(assert(H.read_file(H.root .. "/" .. file)))) do
          if not allowed(file, u.line) then
            bad[#bad + 1] = string.format("%s:%d: %s", file, u.n, u.line:match("^%s*(.-)%s*$"))
          end
        end
      end
    end
    assert(#bad == 0, "raw Lua string readers (use lfwsh_check_str, lfwsh_opt_str, lfwsh_to_str, " ..
           "lfwsh_opt_string; or add to ALLOW with the reason):\n" .. table.concat(bad, "\n"))
  end)

  it("the scan sees a raw reader where there is one", function()
    assert.are.equal(1, #raw_uses("        const char *s = luaL_checkstring(L, 1);"))
    assert.are.equal(1, #raw_uses("x = lua_tolstring (L, -1, &n);"))
    assert.are.equal(0, #raw_uses("/* luaL_checkstring would pass one on */"))
    assert.are.equal(0, #raw_uses("const char *s = lfwsh_check_str(L, 1);"))
  end)
end)
