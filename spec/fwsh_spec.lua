-- fwsh_spec.lua - the fwsh program: scripts with Lua's arg table, -e, --netns,
-- --sandbox, errors as "fwsh: FILE:LINE: message" with exit status 1,
-- --version, --help. Links and namespaces read back with iproute2.
local H = require "helper"
local fwsh = H.fwsh

local dir

-- Writes a script into the spec's directory; returns its path.
local function script(name, text)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- Runs fwsh with args; returns standard output and error together, and the exit code.
local function run(args)
  local out, _, code = H.fwsh_cmd(args, { stderr = true })
  return out, code
end

local function lines(s)
  local out = {}
  for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

describe("the fwsh program", function()
  setup(function()
    dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
  end)

  teardown(function()
    if dir then H.run({ "rm", "-rf", dir }) end
  end)

  it("runs a script with Lua's arg table and its arguments as ...", H.ns(function(ns)
    local path = script("args.lua", [[
print(arg[0], arg[1], arg[2], #arg, arg[-1] ~= nil)
print(select("#", ...), ...)
]])
    local out, code = run({ path, "one", "two words" })
    assert.are.equal(0, code)
    assert.are.same({ path .. "\tone\ttwo words\t2\ttrue", "2\tone\ttwo words" }, lines(out))
  end))

  it("has the module preloaded as the global fwsh", H.ns(function(ns)
    local out, code = run({ "-e", [[print(type(fwsh), fwsh == require "fwsh", fwsh.version)]] })
    assert.are.equal(0, code)
    assert.are.equal("table\ttrue\t" .. fwsh.version, out:gsub("\n$", ""))
  end))

  it("runs -e code, each in order, before the script", H.ns(function(ns)
    local path = script("after.lua", [[print("script", x)]])
    local out, code = run({ "-e", "x = 1 print('first')", "-e", "x = x + 1 print('second')", path })
    assert.are.equal(0, code)
    assert.are.same({ "first", "second", "script\t2" }, lines(out))
  end))

  it("changes the namespace it runs in", H.ns(function(ns)
    local out, code = run({ "-e", [[fwsh.tap.add("t0")]] })
    assert.are.equal(0, code, out)
    assert.are.equal("tun", H.link(ns, "t0").linkinfo.info_kind)
  end))

  it("works in the named namespace with --netns", H.ns(function(ns)
    H.with_netns(function(other)
      local out, code = run({ "--netns", other, "-e", [[fwsh.tap.add("t0")]] })
      assert.are.equal(0, code, out)
      assert.are.equal("tun", H.link(other, "t0").linkinfo.info_kind)
      assert.is_nil(H.link(ns, "t0"))
    end)
  end))

  it("refuses --netns for a namespace that does not exist", H.ns(function(ns)
    local before = H.link_names(ns)
    local out, code = run({ "--netns", "fwsh-spec-none", "-e", [[fwsh.tap.add("t0")]] })
    assert.are.equal(1, code)
    assert.truthy(out:find("^fwsh: %-%-netns fwsh%-spec%-none: No such file or directory"), out)
    assert.are.same(before, H.link_names(ns))
  end))

  it("leaves the links and namespaces it started in as they were with --sandbox", H.ns(function(ns)
    fwsh.tap.add("mine0")
    -- A new tap's NO-CARRIER comes from the kernel's linkwatch, some ms later:
    -- what must stay the same is every link and its settings, not carrier.
    local function settled()
      local ls = H.ip(ns, "link", "show")
      for _, l in ipairs(ls) do l.flags, l.operstate = nil, nil end
      return ls
    end
    local links, names = settled(), H.netns_names()
    local out, code = run({ "--sandbox", H.root .. "/scripts/seed.lua" })
    assert.are.equal(0, code, out)
    out, code = run({ "--sandbox", "-e", [[
fwsh.netns.add("fwsh-spec-sandboxed")
fwsh.veth.add("v0", "v1", { netns = "fwsh-spec-sandboxed" })
fwsh.link.get("lo"):set{ mtu = 1400 }
]] })
    assert.are.equal(0, code, out)
    assert.are.same(links, settled())
    assert.are.same(names, H.netns_names())
  end))

  it("rolls a script back on os.exit with a failure code, keeps it on success", H.ns(function(ns)
    local _, _, code = H.fwsh_in(ns, { "-e", [[fwsh.bridge.add("ex0") os.exit(3)]] })
    assert.are.equal(3, code)
    assert.is_nil(H.link(ns, "ex0"))
    _, _, code = H.fwsh_in(ns, { "-e", [[fwsh.bridge.add("ex1") os.exit(true)]] })
    assert.are.equal(0, code)
    assert.is_not_nil(H.link(ns, "ex1"))
  end))

  it("removes the state directories a failed script made, and keeps a successful one's", function()
    local out = H.fwsh_cmd({ "-e", "print(fwsh.lab_dir()) error('boom')" })
    local failed = out:match("(%S+)\n")
    assert.truthy(failed and failed:find("^/tmp/fwsh%-default%."), out)
    assert.is_nil(H.read_file(failed .. "/.fwsh-lab"))
    out = H.fwsh_cmd({ "-e", "print(fwsh.lab_dir())" })
    local kept = out:match("(%S+)\n")
    assert.are.equal("fwsh:default\n", H.read_file(kept .. "/.fwsh-lab"))
    H.run({ "rm", "-rf", kept })
  end)

  it("keeps a --sandbox run's lab directories and intent records off the host", function()
    local function ours()
      local out = H.run({ "sh", "-c", "ls -d /tmp/fwsh-* /run/fwsh/labs/* /run/fwsh/intent/* 2>/dev/null" })
      return out
    end
    local before = ours()
    local out, ok = H.fwsh_cmd({ "--sandbox", "-e", "print(fwsh.lab_dir()) fwsh.bridge.add('sbr')" })
    assert.is_true(ok, out)
    local dir = out:match("(%S+)\n")
    assert.truthy(dir and dir:find("^/run/fwsh/labs/fwsh%-default%."), out)
    assert.is_nil(H.read_file(dir .. "/.fwsh-lab"))
    assert.are.equal(before, ours())
  end)

  it("keeps the host's /etc and /boot read-only to a --sandbox script", function()
    -- access(2), not a write: on a build without this the write would land in the host's /etc.
    local probe = [[
for _, d in ipairs({ "/etc", "/etc/default", "/boot" }) do
  local r = fwsh.proc.run({ "test", "-w", d })
  print(d, r.ok)
end
print("tmp", fwsh.proc.run({ "test", "-w", "/tmp" }).ok)]]
    local out, ok = H.fwsh_cmd({ "--sandbox", "-e", probe })
    assert.is_true(ok, out)
    assert.truthy(out:find("/etc\tfalse\n", 1, true), out)
    assert.truthy(out:find("/etc/default\tfalse\n", 1, true), out)
    if select(2, H.run({ "test", "-d", "/boot" })) then
      assert.truthy(out:find("/boot\tfalse\n", 1, true), out)
    end
    assert.truthy(out:find("tmp\ttrue\n", 1, true), out)
    -- and outside the sandbox, as they were
    assert.is_true(select(2, H.run({ "test", "-w", "/etc" })))
  end)

  it("starts a --sandbox script in an empty namespace of its own", H.ns(function(ns)
    fwsh.tap.add("mine0")
    local out, code = run({ "--sandbox", "-e", [[
local names = {}
for _, l in ipairs(fwsh.link.list()) do names[#names + 1] = l.name end
print(table.concat(names, " "), #fwsh.netns.list())
]] })
    assert.are.equal(0, code, out)
    assert.are.equal("lo\t0\n", out)
  end))

  it("refuses --sandbox with --netns", H.ns(function(ns)
    local out, code = run({ "--sandbox", "--netns", ns, "-e", "print(1)" })
    assert.are.equal(1, code)
    assert.truthy(out:find("^fwsh: "), out)
    assert.is_nil(out:find("^1\n"))
  end))

  it("reports an error as fwsh: FILE:LINE: message, with exit status 1", H.ns(function(ns)
    local path = script("fails.lua", "local x = 1\nerror('it broke')\n")
    local out, code = run({ path })
    assert.are.equal(1, code)
    assert.are.equal("fwsh: " .. path .. ":2: it broke\n", out)
  end))

  it("reports an fwsh error with its place, operation, object and reason", H.ns(function(ns)
    local path = script("taken.lua", "fwsh.tap.add('t0')\n\nfwsh.tap.add('t0')\n")
    local out, code = run({ "--keep-partial", path })
    assert.are.equal(1, code)
    assert.truthy(out:find("^fwsh: " .. path:gsub("%p", "%%%0") .. ":3: tap%.add t0: File exists"),
                  out)
    assert.are.equal(1, #lines(out))
  end))

  it("reports errors in -e code and syntax errors the same way", H.ns(function(ns)
    local out, code = run({ "-e", "error('from -e')" })
    assert.are.equal(1, code)
    assert.are.equal("fwsh: (command line):1: from -e\n", out)
    local path = script("syntax.lua", "x = = 1\n")
    out, code = run({ path })
    assert.are.equal(1, code)
    assert.truthy(out:find("^fwsh: " .. path:gsub("%p", "%%%0") .. ":1: "), out)
    out, code = run({ dir .. "/missing.lua" })
    assert.are.equal(1, code)
    local missing = (dir .. "/missing.lua"):gsub("%p", "%%%0")
    assert.truthy(out:find("^fwsh: cannot open " .. missing), out)
  end))

  it("stops at the first failing -e, before the script", H.ns(function(ns)
    local path = script("never.lua", "print('ran')\n")
    local out, code = run({ "-e", "error('stop', 0)", "-e", "print('second')", path })
    assert.are.equal(1, code)
    assert.are.equal("fwsh: stop\n", out)
  end))

  it("shows an error value that is not a string through its __tostring", H.ns(function(ns)
    local out, code = run({ "-e", [[
error(setmetatable({}, { __tostring = function() return "custom" end }))]] })
    assert.are.equal(1, code)
    assert.are.equal("fwsh: custom\n", out)
  end))

  it("undoes what a failing script made, unless --keep-partial", H.ns(function(ns)
    local path = script("half.lua", "fwsh.tap.add('t0')\nfwsh.tap.add('t1')\nerror('halfway')\n")
    local before = H.link_names(ns)
    local out, code = run({ path })
    assert.are.equal(1, code)
    assert.truthy(out:find("halfway", 1, true), out)
    assert.are.same(before, H.link_names(ns))
    out, code = run({ "--keep-partial", path })
    assert.are.equal(1, code)
    assert.is_not_nil(H.link(ns, "t0"))
    assert.is_not_nil(H.link(ns, "t1"))
  end))

  it("tags what a script makes with its lab, the script's name by default", H.ns(function(ns)
    local path = script("my-lab.lua", "fwsh.tap.add('t0')\n")
    local out, code = run({ path })
    assert.are.equal(0, code, out)
    assert.are.equal("fwsh:my-lab", H.link(ns, "t0").ifalias)
    out, code = run({ "--lab", "other", "-e", "fwsh.tap.add('t1')" })
    assert.are.equal(0, code, out)
    assert.are.equal("fwsh:other", H.link(ns, "t1").ifalias)
  end))

  it("exits with the status os.exit gives", H.ns(function(ns)
    local _, code = run({ "-e", "os.exit(3)" })
    assert.are.equal(3, code)
    _, code = run({ "-e", "os.exit(true)" })
    assert.are.equal(0, code)
    _, code = run({ "-e", "os.exit(false)" })
    assert.are.equal(1, code)
    local path = script("exit.lua", "print('before') os.exit(7) print('after')\n")
    local out
    out, code = run({ path })
    assert.are.equal(7, code)
    assert.are.equal("before\n", out)
  end))

  it("loads libkmod, libnftables and libdbus only when a script first needs one", H.ns(function(ns)
    -- Which of the three are mapped into the process, as its own maps say.
    local probe = [[
      local function mapped()
        local maps, seen = io.open("/proc/self/maps"):read("a"), {}
        for _, lib in ipairs({ "libkmod", "libnftables", "libdbus" }) do
          if maps:find("/" .. lib, 1, true) then seen[#seen + 1] = lib end
        end
        return table.concat(seen, " ")
      end
      print("start: " .. mapped())
      fwsh.module.status("br_netfilter")
      print("module: " .. mapped())
      fwsh.nft.run("list tables")
      print("nft: " .. mapped())
      print("firewalld: " .. tostring(fwsh.firewalld.running({ bus = "unix:path=/nonexistent" })))
      print("all: " .. mapped())
    ]]
    local out, code = run({ "-e", probe })
    assert.are.equal(0, code, out)
    assert.are.same({ "start: ", "module: libkmod", "nft: libkmod libnftables",
                      "firewalld: false", "all: libkmod libnftables libdbus" }, lines(out))
  end))

  it("prints its version, and its help, on standard output", H.ns(function(ns)
    local out, ok, code = H.fwsh_cmd({ "--version" })
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.are.equal("fwsh " .. fwsh.version .. "\n", out)
    out, ok, code = H.fwsh_cmd({ "--help" })
    assert.is_true(ok)
    assert.are.equal(0, code)
    assert.truthy(out:find("^usage: fwsh "), out)
    for _, opt in ipairs({ "-e stat", "-l g=mod", "-v", "-E", "-W", "--netns NAME", "--sandbox", "--version", "--help" }) do
      assert.truthy(out:find(opt, 1, true), opt)
    end
    local h = H.fwsh_cmd({ "-h" })
    assert.are.equal(out, h)
  end))

  it("refuses an option it does not know as lua5.4 does, with exit status 1", H.ns(function(ns)
    local out, ok, code = H.fwsh_cmd({ "--no-such-option" }, { stderr = true })
    assert.falsy(ok)
    assert.are.equal(1, code)
    assert.truthy(out:find("^fwsh: unrecognized option '%-%-no%-such%-option'\nusage: fwsh "), out)
    local stdout = H.fwsh_cmd({ "--no-such-option" })
    assert.are.equal("", stdout)
  end))
end)
