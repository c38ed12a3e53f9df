-- lua_compat_spec.lua - fwsh as a Lua 5.4 interpreter: each behaviour run
-- with lua5.4 and with fwsh side by side, the same command line, input and
-- environment; standard output and the exit status must be the same, and
-- standard error's first line the same once the program's name is set
-- aside ("lua5.4:" / "fwsh:"). fwsh shows a traceback only with
-- --traceback, so lua's "stack traceback:" lines are not compared.
-- And no value used as an error, a prompt or a result can crash fwsh.
local H = require "helper"

-- Runs argv with stdin text and env (a list of NAME=VALUE); returns stdout,
-- stderr, exit status.
local function run(argv, stdin, env)
  local err = os.tmpname()
  local words = { "env", "-u", "LUA_INIT", "-u", "LUA_INIT_5_4", "-u", "LUA_PATH", "-u", "LUA_PATH_5_4" }
  for _, e in ipairs(env or {}) do words[#words + 1] = e end
  for _, a in ipairs(argv) do words[#words + 1] = a end
  local quoted = {}
  for i, w in ipairs(words) do quoted[i] = H.quote(w) end
  local cmd = table.concat(quoted, " ") .. " 2>" .. H.quote(err)
  if stdin then cmd = "printf '%s' " .. H.quote(stdin) .. " | " .. cmd else cmd = cmd .. " </dev/null" end
  if os.getenv("LD_PRELOAD") then cmd = "env -u LD_PRELOAD sh -c " .. H.quote(cmd) end
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = assert(io.open(err))
  local stderr = f:read("a")
  f:close()
  os.remove(err)
  return out, stderr, code
end

-- The same behaviour of both: args after the program, optional stdin and env.
local function same(args, stdin, env)
  local lua = { "lua5.4" }
  local fw = { H.build .. "/fwsh" }
  for _, a in ipairs(args) do lua[#lua + 1] = a; fw[#fw + 1] = a end
  local lout, lerr, lcode = run(lua, stdin, env)
  local fout, ferr, fcode = run(fw, stdin, env)
  local what = table.concat(args, " ")
  assert.are.equal(lout, fout, "stdout of " .. what)
  assert.are.equal(lcode, fcode, "exit status of " .. what .. "\nlua5.4: " .. lerr .. "\nfwsh: " .. ferr)
  local lfirst = (lerr:match("^[^\n]*") or ""):gsub("^lua5%.4: ", "")
  local ffirst = (ferr:match("^[^\n]*") or ""):gsub("^fwsh: ", "")
  assert.are.equal(lfirst, ffirst, "stderr of " .. what)
  return fout, ferr, fcode
end

describe("fwsh as lua5.4", function()
  it("reports every kind of error value as lua5.4 does, and never aborts", function()
    for _, code in ipairs({
      'error(setmetatable({}, {__tostring = function() error("boom") end}))',
      'error(setmetatable({}, {__tostring = function() return "custom" end}))',
      'error(setmetatable({}, {__tostring = function() return 42 end}))',
      'error(setmetatable({}, {__name = "Thing"}))',
      'error{}', 'error(42)', 'error(nil)', 'error(true)', 'error(print)', 'error("plain")',
      'error(setmetatable({}, {__index = function() error("no") end}))',
      'error(string.rep("x", 100000))',
    }) do
      local _, _, status = same({ "-e", code })
      assert.are.equal(1, status, code)
    end
  end)

  it("takes -v, -E, -W, -l mod and -l g=mod", function()
    same({ "-v" })
    same({ "-W", "-e", 'warn("hi")' })
    same({ "-e", 'warn("off by default")' })
    same({ "-l", "string", "-e", "print(type(string))" })
    same({ "-l", "g=string", "-e", 'print(g.rep("a", 3))' })
    same({ "-lg=string", "-e", 'print(g.rep("b", 2))' })
    same({ "-l", "no.such.module" })
    same({ "-E", "-e", "print(1)" }, nil, { "LUA_INIT=print('not run')" })
  end)

  it("runs LUA_INIT_5_4, else LUA_INIT, code or @file, first; its error ends the run", function()
    local f = os.tmpname()
    H.write_file(f, 'print("from the file", ...)\n')
    same({ "-e", "print(2)" }, nil, { "LUA_INIT=print(1)" })
    same({ "-e", "print(2)" }, nil, { "LUA_INIT=print(1)", "LUA_INIT_5_4=print(0)" })
    same({ "-e", "print(2)" }, nil, { "LUA_INIT=@" .. f })
    same({ "-e", "print(2)" }, nil, { "LUA_INIT=@/no/such/file" })
    same({ "-e", "print(2)" }, nil, { "LUA_INIT=error('in init')" })
    same({ "-e", "print(2)" }, nil, { "LUA_INIT=x = = 1" })
    os.remove(f)
  end)

  it("passes the arg table as it is then to the script, and refuses an arg that is no table", function()
    same({ "-e", "arg[1] = 100", "-", "5" }, "print(...)\n")
    same({ "-e", "arg = 1", "-" }, "print(...)\n")
    same({ "-e", "arg[2] = 'x'", "-", "a" }, "print(select('#', ...), ...)\n")
    same({ "-", "a", "b" }, "print(arg[0], arg[1], arg[2], #arg)\n")
    same({ "--", "-" }, nil)
  end)

  it("words usage errors as lua5.4, exit status 1", function()
    for _, args in ipairs({ { "-x" }, { "-e" }, { "-l" }, { "-vx" }, { "--foo" }, { "-e", "-v" } }) do
      local _, err, status = same(args)
      assert.are.equal(1, status)
      assert.truthy(err:find("\nusage: fwsh ", 1, true), err)
    end
  end)

  it("makes package.path and cpath of LUA_PATH and LUA_CPATH exactly as lua5.4 does", function()
    for _, p in ipairs({ "/x/?.lua", "/x/?.lua;;", ";;", "" }) do
      for _, var in ipairs({ "LUA_PATH", "LUA_CPATH" }) do
        local env = p ~= "" and { var .. "=" .. p } or {}
        same({ "-e", "io.write(package.path, '|', package.cpath)" }, nil, env)
      end
    end
    -- the build tree's Lua parts are found all the same, after the path: the
    -- module's own (bindings/lua), then the lab library's (lab/lua)
    local out = run({ H.build .. "/fwsh", "-e", "io.write(package.searchpath and "
                      .. "type(require('fwsh.verdict').parse), ' ', type(require('fwsh.hosts').host))" })
    assert.are.equal("function function", out)
    out = run({ H.build .. "/fwsh", "-e", "io.write(select(2, pcall(require, 'fwsh.nosuch')))" })
    local module_dir = out:find("/bindings/lua/fwsh/nosuch.lua'", 1, true)
    local lab_dir = out:find("/lab/lua/fwsh/nosuch.lua'", 1, true)
    assert.truthy(module_dir and lab_dir and module_dir < lab_dir, out)
  end)

  it("exports Lua's API and nothing of its own: C modules bind to their own libraries", function()
    local out = H.run({ "nm", "-D", "--defined-only", H.build .. "/fwsh" })
    local n = 0
    for sym in out:gmatch("%S+ %a (%S+)\n") do
      n = n + 1
      -- (a sanitizer build also exports its runtime's hooks: not fwsh's own)
      assert.truthy(sym:find("^luaL?_") or sym:find("^luaopen_%w+$") or sym:find("^std[a-z]+@GLIBC")
                    or sym:find("^__[a-z]*san_") or sym:find("^__sanitizer"), sym)
    end
    assert.truthy(n > 100, out) -- Lua's API is there
    -- and the Lua C modules a script may require load and run in the program, as in lua5.4
    same({ "-e", "local lpeg = require 'lpeg'; print((lpeg.C(lpeg.P'a'^1)):match'aaab')" })
    same({ "-e", "print(require('lfs').attributes('/', 'mode'))" })
  end)

  it("runs the collector in lua.c's mode (generational)", function()
    same({ "-e", "print(collectgarbage('incremental'), collectgarbage('generational'))" })
  end)

  it("exits 0 after a failed statement from a pipe, as lua5.4 does", function()
    -- lua5.4 runs the whole input as one chunk; fwsh statement by statement
    -- (its documented difference), so only the error and the status compare
    local _, lerr, lcode = run({ "lua5.4" }, 'error("x")\nprint(1)\n')
    local fout, ferr, fcode = run({ H.build .. "/fwsh" }, 'error("x")\nprint(1)\n')
    assert.are.equal(lcode, fcode)
    assert.are.equal(lerr:match("^lua5%.4: ([^\n]*)"), ferr:match("^fwsh: ([^\n]*)"))
    assert.are.equal("1\n", fout)
  end)

  it("survives any prompt or result value in the shell", function()
    local out, err, code = run({ H.build .. "/fwsh" }, table.concat({
      "_PROMPT = setmetatable({}, { __tostring = function() error('p') end })",
      "setmetatable({}, { __tostring = function() error('r') end })",
      "setmetatable({}, { __tostring = function() return {} end })",
      "setmetatable({}, { __name = 'N' })",
      "error(setmetatable({}, { __tostring = function() error('e') end }))",
      "t = {} for i = 1, 200 do t = { t } end",
      "#tostring(t)",
      "print('alive')", "" }, "\n"))
    assert.are.equal(0, code)
    assert.truthy(out:find("alive\n", 1, true), out)
    assert.truthy(err:find("fwsh: printing the results: stdin:1: r", 1, true), err)
    assert.truthy(err:find("fwsh: stdin:1: e", 1, true), err)
  end)
end)
