-- picture_spec.lua - fwsh show --dot / --svg: the topology fwsh.show walks,
-- as a Graphviz graph that Debian's dot draws: the seed's ten links named in
-- the SVG, grounding and non-grounding bridges drawn apart, and in the
-- firewall lab the port where br1 learned the VRRP master's MAC marked (read
-- from the bridge's FDB, not from the lab's own idea of who is master).
local H = require "helper"
local fwsh = H.fwsh
package.path = H.root .. "/lab/lua/?.lua;" .. package.path

local LINKS = { "br0", "br1", "br2", "net01", "net02", "net11", "net12", "net13", "net21", "net22" }

local function in_exec(ns, args, stdin)
  return H.fwsh_cmd(args, { prefix = { "ip", "netns", "exec", ns }, stdin = stdin })
end

describe("fwsh show --dot and --svg", function()
  it("draw the seed topology: all ten links, grounding and non-grounding apart", H.ns(function(ns)
    local out, ok = in_exec(ns, { H.root .. "/scripts/seed.lua" })
    assert(ok, out)
    local dot
    dot, ok = in_exec(ns, { "show", "--dot" })
    assert(ok, dot)
    assert.truthy(dot:find('"br0" [shape=box, label="br0\\n10.0.0.1/24", style="filled,bold"', 1, true), dot)
    for _, br in ipairs({ "br1", "br2" }) do
      assert.truthy(dot:find('"' .. br .. '" [shape=box, label="' .. br .. '\\nnon-grounding", style=dashed]',
                             1, true), dot)
    end
    -- Graphviz's dot draws it; each link is a node of the SVG, its title its name
    local svg
    svg, ok = H.run({ "dot", "-Tsvg" }, { stdin = dot })
    assert(ok, svg)
    for _, name in ipairs(LINKS) do
      assert.truthy(svg:find("<title>" .. name .. "</title>", 1, true), name)
    end
    assert.truthy(svg:find("<title>net13&#45;&#45;br1</title>", 1, true), "the edge net13 -- br1")
    -- --svg: the same drawing, by fwsh running dot itself
    local svg2
    svg2, ok = in_exec(ns, { "show", "--svg" })
    assert(ok, svg2)
    assert.are.equal(svg, svg2)
    local err
    err, ok = in_exec(ns, { "show", "--json", "--dot" })
    assert.is_not_true(ok)
  end))

  it("marks the port where the VRRP master's MAC was learned", H.ns(function()
    local firewall = require "fwsh.firewall"
    local lab <close> = firewall.build{ master = "fw-2" }
    local master = lab:master()
    assert.are.equal("fw-2", master.name)
    local dot = fwsh.show{ dot = true, print = false }
    -- br1 learned 00:00:5e:00:01:33 (VRID 51) on fw-2's port net12, br0 VRID 52 on net02
    assert.truthy(dot:find('"net12" [shape=ellipse, label="net12\\nveth, peer in another namespace\\n'
                           .. 'VRRP master here (VRID 51)", color="#c00000"', 1, true), dot)
    assert.truthy(dot:find('"net02" [shape=ellipse, label="net02\\nveth, peer in another namespace\\n'
                           .. 'VRRP master here (VRID 52)"', 1, true), dot)
    local _, marks = dot:gsub("VRRP master here", "")
    assert.are.equal(2, marks)
  end))
end)
