-- host_setup_spec.lua - scripts/host-setup.lua, run twice by the fwsh program
-- in a throwaway namespace against a temporary root (and a firewalld of the
-- specs' own): the first run changes what is not right, the second changes
-- nothing; files read back with plain io, sysctls with cat, zones through
-- firewall-cmd.
local H = require "helper"
local fwsh = H.fwsh
local Sandbox = require "firewalld_sandbox"

local MODULES = { "br_netfilter", "nf_conntrack_bridge" }
local GRUB = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet splash"\n# the end\n'

local read = H.read_file

local write = H.write_file

local function count(hay, needle)
  local _, n = hay:gsub(needle:gsub("%p", "%%%0"), "")
  return n
end

-- The report line for what: its status word and detail.
local function line(out, what)
  for l in out:gmatch("[^\n]+") do
    if l:sub(1, #what + 1) == what .. " " then
      local status, detail = l:sub(#what + 1):match("^%s+(%S+)(.*)$")
      return (status:gsub(",$", "")), (detail:gsub("^[,%s]*", ""))
    end
  end
end

-- The report lines (not the summary) that say changed.
local function changed_lines(out)
  local found = {}
  for l in out:gmatch("[^\n]+") do
    if l:find("%s+changed") and not l:find("^%d+ changed, ") then found[#found + 1] = l end
  end
  return found
end

local function new_root()
  local root = os.tmpname()
  os.remove(root)
  assert(H.run({ "mkdir", "-p", root .. "/etc/default" }))
  write(root .. "/etc/default/grub", GRUB)
  return root
end

local function setup_cmd(args)
  local argv = { H.root .. "/scripts/host-setup.lua" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local out, ok, code = H.fwsh_cmd(argv, { stderr = true })
  return out, ok, code
end

-- Whether the running kernel has every module; each module's expected line.
local function module_expectations()
  local all = true
  local want = {}
  for _, m in ipairs(MODULES) do
    local state = fwsh.module.status(m)
    want[m] = (state == "loaded" or state == "builtin") and "ok" or "FAILED"
    all = all and want[m] == "ok"
  end
  return want, all
end

describe("scripts/host-setup.lua", function()
  it("does what is missing once, and nothing on a second run", function()
    local root = new_root()
    local want, all = module_expectations()
    H.in_netns(function(ns)
      -- Someone turned one switch off in this namespace.
      assert(select(2, H.run({ "ip", "netns", "exec", ns, "sh", "-c",
                               "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables" })))
      local out, ok = setup_cmd({ "--root", root, "--no-firewalld" })
      assert.are.equal(all, ok == true, out)
      for _, m in ipairs(MODULES) do
        assert.are.equal(want[m], (line(out, "module " .. m)), out)
      end
      assert.are.equal("changed", (line(out, "sysctl net.bridge.bridge-nf-call-iptables")), out)
      assert.are.equal("ok", (line(out, "sysctl net.bridge.bridge-nf-call-ip6tables")), out)
      assert.are.equal("1\n", (H.run({ "ip", "netns", "exec", ns, "cat",
                                       "/proc/sys/net/bridge/bridge-nf-call-iptables" })))
      assert.are.equal("changed", (line(out, root .. "/etc/modules-load.d/fwsh.conf")), out)
      assert.are.equal("changed", (line(out, root .. "/etc/default/grub")), out)
      assert.are.equal("skipped", (line(out, "grub.cfg")), out)
      assert.are.equal("skipped", (line(out, "firewalld")), out)
      local conf, grub = read(root .. "/etc/modules-load.d/fwsh.conf"), read(root .. "/etc/default/grub")
      assert.are.equal('GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet splash rd.driver.pre=br_netfilter,nf_conntrack_bridge"\n# the end\n', grub)

      local again, ok2 = setup_cmd({ "--root", root, "--no-firewalld" })
      assert.are.equal(ok == true, ok2 == true)
      assert.are.same({}, changed_lines(again))
      assert.truthy(again:find("\n0 changed, ", 1, true), again)
      assert.are.equal(conf, read(root .. "/etc/modules-load.d/fwsh.conf"))
      assert.are.equal(grub, read(root .. "/etc/default/grub"))
      for _, m in ipairs(MODULES) do
        assert.are.equal(1, count(grub, m))
        assert.are.equal(1, count(conf, "\n" .. m .. "\n"))
      end
    end)
    H.run({ "rm", "-rf", root })
  end)

  it("skips grub where there is none, and refuses unknown arguments", function()
    local root = new_root()
    os.remove(root .. "/etc/default/grub")
    H.in_netns(function()
      local out = setup_cmd({ "--root", root, "--no-firewalld" })
      assert.are.equal("skipped", (line(out, root .. "/etc/default/grub")), out)
      local bad, ok = setup_cmd({ "--frobnicate" })
      assert.is_not_true(ok)
      assert.truthy(bad:find("usage: host-setup.lua", 1, true), bad)
    end)
    H.run({ "rm", "-rf", root })
  end)

  describe("with firewalld", function()
    if Sandbox.missing then
      pending("needs " .. Sandbox.missing .. " (tools/deps.sh installs firewalld and dbus-daemon)")
      return
    end

    local fw
    setup(function()
      fw = Sandbox.start_running(60)
    end)
    teardown(function() if fw then fw:stop() end end)

    it("trusts the bridges that exist, br0 permanently, and nothing more the second time", function()
      local root = new_root()
      fw:run(function()
        fwsh.bridge.add("br0", { grounding = false })
        fwsh.bridge.add("br1", { grounding = false })
        local out = setup_cmd({ "--root", root, "--bus", fw.bus })
        local st, detail = line(out, "firewalld trusted br0")
        assert.are.equal("changed", st, out)
        assert.are.equal("added (runtime, permanent)", detail)
        st, detail = line(out, "firewalld trusted br1")
        assert.are.equal("changed", st, out)
        assert.are.equal("added (runtime)", detail)
        st, detail = line(out, "firewalld trusted br2")
        assert.are.equal("skipped", st, out)
        assert.are.equal("no bridge br2", detail)
        assert.are.equal("br0 br1", (fw:cmd("--zone=trusted", "--list-interfaces")))
        assert.are.equal("br0", (fw:cmd("--permanent", "--zone=trusted", "--list-interfaces")))

        local again = setup_cmd({ "--root", root, "--bus", fw.bus })
        assert.are.equal("ok", (line(again, "firewalld trusted br0")), again)
        assert.are.equal("ok", (line(again, "firewalld trusted br1")), again)
        assert.are.same({}, changed_lines(again))
        assert.are.equal("br0 br1", (fw:cmd("--zone=trusted", "--list-interfaces")))
      end)
      H.run({ "rm", "-rf", root })
    end)
  end)
end)
