-- repl_spec.lua - the shell fed from a pipe: statement by statement, values
-- printed, no prompts, errors reported and survived, the exit status; and
-- help() from the same doc text that tools/apidoc prints for README.
local H = require "helper"

-- Runs fwsh with input on standard input; stdout and stderr apart.
local function fwsh(input, args)
  local err = os.tmpname()
  local argv = { "sh", "-c", 'exec "$0" "$@" 2>' .. H.quote(err), H.build .. "/fwsh" }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local out, ok, code = H.run(argv, { stdin = input, keep_preload = true })
  local f = assert(io.open(err))
  local stderr = f:read("a")
  f:close()
  os.remove(err)
  return out, stderr, ok and 0 or code
end

describe("fwsh from a pipe", function()
  it("prints the value of an expression, and nothing else", function()
    local out, err, code = fwsh("1+1\n")
    assert.are.equal("2\n", out)
    assert.are.equal("", err)
    assert.are.equal(0, code)
  end)

  it("prints every result, tab-separated, strings as they are", function()
    local out = fwsh('return 1, "two", nil, true, 2.5\n')
    assert.are.equal("1\ttwo\tnil\ttrue\t2.5\n", out)
  end)

  it("pretty-prints tables: list part, sorted keys, nesting", function()
    local out = fwsh('{ 1, 2, { a = 1 }, name = "x\\ty", ["a key"] = false, [10] = 0 }\n')
    assert.are.equal('{ 1, 2, { a = 1 }, [10] = 0, ["a key"] = false, name = "x\\ty" }\n', out)
  end)

  it("breaks a table that does not fit on a line, indented", function()
    local out = fwsh('{ first = string.rep("a", 40), second = { string.rep("b", 40) } }\n')
    assert.are.equal('{\n  first = "' .. ("a"):rep(40) .. '",\n  second = { "' .. ("b"):rep(40) .. '" },\n}\n', out)
  end)

  it("marks cycles and shared tables instead of following them", function()
    local out = fwsh("t = { name = 't' }\nt.self = t\nt\nshared = {}\n{ shared, shared }\n")
    assert.are.equal('<1>{ name = "t", self = <table 1> }\n{ <1>{}, <table 1> }\n', out)
  end)

  it("shows fwsh handles as what they are", H.ns(function(ns)
    local out, err, code = fwsh('br = fwsh.bridge.add("br1")\nfwsh.tap.add("net11", { bridge = br })\n' ..
                                'br\n{ br }\n', { "--netns", ns })
    assert.are.equal("", err)
    assert.are.equal("tap net11 (up, port of br1, no carrier)\nbridge br1 (up, 1 port)\n" ..
                     "{ bridge br1 (up, 1 port) }\n", out)
    assert.are.equal(0, code)
    assert.are.same({ "net11" }, H.ports(ns, "br1"))
  end))

  it("runs a statement over several lines", function()
    local out, err, code = fwsh("for i = 1, 3 do\n  print(i * 10)\nend\nt = {\n  1,\n  2,\n}\n#t\n")
    assert.are.equal("10\n20\n30\n2\n", out)
    assert.are.equal("", err)
    assert.are.equal(0, code)
  end)

  it("keeps globals from one statement to the next", function()
    assert.are.equal("42\n", (fwsh("x = 41\nx = x + 1\nx\n")))
  end)

  it("reports an error, runs the next statement, and exits 0 as lua5.4 does", function()
    local out, err, code = fwsh('error("boom")\nprint("still here")\n')
    assert.are.equal("still here\n", out)
    assert.are.equal("fwsh: stdin:1: boom\n", err)
    assert.are.equal(0, code)
    -- os.exit still ends it with its code
    out, err, code = fwsh('print(1)\nos.exit(3)\nprint(2)\n')
    assert.are.same({ "1\n", "", 3 }, { out, err, code })
  end)

  it("reports a syntax error and goes on", function()
    local out, err, code = fwsh("x = = 1\n'ok'\n")
    assert.are.equal("ok\n", out)
    assert.truthy(err:find("fwsh: stdin:1: unexpected symbol near '='", 1, true), err)
    assert.are.equal(0, code)
  end)

  it("takes =expr as return expr, as lua5.4's shell", function()
    assert.are.equal("3\n", (fwsh("=1+2\n")))
  end)

  it("reports an fwsh error as a sentence", H.ns(function(ns)
    local out, err, code = fwsh('fwsh.bridge.add("br1")\nfwsh.bridge.add("br1")\n', { "--netns", ns })
    assert.are.equal("bridge br1 (up, 0 ports)\n", out)
    assert.are.equal("fwsh: stdin:1: bridge.add br1: File exists: a bridge of that name exists\n", err)
    assert.are.equal(0, code)
  end))

  it("says what is missing when the input ends inside a statement", function()
    local out, err, code = fwsh("for i = 1, 3 do\nprint(i)\n")
    assert.are.equal("", out)
    assert.truthy(err:find("'end' expected", 1, true), err)
    assert.are.equal(0, code)
  end)

  it("shows the stack with --traceback", function()
    local _, err = fwsh("function f() error('deep') end\nf()\n", { "--traceback" })
    assert.truthy(err:find("fwsh: stdin:1: deep\nstack traceback:", 1, true), err)
    assert.truthy(err:find("in function 'f'", 1, true), err)
  end)

  it("runs a script first with -i, then the statements", function()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write("greeting = 'hello'\n")
    f:close()
    local out, _, code = fwsh("greeting .. ' again'\n", { "-i", script })
    os.remove(script)
    assert.are.equal("hello again\n", out)
    assert.are.equal(0, code)
  end)

  it("runs nothing and succeeds on empty input", function()
    local out, err, code = fwsh("")
    assert.are.same({ "", "", 0 }, { out, err, code })
  end)
end)

