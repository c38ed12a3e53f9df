-- hosts.lua - what a lab across hosts costs: the seed topology
-- stretched over two hosts (scripts/seed-hosts.lua: br0 br1 br2 on both,
-- joined by VXLAN, the taps split between them), built and removed again,
-- four ways side by side in one run, each timed whole by /usr/bin/time:
--   fwsh, 1 host     the seed on one host, over one ssh connection (the reference)
--   fwsh, 2 hosts    stretched over two, one ssh connection per host, opened side by side
--   ip -batch        the same links with `ip -batch -` on each host, one ssh per host
--                    (and one more per host to remove them)
--   ssh per step     one `ssh HOST ip ...` per step, a new connection each: what
--                    tools that open a session per command do
-- The hosts are emulated here (fwsh.emulate: namespaces with their own sshd),
-- so the network is loopback-fast and the cost is the protocol's and the
-- processes'. Run it alone on the machine:
--
--   fwsh --sandbox bench/hosts.lua [--runs K]     (default 5; ssh per step: min(K, 3))
--
-- Prints one line per way: runs, min / median / max seconds, ssh connections
-- per run, and the ratio of the medians "2 hosts / 1 host".
local fwsh = fwsh or require "fwsh"
local emulate = require "fwsh.emulate"

local argv = { ... }
local runs, method, hostsfile = 5, nil, nil
local i = 1
while argv[i] do
  if argv[i] == "--runs" then runs = math.tointeger(tonumber(argv[i + 1])) or error("--runs K", 0); i = i + 2
  elseif argv[i] == "--method" then method = argv[i + 1]; i = i + 2
  elseif argv[i] == "--hosts" then hostsfile = argv[i + 1]; i = i + 2
  else error("usage: fwsh --sandbox bench/hosts.lua [--runs K]", 0) end
end

local TAPS = { { "net01", "br0", 1 }, { "net02", "br0", 2 }, { "net11", "br1", 1 }, { "net12", "br1", 2 },
               { "net13", "br1", 1 }, { "net21", "br2", 1 }, { "net22", "br2", 2 } }

