-- console_spec.lua - `fwsh console LAB NODE`: a command, or a shell, inside a
-- lab's namespace node, found by the lab's tag; refused for a node the lab
-- does not have, with the reason, and nothing changed.
local H = require "helper"

describe("fwsh console", function()
  local lab = "cons-spec"
  local node = string.format("fwsh-spec-cons-%d", math.random(1, 1e9))

  local function with_node(fn)
    local out, ok = H.fwsh_cmd({ "--lab", lab, "-e", string.format("fwsh.netns.add(%q)", node) }, { stderr = true })
    assert(ok, out)
    local res = table.pack(pcall(fn))
    H.fwsh_cmd({ "down", lab })
    H.run({ "ip", "netns", "delete", node })
    if not res[1] then error(res[2], 0) end
  end

  it("runs a command inside a namespace node of the lab, and reads its answer", function()
    with_node(function()
      -- the node's own lo, with the lab's tag: read from inside the namespace
      local out, ok = H.fwsh_cmd({ "console", lab, node, "--", "ip", "-o", "link", "show", "lo" }, { stderr = true })
      assert(ok, out)
      assert.truthy(out:find("alias fwsh:" .. lab, 1, true), out)
      -- its exit status is the command's
      local _, _, code = H.fwsh_cmd({ "console", lab, node, "--", "sh", "-c", "exit 7" })
      assert.are.equal(7, code)
      -- a shell, fed from a pipe, inside the namespace
      out = H.fwsh_cmd({ "console", lab, node }, { stdin = "ip -o link show | wc -l\n" })
      assert.are.equal("1", out:match("%d+"))
    end)
  end)

  it("refuses a node the lab does not have, saying why, and changes nothing", function()
    with_node(function()
      local before = H.netns_names()
      local out, ok, code = H.fwsh_cmd({ "console", lab, "no-such-node", "--", "true" }, { stderr = true })
      assert.falsy(ok)
      assert.are.equal(1, code)
      assert.truthy(out:find("lab " .. lab .. " has no node no-such-node (no namespace of that name here)", 1, true), out)
      out = H.fwsh_cmd({ "console", "other-lab", node, "--", "true" }, { stderr = true })
      assert.truthy(out:find("that namespace is another lab's", 1, true), out)
      out = H.fwsh_cmd({ "console", "a;b", node, "--", "true" }, { stderr = true })
      assert.truthy(out:find("fwsh console: lab a;b:", 1, true), out)
      out = H.fwsh_cmd({ "console", lab, "../x", "--", "true" }, { stderr = true })
      assert.truthy(out:find("fwsh console: node ../x:", 1, true), out)
      out, ok, code = H.fwsh_cmd({ "console", lab }, { stderr = true })
      assert.are.equal(2, code)
      assert.truthy(out:find("usage: fwsh console LAB NODE", 1, true), out)
      assert.are.same(before, H.netns_names())
    end)
  end)
end)
