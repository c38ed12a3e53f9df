-- runner_spec.lua - the fwsh program against hostile chunks, environments and
-- cpaths: it never aborts (PANIC, exit 134) nor crashes (exit 139), whatever a
-- chunk does to its globals; its rollback cannot be turned off; os.exit ends
-- it through pcall, undoing what it made for a failure code; LUA_INIT and
-- finalizers are inside the run's transaction; SIGHUP is SIGTERM; a signal
-- between two chunks undoes the run as one during a chunk does, and a signal
-- while a failed script is undone hurries its end, never abandons it. The
-- links each case leaves are read back with `ip -j link`.
local H = require "helper"

-- Runs fwsh with args in the test's namespace, env (a list of "K=V") set and
-- LUA_INIT unset unless given: output (stdout and stderr), exit code.
local function run(args, env, opts)
  local prefix = { "env", "-u", "LUA_INIT", "-u", "LUA_INIT_5_4" }
  for _, e in ipairs(env or {}) do prefix[#prefix + 1] = e end
  local out, _, code = H.fwsh_cmd(args, { stderr = true, prefix = prefix, stdin = opts and opts.stdin })
  return out, code
end

local function never_crashed(out, code, what)
  assert.are_not.equal(134, code, what .. " aborted: " .. out)
  assert.are_not.equal(139, code, what .. " crashed: " .. out)
  assert.is_nil(out:find("PANIC", 1, true), what .. ": " .. out)
end

local function names(ns)
  local list = H.link_names(ns)
  for i = #list, 1, -1 do
    if list[i] == "lo" then table.remove(list, i) end
  end
  return list
end

describe("the fwsh program against hostile chunks", function()
  -- Chunks that change what the runner used to read from the globals, each
  -- followed by a chunk that must still run: { chunk, env }.
  local trample = {
    { "fwsh = nil" }, { "fwsh = 5" }, { "fwsh.transaction = nil" }, { "fwsh.transaction = 5" },
    { "fwsh.lab = nil" }, { "package.loaded.fwsh = nil" }, { "package = nil" }, { "require = nil" },
    { "os = nil" }, { "arg = nil" }, { "debug.setmetatable(nil, { __index = function() error('nil trap') end })" },
    { "setmetatable(_G, { __index = function(_, k) error('trap ' .. k) end, " ..
      "__newindex = function() error('no new globals') end })" },
    { "print(1)", { "LUA_INIT=fwsh = nil" } }, { "print(1)", { "LUA_INIT=fwsh = 5" } },
    { "print(1)", { "LUA_INIT=fwsh.transaction = nil" } },
    { "print(1)", { "LUA_INIT=setmetatable(_G, { __index = function() error('trap') end })" } },
  }
  for _, c in ipairs(trample) do
    it("survives " .. c[1] .. (c[2] and (" with " .. c[2][1]) or ""), H.ns(function(ns)
      local out, code = run({ "-e", c[1], "-e", "print('still here')" }, c[2])
      never_crashed(out, code, c[1])
      assert.truthy(out:find("still here", 1, true) or code == 1, out)
      -- and in the shell, statement by statement from a pipe
      out, code = run({}, c[2], { stdin = c[1] .. "\nprint('still here')\n" })
      never_crashed(out, code, c[1] .. " (shell)")
    end))
  end

  it("survives error values of every kind, and a __tostring that fails", H.ns(function(ns)
    for _, e in ipairs({ "error({})", "error(nil)", "error()", "error(true)", "error(print)",
                         "error(setmetatable({}, { __tostring = function() error('boom') end }))",
                         "error(setmetatable({}, { __tostring = function() return {} end }))",
                         "error(coroutine.create(print))" }) do
      local out, code = run({ "-e", e })
      never_crashed(out, code, e)
      assert.are.equal(1, code, e .. ": " .. out)
    end
  end))

  -- Each makes a bridge, does something to the runner's globals, and fails:
  -- the bridge is gone all the same.
  local undone = {
    "fwsh.bridge.add('rb0') fwsh.transaction = function(f, ...) return f(...) end",
    "fwsh.bridge.add('rb0') fwsh.transaction = nil",
    "local add = fwsh.bridge.add fwsh = nil add('rb0')",
    "fwsh.bridge.add('rb0') package.loaded.fwsh = nil",
    "fwsh.bridge.add('rb0') setmetatable(_G, { __index = function() error('trap') end })",
  }
  for _, chunk in ipairs(undone) do
    it("rolls back after " .. chunk, H.ns(function(ns)
      local out, code = run({ "-e", chunk, "-e", "error('the script fails')" })
      never_crashed(out, code, chunk)
      assert.are.equal(1, code, out)
      assert.are.same({}, names(ns))
    end))
  end

  it("undoes what LUA_INIT made when the script fails, and keeps it when it succeeds", H.ns(function(ns)
    local out, code = run({ "-e", "error('x')" }, { "LUA_INIT=fwsh.bridge.add('in0')" })
    assert.are.equal(1, code, out)
    assert.are.same({}, names(ns))
    out, code = run({ "-e", "fwsh.bridge.add('e0')" }, { "LUA_INIT=fwsh.bridge.add('in0')" })
    assert.are.equal(0, code, out)
    assert.are.same({ "e0", "in0" }, names(ns))
  end))

  it("undoes every -e chunk's links when a later one fails", H.ns(function(ns)
    local out, code = run({ "-e", "fwsh.bridge.add('e1')", "-e", "fwsh.bridge.add('e2')", "-e", "error('x')" })
    assert.are.equal(1, code, out)
    assert.are.same({}, names(ns))
  end))
end)

describe("the fwsh program and fwsh.so", function()
  local cpath = "LUA_CPATH=" .. H.build .. "/?.so;;"

  it("never loads fwsh.so for fwsh.* names, with it on LUA_CPATH", H.ns(function(ns)
    local out, code = run({ "-e", "require 'fwsh.nosuch'" }, { cpath })
    never_crashed(out, code, "require 'fwsh.nosuch'")
    assert.are.equal(1, code, out)
    assert.truthy(out:find("no C module for 'fwsh.nosuch'", 1, true), out)
    out, code = run({ "-l", "fwsh.nosuch", "-e", "print(1)" }, { cpath })
    never_crashed(out, code, "-l fwsh.nosuch")
    out, code = run({ "-e", "package.loaded.fwsh = nil package.preload.fwsh = nil print(pcall(require, 'fwsh'))" },
                    { cpath })
    never_crashed(out, code, "require 'fwsh' without its preload")
    assert.are.equal(0, code, out)
    local maps = run({ "-e", "pcall(require, 'fwsh.nosuch') io.write(io.open('/proc/self/maps'):read('a'))" },
                     { cpath })
    assert.is_nil(maps:find("fwsh.so", 1, true), "fwsh.so was loaded")
  end))

  it("still loads fwsh's Lua modules", H.ns(function(ns)
    for _, m in ipairs({ "fwsh.node", "fwsh.rpc", "fwsh.hosts", "fwsh.keepalived", "fwsh.nftables" }) do
      local out, code = run({ "-e", "assert(type(require(" .. string.format("%q", m) .. ")) == 'table')" },
                            { cpath })
      assert.are.equal(0, code, m .. ": " .. out)
    end
  end))
end)

describe("os.exit in the fwsh program", function()
  -- { chunk after a bridge rb0 was made, exit code, whether rb0 stays }
  local cases = {
    { "pcall(os.exit, 4)", 4, false },
    { "pcall(os.exit, false)", 1, false },
    { "pcall(os.exit, true)", 0, true },
    { "pcall(os.exit, 0)", 0, true },
    { "pcall(os.exit)", 0, true },
    { "xpcall(os.exit, function(m) print('handler saw', m) return m end, 5)", 5, false },
    { "pcall(fwsh.transaction, function() fwsh.bridge.add('rb1') os.exit(3) end)", 3, false },
    { "pcall(fwsh.transaction, function() os.exit(0) end)", 0, true },
    { "coroutine.resume(coroutine.create(function() os.exit(6) end))", 6, false },
    { "pcall(coroutine.wrap(function() os.exit(7) end))", 7, false },
    { "pcall(fwsh.batch, function() fwsh.bridge.add('rb1') os.exit(8) end)", 8, false },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " exits " .. c[2] .. (c[3] and ", keeping" or ", undoing") .. " what was made", H.ns(function(ns)
      local out, code = run({ "-e", "fwsh.bridge.add('rb0') " .. c[1] .. " print('went on')" })
      never_crashed(out, code, c[1])
      assert.are.equal(c[2], code, out)
      assert.is_nil(out:find("went on", 1, true), out)
      assert.is_nil(out:find("handler saw", 1, true), out)
      assert.are.same(c[3] and { "rb0" } or {}, names(ns))
    end))
  end

  it("runs <close> handlers on the way out, also a coroutine's", H.ns(function(ns)
    local out, code = run({ "-e", [[
      local function closer(s) return setmetatable({}, { __close = function() io.stderr:write(s, "\n") end }) end
      local a <close> = closer("outer closed")
      pcall(function()
        local b <close> = closer("inner closed")
        coroutine.resume(coroutine.create(function() local c <close> = closer("co closed") os.exit(4) end))
      end)]] })
    assert.are.equal(4, code, out)
    for _, s in ipairs({ "outer closed", "inner closed", "co closed" }) do
      assert.truthy(out:find(s, 1, true), s .. " missing: " .. out)
    end
  end))

  it("refuses os.exit(0) inside fwsh.batch rather than drop its queued links", H.ns(function(ns)
    local out, code = run({ "-e", "fwsh.batch(function() fwsh.bridge.add('q0') os.exit(0) end)" })
    assert.are.equal(1, code, out)
    assert.truthy(out:find("os.exit inside fwsh.batch", 1, true), out)
    assert.are.same({}, names(ns))
  end))
end)

describe("finalizers in the fwsh program", function()
  it("cannot leave a link after a failed script's rollback", H.ns(function(ns)
    local out, code = run({ "-e", "gx = setmetatable({}, { __gc = function() fwsh.bridge.add('gc0') end }) " ..
                                  "setmetatable({}, { __gc = function() fwsh.bridge.add('gc1') end }) error('x')" })
    assert.are.equal(1, code, out)
    assert.are.same({}, names(ns))
    assert.truthy(out:find("the run has ended", 1, true), out)
  end))

  it("nor after a script that succeeded: the end of the run is the end of changes", H.ns(function(ns)
    local out, code = run({ "-e", "gx = setmetatable({}, { __gc = function() fwsh.bridge.add('gc0') end })" })
    assert.are.equal(0, code, out)
    assert.are.same({}, names(ns))
  end))
end)

describe("signals and the fwsh program", function()
  -- Runs fwsh -e script in the background; once file exists, waits delay s,
  -- sends sig. Returns the exit code and ms from the signal to the exit.
  local function signalled(script, file, delay, sig)
    local out = H.run({ "sh", "-c", [[
      env -u LUA_INIT -u LUA_INIT_5_4 "$1" -e "$2" >/dev/null 2>&1 & pid=$!
      n=0; while [ ! -e "$3" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
      sleep "$4"
      t0=$(date +%s%N)
      kill -"$5" $pid
      wait $pid; rc=$?
      echo $rc $(( ($(date +%s%N) - t0) / 1000000 ))]], "sh", H.build .. "/fwsh", script, file, delay, sig })
    local rc, ms = out:match("(%d+) (%d+)")
    return tonumber(rc), tonumber(ms)
  end

  local dir
  setup(function() dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "") end)
  teardown(function() if dir then H.run({ "rm", "-r", dir }) end end)

  it("takes SIGHUP as SIGTERM: the script is undone, exit 129", H.ns(function(ns)
    local file = dir .. "/hup"
    local rc, ms = signalled(string.format([[fwsh.bridge.add("hu0") io.open(%q, "w"):close()
      fwsh.proc.run{ "sleep", "60" }]], file), file, 0.2, "HUP")
    assert.are.equal(129, rc)
    assert.truthy(ms < 1000, ms)
    assert.are.same({}, names(ns))
  end))

  -- Between two chunks of one run no Lua runs: strace sends the signal
  -- exactly there, as fwsh opens the script after an -e chunk made a bridge.
  for _, sig in ipairs({ { "TERM", 143 }, { "HUP", 129 } }) do
    it("undoes the run when SIG" .. sig[1] .. " comes between two chunks", H.ns(function(ns)
      local script = dir .. "/between-" .. sig[1] .. ".lua"
      H.write_file(script, "fwsh.bridge.add('bt1')\n")
      local out, _, code = H.fwsh_cmd({ "-e", "fwsh.bridge.add('bt0')", script }, { stderr = true,
        -- (the leak check cannot run under ptrace: off for this run of the sanitizer build)
        prefix = { "env", "-u", "LUA_INIT", "-u", "LUA_INIT_5_4",
                   "ASAN_OPTIONS=" .. (os.getenv("ASAN_OPTIONS") or "") .. ":detect_leaks=0",
                   "strace", "-f", "-qq", "-o", "/dev/null",
                   "-P", script, "-e", "trace=openat", "-e", "inject=openat:signal=" .. sig[1] .. ":when=1" } })
      assert.are.equal(sig[2], code, out)
      assert.truthy(out:find("interrupted by SIG" .. sig[1], 1, true), out)
      assert.are.same({}, names(ns))
    end))
  end

  -- The script starts a process that ignores SIGTERM and fails: fwsh undoes
  -- its links and stops the process (SIGTERM, SIGKILL after a second). A
  -- signal meanwhile must not kill fwsh before the stop is done: it cuts the
  -- grace short, and fwsh exits 128 + the signal once the process is gone.
  for _, sig in ipairs({ { "TERM", 143 }, { "INT", 130 }, { "HUP", 129 } }) do
    local code
    sig, code = sig[1], sig[2]
    it("SIG" .. sig .. " while a failed script's processes are stopped hurries the stop", H.ns(function(ns)
      local file, pidfile = dir .. "/stop-" .. sig, dir .. "/pid-" .. sig
      local rc, ms = signalled(string.format([[
        fwsh.bridge.add("st0")
        fwsh.proc.spawn{ "sh", "-c", "trap '' TERM INT HUP; echo $$ > %s; while :; do sleep 0.05; done" }
        fwsh.wait{ fn = function() return io.open(%q) ~= nil end, timeout = 5 }
        io.open(%q, "w"):close()
        error("the script fails")]], pidfile, pidfile, file), file, 0.3, sig)
      assert.are.equal(code, rc)
      assert.truthy(ms < 1000, ms)
      local pid = assert(tonumber(H.read_file(pidfile)), "no pid")
      local _, alive = H.run({ "kill", "-0", tostring(pid) })
      if alive then H.run({ "kill", "-9", tostring(pid) }) end
      assert.is_falsy(alive, "the script's process outlived fwsh")
      assert.are.same({}, names(ns))
    end))
  end
end)