describe("help()", function()
  -- The entry as tools/apidoc prints it: one line each.
  local function apidoc(name)
    local out = H.run({ H.root .. "/tools/apidoc" })
    for line in out:gmatch("[^\n]+") do
      if line:sub(1, #name + 1) == name .. "(" or line:sub(1, #name + 1) == name .. "{" then
        return line
      end
    end
  end

  local function unwrap(s)
    return (s:gsub("\n    ", " "):gsub("\n$", ""))
  end

  it("prints a function's doc, the text tools/apidoc extracts", function()
    local want = assert(apidoc("fwsh.bridge.add"))
    local out = fwsh("help(fwsh.bridge.add)\n")
    assert.are.equal(want, unwrap(out))
  end)

  it("finds a method by its value and by its name", function()
    local want = assert(apidoc("link:up"))
    assert.are.equal(want, unwrap(fwsh("help(fwsh.tap.up)\n")))
    assert.are.equal(assert(apidoc("bridge:ports")), unwrap(fwsh('help("bridge:ports")\n')))
  end)

  it("lists a part's functions", function()
    local out = fwsh("help(fwsh.netns)\n")
    for _, name in ipairs({ "add", "ensure", "delete", "exists", "list", "run" }) do
      assert.truthy(out:find("fwsh.netns." .. name .. "(", 1, true), name)
    end
  end)

  it("says how to use the shell, and names fwsh's parts", function()
    local out = fwsh("help()\n")
    assert.truthy(out:find("help(fwsh.bridge)", 1, true))
    local parts = {}
    for k, v in pairs(H.fwsh) do if type(v) == "table" then parts[#parts + 1] = k end end
    table.sort(parts)
    assert.truthy(#parts >= 8)
    assert.truthy(out:find("parts (help(fwsh.NAME) for each): " .. table.concat(parts, " ") .. "\n", 1, true))
  end)

  it("says when it has nothing", function()
    assert.truthy(fwsh("help(print)\n"):find("^no help for function"))
  end)

  it("prints markdown for README from the same comments", function()
    local out, ok = H.run({ H.root .. "/tools/apidoc", "--markdown" })
    assert.truthy(ok)
    assert.truthy(out:find("### fwsh.bridge\n", 1, true))
    assert.truthy(out:find("- `fwsh.bridge.add(name [, {up=true,", 1, true))
    assert.truthy(out:find("- `fwsh.state()` → ", 1, true))
    assert.truthy(out:find("- `help([fn | table | \"fwsh.x.y\"])` → ", 1, true))
  end)
end)
