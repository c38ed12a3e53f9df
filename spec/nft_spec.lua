-- nft_spec.lua - fwsh.nft: rulesets applied through libnftables in a named
-- namespace, read back with `nft -j list ruleset` run in that namespace.
local H = require "helper"
local fwsh = H.fwsh
local json = require "dkjson"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local nftables = require "fwsh.nftables"

local function ruleset(ns)
  local out, ok = H.run({ "ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset" })
  assert(ok, "nft list ruleset failed")
  local items = {}
  for _, o in ipairs(json.decode(out).nftables) do
    local kind, v = next(o)
    if kind ~= "metainfo" then items[#items + 1] = { kind = kind, v = v } end
  end
  return items
end

local function count(items, kind)
  local n = 0
  for _, i in ipairs(items) do if i.kind == kind then n = n + 1 end end
  return n
end

local function other_ns()
  local ns = "fwsh-spec-nft-" .. math.random(1, 1e9)
  H.run({ "ip", "netns", "add", ns })
  return ns
end

describe("fwsh.nft", function()
  it("applies commands in a named namespace and only there", H.ns(function(ns)
    local there = other_ns()
    local ok, err = pcall(function()
      fwsh.nft.run("add table inet t\nadd chain inet t f { type filter hook forward priority 0; policy drop; }\n" ..
                   "add rule inet t f ct state established,related accept\n", { netns = there })
      local items = ruleset(there)
      assert.are.equal(1, count(items, "table"))
      assert.are.equal(1, count(items, "chain"))
      assert.are.equal(1, count(items, "rule"))
      for _, i in ipairs(items) do
        if i.kind == "chain" then assert.are.equal("drop", i.v.policy) assert.are.equal("forward", i.v.hook) end
      end
      assert.are.equal(0, #ruleset(ns)) -- the caller's namespace is untouched
    end)
    H.run({ "ip", "netns", "delete", there })
    if not ok then error(err, 0) end
  end))

  it("is all or nothing, and raises with nft's own message", H.ns(function(ns)
    local err = H.raises(function()
      fwsh.nft.run("add table inet t\nadd rule inet t nochain accept\n", { netns = ns })
    end, "nft.run " .. ns .. ": Invalid argument", "Error:")
    assert.are.equal("EINVAL", err.code)
    assert.are.equal(0, #ruleset(ns))
    H.raises(function() fwsh.nft.run("this is not nft", { netns = ns }) end, "syntax error")
  end))

  it("lists, also as JSON", H.ns(function(ns)
    fwsh.nft.run("add table ip f\n")
    assert.truthy(fwsh.nft.run("list ruleset"):find("table ip f", 1, true))
    local j = json.decode(fwsh.nft.run("list ruleset", { json = true }))
    assert.truthy(j.nftables)
  end))

  it("applies the firewall ruleset the lab generates", H.ns(function(ns)
    fwsh.nft.run(nftables.firewall{
      client = { ifaces = { "eth1", "vc51" }, net = "10.1.0.0/24" },
      server = { ifaces = { "eth0", "vs52" }, net = "10.0.0.0/24" },
      sync = { iface = "eth2", port = 3780 },
      services = { { proto = "tcp", port = 5001 }, { proto = "udp", port = 5000 }, { proto = "icmp" } },
    })
    local items = ruleset(ns)
    assert.are.equal(3, count(items, "chain"))
    assert.are.equal(2, count(items, "counter"))
    local policies = {}
    for _, i in ipairs(items) do if i.kind == "chain" then policies[i.v.name] = i.v.policy end end
    assert.are.same({ forward = "drop", input = "drop", output = "accept" }, policies)
    -- forward: established, three services, the counted drop; input: lo,
    -- established, VRRP on both sides, sync, ping, the counted drop
    assert.are.equal(5 + 7, count(items, "rule"))
  end))

  it("checks its arguments", function()
    H.raises(function() fwsh.nft.run() end, "bad argument #1")
    H.raises(function() fwsh.nft.run("list ruleset", { nope = true }) end, "unknown option 'nope'")
    H.raises(function() fwsh.nft.run("list ruleset", { netns = "no-such-ns" }) end, "no namespace no-such-ns")
  end)
end)
