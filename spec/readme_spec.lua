-- readme_spec.lua - README's API reference is the doc comments that help()
-- reads, not a second copy that drifts (tools/readme-api.sh refreshes it).
local H = require "helper"

describe("README", function()
  it("has the API reference tools/apidoc makes, unchanged", function()
    local f = assert(io.open(H.root .. "/README.md"))
    local readme = f:read("a")
    f:close()
    local block = readme:match("<!%-%- apidoc:begin %-%->\n(.-)<!%-%- apidoc:end %-%->")
    assert.truthy(block, "README has the apidoc markers")
    local made, ok = H.run({ H.root .. "/tools/apidoc", "--markdown" })
    assert.truthy(ok)
    assert.are.equal((made:gsub("\n### ", "\n#### "):gsub("^### ", "#### ")), block)
  end)

  it("starts with exactly the two commands", function()
    local f = assert(io.open(H.root .. "/README.md"))
    local first = f:read("l") .. "\n" .. f:read("l") .. "\n" .. f:read("l") .. "\n" .. f:read("l")
    f:close()
    assert.truthy(first:match("^```sh\n%./lab%.sh [^\n]*\n%./test%.sh [^\n]*\n```$"), first)
  end)
end)
