-- plan_spec.lua - fwsh --dry-run and --explain: the plan changes nothing, and
-- pasted into `sh -e` it builds what the script builds.
local H = require "helper"

-- The topology of ns, as iproute2 reads it: what a plan must reproduce.
local function topology(ns)
  -- Read once the kernel has settled: an address still in DAD has no local
  -- route yet, and the two namespaces compared are made some ms apart.
  H.dad_done(ns)
  local view = {}
  for name, l in pairs(H.links(ns)) do
    local info = l.linkinfo or {}
    local d = info.info_data or {}
    view[#view + 1] = table.concat({ name, info.info_kind or "-", l.master or "-",
      tostring(table.concat(l.flags, ","):find("UP") ~= nil), l.ifalias or "-",
      -- link-local addresses come from random MACs: only their being there counts
      tostring(d.stp_state), (table.concat(H.addrs(ns, name), " "):gsub("fe80::[%x:]+", "fe80::")),
      tostring(#H.routes(ns, name)) }, "|")
  end
  table.sort(view)
  return view
end

local function in_exec(ns, ...)
  return H.fwsh_cmd({ ... }, { prefix = { "ip", "netns", "exec", ns } })
end

describe("fwsh --dry-run", function()
  it("changes nothing and prints a plan that sh -e turns into the same topology", H.ns(function(ns)
    local before = H.ip(ns, "-d", "link", "show")
    local plan, ok = in_exec(ns, "--dry-run", H.root .. "/scripts/seed.lua")
    assert.is_true(ok)
    assert.are.same(before, H.ip(ns, "-d", "link", "show"))
    assert.truthy(plan:find("ip link add dev br1 group %d+ type bridge\n"), plan)
    assert.truthy(plan:find("sysctl -qw net/ipv6/conf/br1/disable_ipv6=1\n", 1, true))

    -- The same script for real, in this namespace; the plan by sh, in a fresh one.
    local _, built = in_exec(ns, H.root .. "/scripts/seed.lua")
    assert.is_true(built)
    local want = topology(ns)
    H.in_netns(function(other)
      local _, sh_ok = H.run({ "ip", "netns", "exec", other, "sh", "-e", "-c", plan })
      assert.is_true(sh_ok)
      assert.are.same(want, topology(other))
    end)
  end))

  it("plans nothing where the topology is there already", H.ns(function(ns)
    in_exec(ns, H.root .. "/scripts/seed.lua")
    local plan, ok = in_exec(ns, "--dry-run", H.root .. "/scripts/seed.lua")
    assert.is_true(ok)
    assert.are.equal("", plan)
  end))

  it("lets loops and conditions see the planned state", H.ns(function(ns)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      fwsh.bridge.add("br9", { grounding = false })
      assert(fwsh.link.exists("br9"), "the planned bridge is seen")
      for i = 1, 3 do fwsh.tap.add("t" .. i, { bridge = "br9" }) end
      assert(#fwsh.bridge.get("br9"):ports() == 3, "its planned ports are seen")
      assert(not fwsh.bridge.get("br9"):grounding(), "and it is planned non-grounding")
      fwsh.link.get("t2"):delete()
      assert(not fwsh.link.exists("t2"))
    ]])
    f:close()
    local before = H.link_names(ns)
    local plan, ok = in_exec(ns, "--dry-run", script)
    os.remove(script)
    assert.is_true(ok)
    assert.are.same(before, H.link_names(ns))
    assert.truthy(plan:find("ip link delete dev t2", 1, true))
  end))

  it("refuses what the kernel would refuse, and exits 1", H.ns(function(ns)
    local out, ok, code = in_exec(ns, "--dry-run", "-e", 'fwsh.bridge.add("b") fwsh.bridge.add("b")')
    assert.is_falsy(ok)
    assert.are.equal(1, code)
    assert.are.same({ "lo" }, H.link_names(ns))
    -- the failed run undoes its plan too, so the plan as a whole changes nothing
    assert.truthy(out:find("ip link delete dev b", 1, true))
  end))
end)

describe("fwsh --explain", function()
  it("makes the changes and prints the lines as it goes", H.ns(function(ns)
    local out, ok = in_exec(ns, "--explain", "-e",
                            'fwsh.bridge.add("br5", {stp = true, mcast_snooping = false})')
    assert.is_true(ok)
    assert.truthy(out:find("ip link add dev br5 group %d+ up type bridge stp_state 1 mcast_snooping 0"), out)
    assert.are.equal(1, H.link(ns, "br5").linkinfo.info_data.stp_state)
    assert.are.equal(0, H.link(ns, "br5").linkinfo.info_data.mcast_snooping)
  end))
end)
