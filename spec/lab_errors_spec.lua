-- lab_errors_spec.lua - the lab library's errors are fwsh errors as the C
-- side raises them: a table with op, object, reason and message, sharing
-- the C errors' metatable (tostring is the sentence, with the caller's
-- place); a library function raises one naming operation, object and
-- reason; errors.collect closes everything and keeps the first failure.
local H = require "helper"
package.path = H.root .. "/lab/lua/?.lua;" .. package.path
local fwsh = H.fwsh
local errors = require "fwsh.errors"

describe("fwsh.errors", function()
  it("makes errors like the C side's, placed at the caller", function()
    local function lib() errors.raise("lab:thing", "br1", "no such thing") end
    local ok, err = pcall(function()
      lib() -- the line named
    end)
    assert.is_false(ok)
    assert.are.equal("lab:thing", err.op)
    assert.are.equal("br1", err.object)
    assert.are.equal("no such thing", err.reason)
    assert.truthy(tostring(err):find("lab_errors_spec.lua:%d+: lab:thing br1: no such thing$"), tostring(err))
    assert.are.equal(err.message, tostring(err))
    -- the C side's metatable: both kinds print and concatenate alike
    local _, c = pcall(fwsh.link.get, "no-such-link-x")
    assert.are.equal(getmetatable(c), getmetatable(err))
    assert.are.equal("x: " .. err.message, "x: " .. err)
    -- no object: "op: reason"; an object with blanks at its ends is quoted
    assert.are.equal("node: name \"a;b\": bad", tostring(errors.new("node", nil, "name \"a;b\": bad", 0)))
    assert.are.equal("op ' x': r", tostring(errors.new("op", " x", "r", 0)))
    assert.is_true(errors.is(err))
    assert.is_true(errors.is(c))
    assert.is_false(errors.is("a string"))
  end)

  it("is what the lab library raises for a user's mistake", function()
    local node = require "fwsh.node"
    local ok, err = pcall(node.new, { name = "a", dir = "/nonexistent", backend = "lxc" })
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    assert.are.equal("node.new", err.op)
    assert.are.equal("a", err.object)
    local firewall = require "fwsh.firewall"
    ok, err = pcall(firewall.args, { "--reps", "0" })
    assert.is_false(ok)
    assert.are.equal("firewall.args", err.op)
    assert.are.equal("--reps", err.object)
    ok, err = pcall(require("fwsh.keepalived").config, { router_id = "a;b", instances = {} })
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    assert.are.equal("keepalived", err.op)
  end)

  it("refuses an option the library does not know, naming it, before anything is made", function()
    local node, hosts, firewall = require "fwsh.node", require "fwsh.hosts", require "fwsh.firewall"
    local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
    local cases = {
      { node.new, { name = "k1", dir = dir, sysclts = {} }, "node.new", "k1", '"sysclts"' },
      { node.new, { name = "k1", dir = dir, backend = "qemu", qemu = { memroy = 256 } }, "node.new", "k1", '"memroy"' },
      { node.new, { name = "k1", dir = dir, ports = { { name = "eth0", bridge = "b", tap = "t", adress = "x" } } },
        "node.new", "k1", '"adress"' },
      { function(o) return hosts.host("h1", o) end, { ssh = false, idnetity = "x" }, "fwsh.host", "h1", '"idnetity"' },
      -- a list's bad key fails before any of its hosts starts (h1's log would be in dir)
      { hosts.connect, { { name = "h1", ssh = false, dir = dir }, { name = "h2", ssh = false, dir = dir, idnetity = "x" } },
        "fwsh.host", "h2", '"idnetity"' },
      -- the key is named before any value is looked at, and before anything is built
      { firewall.build, { bogus = 1, master = "fw-3" }, "firewall.build", nil, '"bogus"' },
      { firewall.build, { bogus = 1 }, "firewall.build", nil, '"bogus"' },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1], c[2])
      assert.is_false(ok, c[5])
      assert.is_true(errors.is(err), tostring(err))
      assert.are.equal(c[3], err.op)
      assert.are.equal(c[4], err.object)
      assert.truthy(err.reason:find("unknown option " .. c[5], 1, true), err.reason)
      assert.truthy(tostring(err):find("lab_errors_spec.lua:%d+:"), tostring(err))
    end
    -- nothing was made: no process, no file in the node's directory, no
    -- namespace and none of the firewall lab's bridges
    assert.are.equal("", H.run({ "ls", "-A", dir }))
    assert.are.same({}, H.netns_names())
    local links = {}
    for _, l in ipairs(H.ip(nil, "link", "show")) do links[l.ifname] = true end
    for _, br in ipairs(require("fwsh.firewall.topology").bridges) do assert.is_nil(links[br], br) end
    H.run({ "rmdir", dir })
  end)

  it("gives firewall.build only build's options from a scenario's", function()
    local firewall = require "fwsh.firewall"
    -- --reps, --plot and the scenario's own key are the run's: build never
    -- sees them, so what it refuses is the one build option that is wrong
    local err = H.raises(function()
      firewall.scenario{ args = { "--reps", "2", "--plot", "x.svg", "--loss", "5" }, options = { ["--loss"] = "loss" },
                         title = "t", run = function() end,
                         prepare = function(o) o.own_key = true; o.master = "fw-3" end }
    end, "firewall.build fw-3: master is fw-1 or fw-2")
    assert.are.equal("firewall.build", err.op)
    assert.are.same({}, H.netns_names())
  end)

  it("collects: every part is closed, the first error is raised after", function()
    local c, closed = errors.collect(), {}
    for i = 1, 3 do
      c:try(function()
        closed[#closed + 1] = i
        if i > 1 then error("part " .. i .. " failed", 0) end
      end)
    end
    assert.are.same({ 1, 2, 3 }, closed)
    local ok, err = pcall(c.done, c)
    assert.is_false(ok)
    assert.are.equal("part 2 failed", err)
    assert.is_true(pcall(errors.collect().done, errors.collect()))
    -- called, it is its own try: what a closer hands its parts
    local try = errors.collect()
    assert.is_true(try(function() end))
    assert.is_false(try(error, "first", 0))
    assert.is_false(try(error, "second", 0))
    ok, err = pcall(try.done, try)
    assert.is_false(ok)
    assert.are.equal("first", err)
  end)
end)