-- ip's steps on host k of two (underlay addresses a, b: its own, the other's)
local function steps(k, own, peer)
  local up, down = {}, {}
  for n, br in ipairs({ "br0", "br1", "br2" }) do
    up[#up + 1] = "link add " .. br .. " type bridge"
    if br == "br0" and k == 1 then up[#up + 1] = "addr add 10.0.0.1/24 dev br0" end
    up[#up + 1] = "link set " .. br .. " up"
    up[#up + 1] = string.format("link add vx%s type vxlan id %d local %s remote %s dstport 4789 dev ul0",
                                br, 4300 + n - 1, own, peer)
    up[#up + 1] = "link set vx" .. br .. " master " .. br .. " up"
    down[#down + 1] = "link del vx" .. br
    down[#down + 1] = "link del " .. br
  end
  for _, t in ipairs(TAPS) do
    if t[3] == k then
      up[#up + 1] = "tuntap add " .. t[1] .. " mode tap"
      up[#up + 1] = "link set " .. t[1] .. " master " .. t[2] .. " up"
      table.insert(down, 1, "link del " .. t[1])
    end
  end
  return up, down
end

local function read_hosts(path)
  return require("fwsh.hosts").read(path)
end

local function ssh(h)
  return { "ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
           "UserKnownHostsFile=" .. h.known_hosts, "-o", "IdentitiesOnly=yes", "-i", h.identity, "--", h.ssh }
end

local function run(args, o)
  local r = fwsh.proc.run(args, o)
  if not r.ok then error(table.concat(args, " ") .. ": " .. r.err, 0) end
end

-- One way, as a process of its own (timed by /usr/bin/time from the driver).
if method then
  local list = read_hosts(hostsfile)
  if method == "batch" then
    for _, phase in ipairs({ "up", "down" }) do
      for k, h in ipairs(list) do
        local up, down = steps(k, h.underlay, list[3 - k].underlay)
        local file = os.tmpname()
        local f = assert(io.open(file, "w"))
        f:write(table.concat(phase == "up" and up or down, "\n"), "\n")
        f:close()
        local argv2 = ssh(h)
        for _, w in ipairs({ "ip", "-batch", "-" }) do argv2[#argv2 + 1] = w end
        run(argv2, { stdin = file })
        os.remove(file)
      end
    end
  elseif method == "percmd" then
    for _, phase in ipairs({ "up", "down" }) do
      for k, h in ipairs(list) do
        local up, down = steps(k, h.underlay, list[3 - k].underlay)
        for _, step in ipairs(phase == "up" and up or down) do
          local argv2 = ssh(h)
          argv2[#argv2 + 1] = "ip"
          for w in step:gmatch("%S+") do argv2[#argv2 + 1] = w end
          run(argv2)
        end
      end
    end
  else
    error("--method batch|percmd", 0)
  end
  return
end

local hosts <close> = emulate.start(2)
local dir = hosts.dir
local function hostsfile_of(n)
  local path = dir .. "/hosts-" .. n .. ".txt"
  local f = assert(io.open(path, "w"))
  for k = 1, n do
    local h = hosts[k]
    f:write(string.format("%s %s identity=%s known_hosts=%s fwsh=%s underlay=%s dev=ul0\n", h.name, h.ssh,
                          h.identity, h.known_hosts, h.fwsh, h.underlay))
  end
  f:close()
  return path
end
local one, two = hostsfile_of(1), hostsfile_of(2)
local exe = os.getenv("FWSH_EXE")
local script = (debug.getinfo(1, "S").source:match("^@(.*)/bench/hosts%.lua$") or ".") .. "/scripts/seed-hosts.lua"
local self = debug.getinfo(1, "S").source:sub(2)
local ways = {
  { "fwsh, 1 host", { exe, "--lab", "bench1", script, "--hosts", one }, runs, 1 },
  { "fwsh, 2 hosts", { exe, "--lab", "bench2", script, "--hosts", two }, runs, 1 },
  { "ip -batch, 2 hosts", { exe, "--lab", "bench3", self, "--method", "batch", "--hosts", two }, runs, 2 },
  { "ssh per step, 2 hosts", { exe, "--lab", "bench4", self, "--method", "percmd", "--hosts", two },
    math.min(runs, 3), nil },
}
local per_step = 0
for k = 1, 2 do per_step = per_step + #select(1, steps(k, "a", "b")) + #select(2, steps(k, "a", "b")) end
ways[4][4] = per_step / 2

local tty = fwsh.proc.run({ "test", "-t", "2" }).ok
local medians = {}
print(string.format("%-24s %5s %28s %18s", "way", "runs", "min / median / max s", "ssh per host"))
for _, w in ipairs(ways) do
  local t = {}
  for r = 1, w[3] do
    if tty then io.stderr:write(string.format("\r\027[K%s: run %d of %d", w[1], r, w[3])) end
    local argv2 = { "/usr/bin/time", "-f", "%e" }
    for _, a in ipairs(w[2]) do argv2[#argv2 + 1] = a end
    local res = fwsh.proc.run(argv2, { timeout = 300 })
    if not res.ok then error(w[1] .. " failed: " .. res.out .. res.err, 0) end
    t[#t + 1] = tonumber(res.err:match("([%d.]+)%s*$"))
  end
  table.sort(t)
  medians[w[1]] = t[(#t + 1) // 2]
  print(string.format("%-24s %5d %28s %18s", w[1], #t, string.format("%.2f / %.2f / %.2f", t[1], medians[w[1]], t[#t]),
                      tostring(w[4])))
end
if tty then io.stderr:write("\r\027[K") end
print(string.format("2 hosts / 1 host (fwsh, medians): %.2f", medians["fwsh, 2 hosts"] / medians["fwsh, 1 host"]))
