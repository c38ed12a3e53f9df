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

  it("names every folder of the tree in its Layout, and nothing that is gone", function()
    local readme = assert(H.read_file(H.root .. "/README.md"))
    local layout = assert(readme:match("\n## Layout\n(.-)\n### "), "README has a Layout section")
    local named = {}
    for path in layout:gmatch("\n| `([^`]+)/` |") do named[path] = true end
    -- the tree's folders, three deep, as git has them (no build output)
    local files = H.run({ "git", "-C", H.root, "ls-files" })
    local folders = {}
    for f in files:gmatch("[^\n]+") do
      local parts = {}
      for p in f:gmatch("[^/]+") do parts[#parts + 1] = p end
      for i = 1, math.min(#parts - 1, 3) do folders[table.concat(parts, "/", 1, i)] = true end
    end
    for dir in pairs(folders) do assert.truthy(named[dir], "README's Layout does not name " .. dir .. "/") end
    for dir in pairs(named) do assert.truthy(folders[dir], "README's Layout names " .. dir .. "/, which is gone") end
  end)

  it("says why, not when: no issue or session cited in code, specs or README", function()
    local out = H.run({ "git", "-C", H.root, "grep", "-n", "-i", "-E", "(issue|session|item) [0-9]+", "--",
                        "*.c", "*.h", "*.lua", "*.sh", "*.md", "CMakeLists.txt", "docs", "tools", ".ci" })
    assert.are.equal("", out)
  end)

  it("starts with exactly the two commands", function()
    local f = assert(io.open(H.root .. "/README.md"))
    local first = f:read("l") .. "\n" .. f:read("l") .. "\n" .. f:read("l") .. "\n" .. f:read("l")
    f:close()
    assert.truthy(first:match("^```sh\n%./lab%.sh [^\n]*\n%./test%.sh [^\n]*\n```$"), first)
  end)
end)
