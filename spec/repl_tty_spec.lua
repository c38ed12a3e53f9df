-- repl_tty_spec.lua - the shell on a real terminal: tmux runs `fwsh --netns
-- NS` in a fresh namespace, keys are typed with send-keys, and what is checked
-- is what is on the screen (capture-pane). Every wait is bounded; the tmux
-- server, its files and the namespace go away also when a test fails.
local H = require "helper"

local Tty = {}
Tty.__index = Tty

local function sleep(seconds)
  os.execute("sleep " .. seconds)
end

function Tty:tmux(...)
  return H.run({ "tmux", "-S", self.dir .. "/tmux.sock", ... })
end

function Tty:type(text)
  self:tmux("send-keys", "-l", text)
end

function Tty:key(...)
  self:tmux("send-keys", ...)
end

function Tty:screen()
  return (self:tmux("capture-pane", "-p"))
end

-- Waits until the screen shows text (plain, may span lines); at most about
-- five seconds. Returns the screen.
function Tty:wait(text)
  for _ = 1, 100 do
    local screen = self:screen()
    if screen:find(text, 1, true) then return screen end
    sleep(0.05)
  end
  error(string.format("the screen never showed %q; it shows:\n%s", text, self:screen()), 2)
end

-- Types a line and presses Enter.
function Tty:line(text)
  self:type(text)
  self:key("Enter")
end

-- Leaves the shell with Ctrl-D and waits for its exit status.
function Tty:quit()
  self:key("C-d")
  self:wait("fwsh exited: 0")
end

function Tty:file(name)
  local f = io.open(self.dir .. "/" .. name)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Under the AddressSanitizer pass, fwsh in the terminal gets the runtime and
