-- file_spec.lua - fwsh.file: a whole file read or written, the one way the
-- module's Lua half and the lab library do it; what it wrote read back with
-- the spec's own reader and stat(1), never through fwsh.file.
local H = require "helper"
local errors = require "fwsh.errors"
local file = require "fwsh.file"

describe("fwsh.file", function()
  local dir
  before_each(function() dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "") end)
  after_each(function() H.run({ "rm", "-rf", "--", dir }) end)

  it("writes a whole file, replacing or appending, bytes as they are", function()
    local path = dir .. "/a"
    assert.is_true(file.write(path, "one\n"))
    assert.is_true(file.write(path, "two\0\255"))
    assert.are.equal("two\0\255", H.read_file(path))
    assert.is_true(file.write(path, "\n3", "ab"))
    assert.are.equal("two\0\255\n3", H.read_file(path))
    assert.are.equal("7", (H.run({ "stat", "-c", "%s", path }):gsub("%s+$", "")))
  end)

  it("reads a whole file, or says why it cannot", function()
    H.write_file(dir .. "/b", "x\0y")
    assert.are.equal("x\0y", file.read(dir .. "/b"))
    local s, err = file.read(dir .. "/none")
    assert.is_nil(s)
    assert.truthy(err:find("No such file or directory", 1, true), err)
    s, err = file.read(dir)
    assert.is_nil(s)
    assert.truthy(err:find(dir, 1, true), err)
  end)

  it("raises an fwsh error naming the file and the caller's line when it cannot write", function()
    local ok, err = pcall(function()
      file.write(dir .. "/no/such", "x") -- the line named
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    assert.are.equal("write", err.op)
    assert.are.equal(dir .. "/no/such", err.object)
    assert.truthy(tostring(err):find("file_spec.lua:%d+: write "), tostring(err))
    -- fwsh.effect's write (which writes through it) names its own caller
    ok, err = pcall(function()
      require("fwsh.effect").write(dir .. "/no/such", "x") -- this line
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("file_spec.lua:%d+: write "), tostring(err))
    assert.are.equal("", H.run({ "ls", "-A", dir }))
  end)
end)
