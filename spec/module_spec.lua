-- module_spec.lua - fwsh.module, checked against /sys/module, /proc/sys and
-- /proc/config.gz read directly, and against a small module tree built here
-- with gcc and depmod(8) (ROOT/lib/modules/RELEASE). Nothing is loaded: the
-- only loads are no-ops on built-in modules, dry runs, and loads refused
-- before the kernel is asked.
local H = require "helper"
local fwsh = H.fwsh

local FAKE = "0.0.1-fwsh-spec"

local read = H.read_file

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

local function lines_of(cmd)
  local out = {}
  for l in H.run({ "sh", "-c", cmd }):gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

local write = H.write_file

-- A module tree: baz <- bar <- foo by symbols (depmod finds the order), bar
-- also known as "fwsh-spec-bar", a "fakebuiltin" in modules.builtin, and a
-- modprobe.d with a soft dependency and a blacklist.
local function make_tree(root, release)
  local dir = root .. "/lib/modules/" .. release
  assert(H.run({ "mkdir", "-p", dir .. "/kernel/net", root .. "/etc/modprobe.d" }))
  local src = root .. "/src"
  assert(H.run({ "mkdir", "-p", src }))
  local function module(name, body, info)
    write(src .. "/" .. name .. ".c", body .. "\n" ..
      '__attribute__((section(".modinfo"), used)) static const char mi[] = "' ..
      table.concat(info, "\\0") .. '";\n')
    local _, ok = H.run({ "gcc", "-c", "-o", dir .. "/kernel/net/" .. name .. ".ko", src .. "/" .. name .. ".c" })
    assert(ok, "gcc " .. name)
  end
  module("baz", 'int baz_fn(void) { return 2; }\n' ..
    '__attribute__((section("__ksymtab_strings"), used)) static const char ks[] = "baz_fn";',
    { "license=GPL", "description=spec baz", "name=baz" })
  module("bar", 'extern int baz_fn(void);\nint bar_fn(void) { return baz_fn(); }\n' ..
    '__attribute__((section("__ksymtab_strings"), used)) static const char ks[] = "bar_fn";',
    { "license=GPL", "description=spec bar", "parm=level:how loud", "parmtype=level:int",
      "parm=name:what it is called", "parmtype=name:charp", "alias=fwsh-spec-bar", "name=bar" })
  module("foo", 'extern int bar_fn(void);\nint foo_fn(void) { return bar_fn(); }',
    { "license=GPL", "description=spec foo", "name=foo" })
  module("qux", 'int qux_fn(void) { return 3; }', { "license=GPL", "description=spec qux", "name=qux" })
  write(dir .. "/modules.builtin", "kernel/net/fakebuiltin.ko\n")
  write(root .. "/etc/modprobe.d/spec.conf", "softdep foo pre: qux\nblacklist bar\n")
  local out, ok = H.run({ "depmod", "-b", root, release }, { stderr = true })
  assert(ok, "depmod: " .. out)
  return dir
end