-- writes its reports to files here, which the test then reads.
local function sanitizer_env(dir)
  local env = {}
  local preload = os.getenv("LD_PRELOAD")
  if preload and preload ~= "" then
    env[#env + 1] = "LD_PRELOAD=" .. preload
    env[#env + 1] = "ASAN_OPTIONS=" .. (os.getenv("ASAN_OPTIONS") or "") .. ":log_path=" .. dir .. "/asan"
    env[#env + 1] = "UBSAN_OPTIONS=" .. (os.getenv("UBSAN_OPTIONS") or "") .. ":log_path=" .. dir .. "/ubsan"
  end
  return env
end

local function sanitizer_reports(dir)
  local out = H.run({ "sh", "-c", 'cat "$0"/asan.* "$0"/ubsan.* 2>/dev/null', dir })
  return out
end

-- it("...", tty(function(t, ns) ... end)): fwsh --netns NS on a 120x40
-- terminal, with its history in a file of its own; before(ns) runs first.
local function tty(fn, before)
  return function()
    H.in_netns(function(ns)
      local dir = H.run({ "mktemp", "-d" }):gsub("%s+$", "")
      local t = setmetatable({ dir = dir }, Tty)
      local ok, err = pcall(function()
        if before then before(ns) end
        local words = { "env", "FWSH_HISTORY=" .. dir .. "/history" }
        for _, e in ipairs(sanitizer_env(dir)) do words[#words + 1] = e end
        words[#words + 1] = H.build .. "/fwsh"
        words[#words + 1] = "--netns"
        words[#words + 1] = ns
        for i, w in ipairs(words) do words[i] = H.quote(w) end
        local cmd = table.concat(words, " ") .. '; echo "fwsh exited: $?"; sleep 600'
        local _, started = t:tmux("new-session", "-d", "-x", "120", "-y", "40", cmd)
        assert(started, "tmux new-session failed")
        t:wait("fwsh>")
        fn(t, ns)
      end)
      t:tmux("kill-server")
      local reports = sanitizer_reports(dir)
      H.run({ "rm", "-rf", dir })
      if reports ~= "" then reports = "\nsanitizer reports:\n" .. reports end
      if not ok then error(tostring(err) .. reports, 0) end
      assert(reports == "", reports)
    end)
  end
end

describe("fwsh on a terminal", function()
  it("prints an expression's value, and continues an unfinished statement on >>", tty(function(t)
    t:line("1+1")
    t:wait("fwsh> 1+1\n2\nfwsh>")
    t:line("for i = 1, 3 do")
    t:wait("fwsh> for i = 1, 3 do\n   >>")
    t:line("print(i * 10)")
    t:wait("   >> print(i * 10)\n   >>")
    t:line("end")
    t:wait("   >> end\n10\n20\n30\nfwsh>")
    t:line("{ name = 'x', list = { 1, 2 } }")
    t:wait('{ list = { 1, 2 }, name = "x" }\nfwsh>')
    t:quit()
    -- History: one entry per statement, the loop kept whole, in the file at once.
    local history, entries = assert(t:file("history")), {}
    for entry in history:gmatch("#%d+\n(.-)\n%f[#\0]") do entries[#entries + 1] = entry end
    assert.are.same({ "1+1", "for i = 1, 3 do\nprint(i * 10)\nend", "{ name = 'x', list = { 1, 2 } }" },
                    entries)
  end))

  it("takes _PROMPT through tostring and =expr, as Lua's shell; a failing __tostring keeps its own", tty(function(t)
    t:line("=6*7")
    t:wait("fwsh> =6*7\n42\nfwsh>")
    t:line("_PROMPT = setmetatable({}, { __tostring = function() return 'lab> ' end })")
    t:wait("\nlab>")
    t:line("_PROMPT = setmetatable({}, { __tostring = function() error('no') end })")
    t:wait("lab> _PROMPT = setmetatable({}, { __tostring = function() error('no') end })\nfwsh>")
    t:quit()
  end))

  it("reports an error and runs the next statement", tty(function(t)
    t:line('error("boom")')
    t:wait('fwsh> error("boom")\nfwsh: stdin:1: boom\nfwsh>')
    t:line('"still here"')
    t:wait('fwsh> "still here"\nstill here\nfwsh>')
    t:quit()
  end))

  it("completes a module's fields and a handle's methods", tty(function(t, ns)
    t:type("fwsh.brid")
    t:key("Tab")
    t:wait("fwsh> fwsh.bridge\n")
    t:type(".ad")
    t:key("Tab")
    t:wait("fwsh> fwsh.bridge.add\n")
    t:line('("br5")')
    t:wait('fwsh> fwsh.bridge.add("br5")\nbridge br5 (up, 0 ports)\nfwsh>')
    assert.are.equal("bridge", H.link(ns, "br5").linkinfo.info_kind)
    t:line('br = fwsh.bridge.get("br5")')
    t:type("br:gro")
    t:key("Tab")
    t:wait("fwsh> br:grounding\n")
    t:line("()")
    t:wait("fwsh> br:grounding()\ntrue")
    t:quit()
  end))

  it("completes interface names inside a string, read live from the kernel", tty(function(t, ns)
    -- Made after fwsh started: completion asks the kernel at each Tab.
    assert(select(2, H.run({ "ip", "-n", ns, "link", "add", "net42", "type", "veth", "peer", "name", "peer42" })))
    t:type('fwsh.link.get("net4')
    t:key("Tab")
    t:wait('fwsh> fwsh.link.get("net42"\n')
    t:line(")")
    t:wait('fwsh> fwsh.link.get("net42")\nveth net42 (down, no carrier)\nfwsh>')
    t:type('fwsh.link.get("net')
    t:key("Tab")
    t:key("Tab")
    local screen = t:wait("net11")
    assert.truthy(screen:find("net11%s+net42"), screen)
    t:key("C-u")
    -- The whole string is the word: a '-' or '.' in the name does not cut it.
    t:type('fwsh.link.get("up-link.')
    t:key("Tab")
    t:wait('fwsh> fwsh.link.get("up-link.7"\n')
    t:key("C-u")
    t:line("")
    t:quit()
  end, function(ns)
    assert(select(2, H.run({ "ip", "-n", ns, "link", "add", "net11", "type", "veth", "peer", "name", "peer11" })))
    assert(select(2, H.run({ "ip", "-n", ns, "link", "add", "up-link.7", "type", "veth", "peer", "name", "peer7" })))
  end))

  it("stops a running chunk on Ctrl-C and stays", tty(function(t)
    t:line("while true do end")
    t:wait("fwsh> while true do end\n")
    sleep(0.3)
    assert.falsy(t:screen():find("while true do end\n.*fwsh>"), "the loop ended by itself")
    t:key("C-c")
    t:wait("fwsh: interrupted by SIGINT\nfwsh>")
    t:line("'alive'")
    t:wait("fwsh> 'alive'\nalive\nfwsh>")
    t:quit()
  end))

  it("throws the line away on Ctrl-C at the prompt", tty(function(t)
    t:type("this is not run")
    -- The terminal drops input not read yet on Ctrl-C: let the shell have it first.
    t:wait("fwsh> this is not run")
    t:key("C-c")
    t:wait("fwsh> this is not run\nfwsh>")
    t:line("40 + 2")
    t:wait("fwsh> 40 + 2\n42\nfwsh>")
    assert.falsy(t:screen():find("fwsh: ", 1, true))
    t:quit()
  end))
end)
