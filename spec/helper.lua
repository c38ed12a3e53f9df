-- helper.lua - what every spec shares: the module under test, a throwaway
-- namespace per test, and state read back from the kernel by iproute2 (never
-- by fwsh itself).
local json = require "dkjson"

local H = {}

-- Absolute, so that a spec that runs a program in another directory finds them.
local function absolute(path)
  return path:sub(1, 1) == "/" and path or (assert(os.getenv("PWD"), "PWD is not set") .. "/" .. path)
end
H.root = absolute(os.getenv("FWSH_ROOT") or ".")
H.build = absolute(os.getenv("FWSH_BUILD") or (H.root .. "/build"))
package.cpath = H.build .. "/?.so;" .. package.cpath
-- and the module's Lua half (fwsh.hosts, fwsh.errors...), where an installed
-- fwsh has it too: on Lua's path beside the module
package.path = H.root .. "/bindings/lua/?.lua;" .. package.path
H.fwsh = require "fwsh"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
H.quote = quote

-- Runs argv (a list, quoted here) and returns stdout, ok, exit code.
function H.run(argv, opts)
  opts = opts or {}
  local words = {}
  for i, a in ipairs(argv) do words[i] = quote(a) end
  local cmd = table.concat(words, " ")
  -- Under the AddressSanitizer pass only fwsh itself is checked, not ip or sh.
  if os.getenv("LD_PRELOAD") then cmd = "env -u LD_PRELOAD " .. cmd end
  if opts.stdin then cmd = "printf '%s' " .. quote(opts.stdin) .. " | " .. cmd end
  cmd = cmd .. (opts.stderr and " 2>&1" or " 2>/dev/null")
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