describe("fwsh.module", function()
  local root, dir

  setup(function()
    root = os.tmpname()
    os.remove(root)
    assert(H.run({ "mkdir", root }))
    dir = make_tree(root, FAKE)
  end)

  teardown(function()
    if root then H.run({ "rm", "-rf", root }) end
  end)

  local opts = function(extra)
    local o = { root = root, release = FAKE }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  describe("on the running kernel", function()
    it("calls every /sys/module entry without an initstate built in, one with it loaded", function()
      local names = lines_of("ls /sys/module")
      assert.truthy(#names > 0, "no /sys/module here")
      for _, name in ipairs(names) do
        local state, source = fwsh.module.status(name)
        local init = read("/sys/module/" .. name .. "/initstate")
        if init then
          assert.are.equal("loaded", state, name)
          assert.truthy(source:find("initstate", 1, true))
        else
          assert.are.equal("builtin", state, name .. ": " .. source)
          assert.are.equal("/sys/module/" .. name, source)
        end
      end
    end)

    it("finds br_netfilter by /proc/sys/net/bridge when it has no /sys/module entry", function()
      local has_sysctl = exists("/proc/sys/net/bridge/bridge-nf-call-iptables")
      local loaded = exists("/sys/module/br_netfilter/initstate")
      local state, source = fwsh.module.status("br_netfilter")
      if loaded then
        assert.are.equal("loaded", state)
      elseif has_sysctl then
        assert.are.equal("builtin", state)
        if not exists("/sys/module/br_netfilter") then
          assert.are.equal("/proc/sys/net/bridge", source)
        end
      else
        assert.are_not.equal("builtin", state)
      end
      -- '-' and '_' name the same module, as for modprobe.
      assert.are.equal(state, (fwsh.module.status("br-netfilter")))
    end)

    it("reads nf_conntrack_bridge as the kernel's configuration says", function()
      local cfg = H.run({ "sh", "-c", "zcat /proc/config.gz 2>/dev/null | grep -E '^(# )?CONFIG_NF_CONNTRACK_BRIDGE[= ]'" })
      local state, source = fwsh.module.status("nf_conntrack_bridge")
      if exists("/sys/module/nf_conntrack_bridge/initstate") then
        assert.are.equal("loaded", state)
      elseif cfg:find("=y", 1, true) then
        assert.are.equal("builtin", state)
      elseif cfg:find("is not set", 1, true) and not exists("/lib/modules") then
        assert.are.equal("missing", state)
        assert.truthy(source:find("CONFIG_NF_CONNTRACK_BRIDGE is not set", 1, true), source)
      else
        assert.truthy(state == "available" or state == "missing", state)
      end
    end)

    it("calls a made-up name missing, and says why", function()
      local state, source = fwsh.module.status("fwsh_no_such_module")
      assert.are.equal("missing", state)
      if not exists("/proc/modules") then
        assert.truthy(source:find("without module support", 1, true), source)
      end
    end)

    it("loads a built-in module as a no-op, and refuses an unknown one", function()
      local builtin = lines_of("for m in /sys/module/*; do [ -e $m/initstate ] || { basename $m; break; }; done")[1]
      assert.truthy(builtin, "no built-in module with a /sys/module entry here")
      local inserted, steps = fwsh.module.load(builtin)
      assert.is_false(inserted)
      assert.are.same({}, steps)
      local err = H.raises(function() fwsh.module.load("fwsh_no_such_module") end,
                           "module.load fwsh_no_such_module: No such file or directory: no module fwsh_no_such_module")
      assert.are.equal("ENOENT", err.code)
    end)

    it("refuses to unload a built-in module, and an unknown one", function()
      local builtin = lines_of("for m in /sys/module/*; do [ -e $m/initstate ] || { basename $m; break; }; done")[1]
      local err = H.raises(function() fwsh.module.unload(builtin) end,
                           "module.unload " .. builtin .. ": Operation not permitted: built in, cannot be unloaded")
      assert.are.equal("EPERM", err.code)
      assert.is_true(exists("/sys/module/" .. builtin))
      H.raises(function() fwsh.module.unload("fwsh_no_such_module") end,
               "module.unload fwsh_no_such_module: No such file or directory")
    end)

    it("shows a built-in module's parameters with the values in /sys/module", function()
      local name, param = table.unpack(lines_of(
        "for p in /sys/module/*/parameters/*; do [ -r $p ] && [ ! -e ${p%/parameters/*}/initstate ] && " ..
        "{ echo $p | cut -d/ -f4; basename $p; break; }; done"))
      if not name then pending("no built-in module with a readable parameter here") return end
      local info = fwsh.module.info(name)
      assert.are.equal("builtin", info.state)
      assert.are.equal(name, info.name)
      local want = read("/sys/module/" .. name .. "/parameters/" .. param):gsub("\n$", "")
      assert.are.equal(want, info.params[param].value)
    end)

    it("refuses a real load on a kernel without module support before asking it", function()
      if exists("/proc/modules") then
        pending("this kernel loads modules: a real load is not attempted in specs")
        return
      end
      -- The running release, so that only the missing module support stops it.
      local uname = H.run({ "uname", "-r" }):gsub("\n", "")
      local r2 = root .. "/live"
      make_tree(r2, uname)
      assert.are.equal("available", (fwsh.module.status("foo", { root = r2 })))
      H.raises(function() fwsh.module.load("foo", nil, { root = r2 }) end,
               "module.load foo: Function not implemented: this kernel has no module support")
      -- A dry run of the same load still resolves it.
      local _, steps = fwsh.module.load("foo", nil, { root = r2, dry_run = true })
      assert.are.same({ "baz", "bar", "qux", "foo" }, steps)
    end)
  end)

  describe("in a module tree under a root", function()
    it("tells available, built-in and missing modules apart", function()
      local state, source = fwsh.module.status("foo", opts())
      assert.are.equal("available", state)
      assert.are.equal(dir .. "/kernel/net/foo.ko", source)
      assert.is_true(exists(source))
      state, source = fwsh.module.status("fakebuiltin", opts())
      assert.are.equal("builtin", state)
      assert.are.equal(dir .. "/modules.builtin", source)
      assert.are.equal("missing", (fwsh.module.status("nope", opts())))
    end)

    it("resolves an alias to its module", function()
      local state, source = fwsh.module.status("fwsh-spec-bar", opts())
      assert.are.equal("available", state)
      assert.are.equal(dir .. "/kernel/net/bar.ko", source)
      assert.are.equal("bar", fwsh.module.info("fwsh-spec-bar", opts()).name)
    end)

    it("gives a module's file, dependencies in load order, soft dependencies and parameters", function()
      local info = fwsh.module.info("foo", opts())
      assert.are.equal("foo", info.name)
      assert.are.equal("available", info.state)
      assert.are.equal(dir .. "/kernel/net/foo.ko", info.path)
      assert.are.equal("spec foo", info.description)
      -- depmod's own modules.dep, read here, lists the same modules.
      local dep = read(dir .. "/modules.dep"):match("kernel/net/foo.ko:([^\n]*)")
      assert.are.equal(" kernel/net/bar.ko kernel/net/baz.ko", dep)
      assert.are.same({ "baz", "bar" }, info.depends)
      assert.are.same({ "qux" }, info.softdeps.pre)
      local bar = fwsh.module.info("bar", opts())
      assert.are.same({ type = "int", description = "how loud" }, bar.params.level)
      assert.are.equal("charp", bar.params.name.type)
      assert.is_nil(bar.refcnt)
    end)

    it("resolves a load as modprobe does, in a dry run that inserts nothing", function()
      local inserted, steps = fwsh.module.load("foo", { }, opts{ dry_run = true })
      assert.is_true(inserted)
      assert.are.same({ "baz", "bar", "qux", "foo" }, steps)
      -- Parameters go to the named module only, in name order, quoted if blank.
      _, steps = fwsh.module.load("bar", { name = "a b", level = 3 }, opts{ dry_run = true })
      assert.are.same({ "baz", 'bar level=3 name="a b"' }, steps)
      _, steps = fwsh.module.load("bar", "level=9", opts{ dry_run = true })
      assert.are.same({ "baz", "bar level=9" }, steps)
    end)

    it("applies a blacklist to aliases, as modprobe does", function()
      H.raises(function() fwsh.module.load("fwsh-spec-bar", nil, opts{ dry_run = true }) end,
               "module.load fwsh-spec-bar: Operation not permitted: bar is blacklisted in modprobe.d")
    end)

    it("refuses to load modules of another kernel release for real", function()
      H.raises(function() fwsh.module.load("foo", nil, opts()) end,
               "module.load foo", "is for kernel " .. FAKE .. ", not the running one")
    end)

    it("unloads nothing that is not loaded", function()
      assert.is_false(fwsh.module.unload("foo", opts()))
      H.raises(function() fwsh.module.unload("fakebuiltin", opts()) end,
               "built in, cannot be unloaded")
    end)

    it("reports a missing module's info without raising", function()
      local info = fwsh.module.info("nope", opts())
      assert.are.equal("missing", info.state)
      assert.is_nil(info.path)
      assert.are.same({}, info.depends)
    end)
  end)

  describe("arguments", function()
    it("checks names, options and parameters", function()
      H.raises(function() fwsh.module.status() end, "bad argument #1")
      H.raises(function() fwsh.module.status("a/b") end, "module.status a/b: Invalid argument", "no '/'")
      H.raises(function() fwsh.module.status("foo", { rot = "/" }) end, "unknown option 'rot'")
      H.raises(function() fwsh.module.status("foo", { root = "relative" }) end, "not an absolute path")
      H.raises(function() fwsh.module.status("foo", { root = "/nonexistent-fwsh" }) end, "not a directory")
      H.raises(function() fwsh.module.load("foo", 7) end, "bad argument #2")
      H.raises(function() fwsh.module.load("foo", { a = {} }, opts{ dry_run = true }) end,
               "parameter 'a': string, number or boolean expected")
      H.raises(function() fwsh.module.load("foo", { ['a b'] = 1 }, opts{ dry_run = true }) end,
               "'a b' is not a parameter name")
      H.raises(function() fwsh.module.load("foo", { a = 'x"y' }, opts{ dry_run = true }) end,
               "cannot hold")
    end)

    it("registers no globals", function()
      local before = {}
      for k in pairs(_G) do before[k] = true end
      fwsh.module.status("bridge")
      for k in pairs(_G) do assert.truthy(before[k], "new global " .. k) end
    end)
  end)
end)
