-- install_spec.lua - fwsh installed the way Debian programs are: `cmake
-- --install` into a staging root puts fwsh, fwsh.so in Lua 5.4's cpath and
-- the Lua parts in its path, and lua5.4 finds them there; fwsh(1) carries
-- every option `fwsh --help` prints. The .deb in a clean Debian 12 root
-- needs the network (apt), which specs do not have: test.sh checks it
-- (tools/deb-check.sh), outside the sandbox.
local H = require "helper"

describe("installed like a Debian program", function()
  it("cmake --install: lua5.4 finds fwsh.so, fwsh.hosts and fwsh.firewall where Lua looks, fwsh its tools", function()
    local stage = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    local out, ok = H.run({ "env", "DESTDIR=" .. stage, "cmake", "--install", H.build }, { stderr = true })
    assert(ok, out)
    local prefix = H.read_file(H.build .. "/CMakeCache.txt"):match("\nCMAKE_INSTALL_PREFIX:PATH=([^\n]+)")
    local files = H.run({ "find", stage, "-type", "f" })
    local function installed(pattern)
      local f = files:match("\n?(" .. stage:gsub("%p", "%%%0") .. pattern .. ")\n")
      assert.truthy(f, pattern .. " in\n" .. files)
      return f:sub(#stage + 1)
    end
    installed("/[^\n]*/bin/fwsh")
    local so = installed("/[^\n]*/lua/5%.4/fwsh%.so")
    installed("/[^\n]*/share/lua/5%.4/fwsh/firewall%.lua")
    installed("/[^\n]*/share/lua/5%.4/fwsh/hosts%.lua")
    installed("/[^\n]*/share/lua/5%.4/fwsh/hosts/record%.lua")
    installed("/[^\n]*/share/man/man1/fwsh%.1%.gz")
    local probe = installed("/[^\n]*/fwsh/fwsh%-probe")
    installed("/[^\n]*/fwsh/fwsh%-flows")
    assert.are.equal(prefix, so:sub(1, #prefix))
    -- Lua 5.4's own default path and cpath (no LUA_PATH), rooted at the stage
    -- (under the sanitizer pass, fwsh.so needs its runtime preloaded in lua5.4 too)
    local preload = os.getenv("LD_PRELOAD") and ("LD_PRELOAD=" .. os.getenv("LD_PRELOAD")) or "FWSH_NONE=1"
    out, ok = H.run({ "env", "-u", "LUA_PATH", "-u", "LUA_CPATH", "-u", "LUA_PATH_5_4", "-u", "LUA_CPATH_5_4",
      preload, "lua5.4", "-e",
      "package.cpath = package.cpath:gsub('/usr/', '" .. stage .. "/usr/') " ..
      "package.path = package.path:gsub('/usr/', '" .. stage .. "/usr/') " ..
      "local f = require 'fwsh'; print(package.searchpath('fwsh', package.cpath), f.tools_dir, " ..
      "type(require('fwsh.firewall').build), type(require('fwsh.hosts').host), " ..
      "package.searchpath('fwsh.hosts', package.path):sub(1, #'" .. stage .. "'))" }, { stderr = true })
    assert(ok, out)
    assert.are.equal(stage .. so .. "\t" .. probe:match("^(.*)/fwsh%-probe$") .. "\tfunction\tfunction\t" .. stage .. "\n", out)
    H.run({ "rm", "-rf", "--", stage })
  end)

  it("fwsh(1) has every option and subcommand of fwsh --help", function()
    local help = H.run({ H.build .. "/fwsh", "--help" })
    local man, ok = H.run({ "sh", "-c", "MANWIDTH=200 man -l -P cat " .. H.quote(H.build .. "/fwsh.1.gz") })
    assert(ok, man)
    for _, name in ipairs({ "NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "OPTIONS", "ENVIRONMENT",
                            "EXIT STATUS", "EXAMPLES" }) do
      assert.truthy(man:find("\n" .. name .. "\n", 1, true), name)
    end
    local n = 0
    for opt in help:gmatch("\n%s+(%-%-?[%w-]+)") do
      n = n + 1
      assert.truthy(man:find(opt, 1, true), opt)
    end
    assert.is_true(n >= 15, help)
    for _, sub in ipairs({ "fwsh labs", "fwsh down", "fwsh console", "fwsh capture", "show" }) do
      assert.truthy(man:find(sub, 1, true), sub)
    end
  end)
end)