-- The contents of the file at path, or nil if it cannot be read. (Not
-- fwsh.file's: what a spec reads back must not come through the code it checks.)
function H.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Writes text to the file at path, replacing it.
function H.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- `ip -j ARGS` in namespace ns (nil: the current one), decoded.
function H.ip(ns, ...)
  local argv = { "ip" }
  if ns then argv[#argv + 1] = "-n"; argv[#argv + 1] = ns end
  argv[#argv + 1] = "-j"
  for _, a in ipairs({ ... }) do argv[#argv + 1] = a end
  local out, ok = H.run(argv)
  assert(ok, "ip failed: " .. table.concat(argv, " "))
  if out:match("^%s*$") then return {} end
  return assert(json.decode(out))
end

-- `bridge -j ARGS` in ns, decoded.
function H.bridge(ns, ...)
  local argv = { "ip", "netns", "exec", ns, "bridge", "-j", ... }
  local out, ok = H.run(argv)
  assert(ok, "bridge failed")
  if out:match("^%s*$") then return {} end
  return assert(json.decode(out))
end

-- Every link in ns, by name, as `ip -j -d link` shows it.
function H.links(ns)
  local by = {}
  for _, l in ipairs(H.ip(ns, "-d", "link", "show")) do by[l.ifname] = l end
  return by
end

function H.link(ns, name)
  return H.links(ns)[name]
end

-- Names of the ports of bridge br in ns, sorted, as `bridge -j link` shows them.
function H.ports(ns, br)
  local names = {}
  for _, p in ipairs(H.bridge(ns, "link", "show")) do
    if p.master == br then names[#names + 1] = p.ifname end
  end
  table.sort(names)
  return names
end

-- Addresses of dev in ns ("10.0.0.1/24"), every family, sorted.
function H.addrs(ns, dev)
  local out = {}
  for _, l in ipairs(H.ip(ns, "addr", "show", "dev", dev)) do
    for _, a in ipairs(l.addr_info or {}) do
      out[#out + 1] = a["local"] .. "/" .. a.prefixlen
    end
  end
  table.sort(out)
  return out
end

-- Routes through dev in ns, every table, IPv4 and IPv6.
function H.routes(ns, dev)
  local all = {}
  for _, fam in ipairs({ "-4", "-6" }) do
    for _, r in ipairs(H.ip(ns, fam, "route", "show", "table", "all", "dev", dev)) do
      all[#all + 1] = r
    end
  end
  return all
end

local counter = 0

-- Calls fn(ns) inside a fresh namespace made by `ip netns add`, and always
-- deletes it, also when fn fails. fwsh calls in fn work inside ns.
function H.in_netns(fn)
  counter = counter + 1
  local ns = string.format("fwsh-spec-%d-%d", math.random(1, 1e9), counter)
  local _, ok = H.run({ "ip", "netns", "add", ns })
  assert(ok, "ip netns add " .. ns)
  H.run({ "ip", "-n", ns, "link", "set", "lo", "up" })
  local res = table.pack(pcall(H.fwsh.netns.run, ns, fn, ns))
  H.run({ "ip", "netns", "delete", ns })
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- A test body that runs in a fresh namespace: it("does x", H.ns(function(ns) ... end))
function H.ns(fn)
  return function() return H.in_netns(fn) end
end

-- Asserts that fn raises, and that the message matches every pattern (plain text).
function H.raises(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error, got success")
  local msg = tostring(err)
  for _, want in ipairs({ ... }) do
    assert(msg:find(want, 1, true), string.format("error %q does not contain %q", msg, want))
  end
  return err
end

-- Runs the fwsh program: returns stdout (stderr too if opts.stderr), ok, code.
-- opts.prefix (a list) goes before it, e.g. { "ip", "netns", "exec", ns }.
function H.fwsh_cmd(args, opts)
  opts = opts or {}
  local argv = {}
  for _, a in ipairs(opts.prefix or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = H.build .. "/fwsh"
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  -- No LD_PRELOAD: the sanitizer build of fwsh carries its own runtime.
  return H.run(argv, opts)
end

-- Names of links in ns, sorted: to check what a failed call left behind.
function H.link_names(ns)
  local names = {}
  for name in pairs(H.links(ns)) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- Whether `ip -j link` entry l has flag (e.g. "UP", "LOWER_UP").
function H.has_flag(l, flag)
  for _, f in ipairs(l.flags or {}) do
    if f == flag then return true end
  end
  return false
end

-- A second throwaway namespace, made by `ip netns add` and always deleted:
-- fn(name) runs where it was called (the test's namespace), not inside it.
function H.with_netns(fn)
  counter = counter + 1
  local name = string.format("fwsh-spec-x%d-%d", math.random(1, 1e9), counter)
  local _, ok = H.run({ "ip", "netns", "add", name })
  assert(ok, "ip netns add " .. name)
  local res = table.pack(pcall(fn, name))
  H.run({ "ip", "netns", "delete", name })
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Names under /run/netns, as `ip -j netns list` shows them, sorted.
function H.netns_names()
  local names = {}
  for _, n in ipairs(H.ip(nil, "netns", "list")) do names[#names + 1] = n.name end
  table.sort(names)
  return names
end

-- Runs the fwsh program inside namespace ns by `ip netns exec` (the
-- AddressSanitizer runtime, if any, for fwsh and not for ip). Returns
-- stdout (and stderr if opts.stderr), ok, code.
function H.fwsh_in(ns, args, opts)
  local argv = { "ip", "netns", "exec", ns }
  if os.getenv("LD_PRELOAD") then
    argv[#argv + 1] = "env"
    argv[#argv + 1] = "LD_PRELOAD=" .. os.getenv("LD_PRELOAD")
  end
  argv[#argv + 1] = H.build .. "/fwsh"
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return H.run(argv, opts)
end

-- Waits until the kernel's link watcher has caught up in ns: it sets
-- operstate, the NO-CARRIER flag and bridge port states a second or more
-- after a link goes up or loses its carrier (several, while namespaces of
-- earlier tests are being torn down). Returns the links, settled; raises if
-- they do not settle in 10 s.
function H.settle(ns)
  local function settled(l)
    if H.has_flag(l, "LOOPBACK") then return true end
    if not H.has_flag(l, "UP") then return l.operstate == "DOWN" end
    if H.has_flag(l, "LOWER_UP") then return l.operstate ~= "DOWN" end
    return l.operstate == "DOWN" or l.operstate == "LOWERLAYERDOWN"
  end
  local links, late
  local ok = H.wait_for(function()
    links = H.ip(ns, "-d", "link", "show")
    for _, l in ipairs(links) do
      if not settled(l) then
        late = l
        return false
      end
    end
    return true
  end, 10)
  if not ok then
    error(string.format("link %s did not settle: flags %s, operstate %s", late.ifname,
                        table.concat(late.flags, ","), late.operstate), 2)
  end
  return links
end

-- The `ip -j -d link` of ns once settled, with what changes by itself taken
-- out (timers), to compare a namespace before and after something that
-- should change nothing.
function H.link_state(ns)
  local function strip(v)
    if type(v) ~= "table" then return v end
    local out = {}
    for k, x in pairs(v) do
      if not (type(k) == "string" and k:match("_timer$")) then out[k] = strip(x) end
    end
    return out
  end
  return strip(H.settle(ns))
end

-- Waits (up to 5 s) until no IPv6 address in ns is tentative: duplicate
-- address detection is done, and each address's local route is in.
function H.dad_done(ns)
  return H.wait_for(function()
    for _, l in ipairs(H.ip(ns, "addr", "show")) do
      for _, a in ipairs(l.addr_info or {}) do
        if a.tentative then return false end
      end
    end
    return true
  end, 5)
end

-- Calls check() until it returns a true value or seconds pass; returns its last result.
function H.wait_for(check, seconds)
  local deadline = os.time() + (seconds or 3)
  local v = check()
  while not v and os.time() <= deadline do
    H.run({ "sleep", "0.05" })
    v = check()
  end
  return v
end

-- The namespaces this run started in, read once: the sandbox's network and
-- mount namespaces (tools/sandbox.sh makes both private to this run).
local home = {}
do
  local out = H.run({ "stat", "-L", "-c", "%i", "/proc/self/ns/net", "/proc/self/ns/mnt" })
  home.net, home.mnt = out:match("^(%d+)\n(%d+)")
end

-- Of the pids in text (pgrep's output), those of this run, as pgrep prints
-- them: a process in the sandbox's mount namespace, in a network namespace
-- the sandbox has (its own, or one named in its /run/netns), or in a cgroup
-- fwsh made for a lab in such a namespace (fwsh.LAB.NSINO, where a lab's
-- process stays once its namespace is gone). Other runs on the machine
-- (other sandboxes, other labs) have their own of each, so a name alone is
-- never enough: pgrep by name counts them too.
function H.own_pids(text)
  local pids = {}
  for pid in text:gmatch("%d+") do pids[#pids + 1] = pid end
  if #pids == 0 then return "" end
  local nets = { [home.net] = true }
  local out = H.run({ "sh", "-c", "stat -L -c %i /run/netns/* 2>/dev/null; :" })
  for ino in out:gmatch("%d+") do nets[ino] = true end
  local own = {}
  for _, pid in ipairs(pids) do
    local ns = H.run({ "stat", "-L", "-c", "%i", "/proc/" .. pid .. "/ns/net", "/proc/" .. pid .. "/ns/mnt" })
    local net, mnt = ns:match("^(%d+)\n(%d+)")
    local mine = net and (nets[net] or mnt == home.mnt)
    for ino in (H.read_file("/proc/" .. pid .. "/cgroup") or ""):gmatch("/fwsh%.[^/\n]*%.(%d+)%f[/\n\0]") do
      mine = mine or nets[ino]
    end
    if mine then own[#own + 1] = pid .. "\n" end
  end
  return table.concat(own)
end

-- pgrep args..., but only this run's processes (H.own_pids): their pids, a line each.
function H.pgrep(...)
  return H.own_pids(H.run({ "pgrep", ... }))
end

--- H.guest_image() -> the lab's guest image directory (FWSH_GUEST, else
-- build/guest) when it holds a kernel and an initrd; else nil and why (a
-- VM case is pending without it: lab/guest/image.sh makes one)
function H.guest_image()
  local img = os.getenv("FWSH_GUEST") or (H.root .. "/build/guest")
  if H.read_file(img .. "/vmlinuz") and H.read_file(img .. "/initrd") then return img end
  return nil, "no guest image in " .. img .. " (lab/guest/image.sh makes one)"
end

-- A process's scheduling policy as the kernel has it (field 41 of
-- /proc/PID/stat: 0 normal, 1 SCHED_FIFO, 2 SCHED_RR); nil if it is gone.
function H.sched_policy(pid)
  local rest = (H.read_file("/proc/" .. pid .. "/stat") or ""):match("%) (.*)$")
  if not rest then return nil end
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[41 - 2])
end

return H
