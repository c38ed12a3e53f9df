-- config.lua - where the firewalls' configurations come from: generated
-- from the topology's tables (the lab's own), or the user's (firewall.build's
-- config: a directory DIR/fw-1/keepalived.conf, conntrackd.conf, ruleset.nft
-- and the same for fw-2, or Lua strings). Either way the lab runs text: its
-- interface names mapped to the lab's, its files' paths made the lab's, the
-- user's checked by each daemon's own check before anything is built, and
-- what the lab needs to know of it (virtual addresses, VRIDs, virtual MAC
-- links, the sync link's addresses, who starts master) read from it.
local fwsh = fwsh or require "fwsh"
local keepalived = require "fwsh.keepalived"
local conntrackd = require "fwsh.conntrackd"
local nftables = require "fwsh.nftables"
local effect = require "fwsh.effect"
local errors = require "fwsh.errors"
local file = require "fwsh.file"
local T = require "fwsh.firewall.topology"

local M = {}
local OP = "firewall.config"
local FWS = { "fw-1", "fw-2" }

-- Each firewall's three files, by the name export writes and --config reads.
M.files = { keepalived = "keepalived.conf", conntrackd = "conntrackd.conf", ruleset = "ruleset.nft" }
local PIECES = { "keepalived", "conntrackd", "ruleset" }

-- Where a firewall keeps them on Debian: what export writes, and what the
-- lab replaces with files of its own when it runs them (conntrackd's lock,
-- socket and log, and the conntrackd.conf keepalived's notify commands name).
M.paths = { conntrackd_conf = "/etc/conntrackd/conntrackd.conf", lock = "/var/lock/conntrack.lock",
            socket = "/var/run/conntrackd.ctl", log = "/var/log/conntrackd.log" }

--- config.generated(o) -> { ["fw-1"] = { keepalived=, conntrackd=, ruleset= }, ["fw-2"] = ... }:
--  the lab's own configuration, from firewall.build's options (master,
--  advert_int, version, preempt, ftp, nat, nat_to, backend, flows: conntrackd
--  sized for the table, and above 30,000 100 ms adverts unless advert_int
--  says otherwise (topology.advert_for); fix_on: the ruleset's `pending` gate, which only the
--  lab opens, so export writes none), with the Debian paths of config.paths
function M.generated(o)
  local services = { { proto = "tcp", port = T.stream_port }, { proto = "udp", port = T.probe_port },
                     { proto = "icmp" } }
  if o.ftp then
    services[#services + 1] = { proto = "tcp", port = T.ftp_port, helper = o.ftp == "rule" and "ftp" or nil }
  end
  -- the flow tool's ports (lab:flows_start), with o.flows only
  for k = 1, o.flows and T.flows_ports or 0 do
    services[#services + 1] = { proto = "tcp", port = T.flows_port + k - 1 }
  end
  -- nat = "half": only the flows' NAT addresses are translated
  local nat = o.nat and nftables.nat{ from = o.nat == "half" and T.flows_src.nat or T.net.client,
                                      out = { T.side_port.server, T.vmac_link.server },
                                      to = o.nat_to or T.vip.server, server_net = T.net.server } or ""
  local ruleset = nftables.firewall{
    pending = o.fix_on == true,
    client = { ifaces = { T.side_port.client, T.vmac_link.client }, net = T.net.client },
    server = { ifaces = { T.side_port.server, T.vmac_link.server }, net = T.net.server },
    sync = { iface = "eth2", port = T.sync_port },
    services = services,
  } .. nat
  local out = {}
  for _, name in ipairs(FWS) do
    local a = T.fw[name]
    local prio = (o.master or "fw-1") == name and 150 or 100
    local function instance(side, vip)
      return { name = side:upper(), interface = T.side_port[side], vrid = T.vrid[side], priority = prio,
               advert_int = o.advert_int or T.advert_for(o.backend, o.flows), version = o.version or 3,
               vips = { vip .. "/32" }, vmac = T.vmac_link[side], nopreempt = o.preempt ~= true }
    end
    out[name] = {
      conntrackd = conntrackd.config{
        local_address = T.host(a.eth2), peer_address = T.host(T.fw[a.peer].eth2), interface = "eth2",
        port = T.sync_port, socket = M.paths.socket, lock = M.paths.lock, log = M.paths.log,
        ignore = { "127.0.0.1", table.unpack(T.own_addresses()) },
        expectations = o.ftp and { "ftp" } or nil,
        flows = o.flows,
      },
      keepalived = keepalived.config{
        router_id = name,
        sync_group = {
          name = "FW",
          -- conntrackd's primary-backup.sh, as commands keepalived runs itself:
          -- a new master commits the peer's connections into its kernel table;
          -- a backup asks the master for a full resync.
          notify_master = conntrackd.ctl(M.paths.conntrackd_conf, "-c"),
          notify_backup = conntrackd.ctl(M.paths.conntrackd_conf, "-n"),
        },
        instances = { instance("client", T.vip.client), instance("server", T.vip.server) },
      },
      ruleset = ruleset,
    }
  end
  return out
end

local function read_file(path)
  local s, err = file.read(path)
  if not s then errors.raise(OP, path, "cannot be read (" .. tostring(err) .. "): a firewall's configuration is "
                                       .. "DIR/fw-1/keepalived.conf, conntrackd.conf, ruleset.nft, the same for fw-2", 0) end
  return s
end

-- The interface map of firewall name: its seed taps (net01, net11, net21
-- for fw-1) to its ports, then the user's map (o.map: { ens18 = "eth0" }).
local function name_map(name, user)
  local m = {}
  for port, tap in pairs(T.fw[name].taps) do m[tap] = port end
  for from, to in pairs(user or {}) do
    if type(from) ~= "string" or not from:match("^[%w][%w._-]*$") or not T.port_bridge[to] then
      errors.raise(OP, tostring(from) .. "=" .. tostring(to), "an interface map is NAME=eth0|eth1|eth2 "
                   .. "(eth0 server side on br0, eth1 client side on br1, eth2 the sync link on br2)", 0)
    end
    m[from] = to
  end
  return m
end

--- config.map(text, name, user) -> text with firewall name's interface
--  names replaced by the lab's (whole names only, in one pass: a map may swap two)
function M.map(text, name, user)
  local m = name_map(name, user)
  return (text:gsub("[%w_.-]+", function(w) return m[w] end))
end

--- config.source(o) -> { texts = { ["fw-1"] = { keepalived=, conntrackd=, ruleset= }, ... },
--  files = { ["fw-1"] = { keepalived = "what to call it in a message", ... } }, own = bool }:
--  o.config (a directory, or a table of Lua strings by firewall) mapped to
--  the lab's interface names; or, without it, the lab's own
--  (config.generated). What the lab needs of it: config.facts(src.texts, src.files)
function M.source(o)
  local src = { texts = {}, files = {}, own = o.config ~= nil }
  if o.config == nil then
    src.texts = M.generated(o)
    for _, name in ipairs(FWS) do
      src.files[name] = {}
      for _, p in ipairs(PIECES) do src.files[name][p] = "generated " .. name .. " " .. M.files[p] end
    end
  else
    if type(o.config) ~= "string" and type(o.config) ~= "table" then
      errors.raise(OP, tostring(o.config), "config is a directory or { [\"fw-1\"] = { keepalived=, conntrackd=, ruleset= }, ... }", 0)
    end
    for _, name in ipairs(FWS) do
      src.texts[name], src.files[name] = {}, {}
      for _, p in ipairs(PIECES) do
        local text, file
        if type(o.config) == "string" then
          file = o.config .. "/" .. name .. "/" .. M.files[p]
          text = read_file(file)
        else
          file = string.format("config[%q].%s", name, p)
          text = type(o.config[name]) == "table" and o.config[name][p]
          if type(text) ~= "string" then errors.raise(OP, file, "missing: a string expected (the whole file)", 0) end
        end
        src.texts[name][p] = M.map(text, name, o.map)
        src.files[name][p] = file
      end
    end
  end
  return src
end

local function ip_in(net, addr) return nftables.contains(net, addr) end

--- config.facts(texts, files) -> what the lab needs to know of the two
--  firewalls' configurations: { vip = {client=, server=}, vrid = {...}, vmac
--  = {...} (the virtual MACs), vmac_link = {...} (keepalived's links), master
--  = "fw-1"|"fw-2" (who starts master: the higher priority, or state MASTER),
--  sync = { ["fw-1"] = { address=, peer= }, ... } }, read from them; raises,
--  naming the file and line, for what it cannot find or what does not fit
--  the lab (a virtual address outside its network, the two firewalls
--  disagreeing on an instance, sync on a link that is not br2)
function M.facts(texts, files)
  local f = { vip = {}, vrid = {}, vmac = {}, vmac_link = {}, sync = {}, prio = {} }
  local inst = {}
  for _, name in ipairs(FWS) do
    local kfile, cfile = files[name].keepalived, files[name].conntrackd
    local ka = keepalived.read(texts[name].keepalived, kfile)
    inst[name] = {}
    for _, side in ipairs({ "client", "server" }) do
      local port = T.side_port[side]
      for _, i in ipairs(ka.instances) do
        if i.interface == port and not inst[name][side] then inst[name][side] = i end
      end
      local i = inst[name][side]
      local where = string.format("%s side: its interface %s on %s", side, port, T.port_bridge[port])
      if not i then
        errors.raise(OP, kfile, "no vrrp_instance on the " .. where .. " (or a name mapped to it)", 0)
      end
      local at = kfile .. ":" .. i.line
      if not i.vmac then
        errors.raise(OP, at, "vrrp_instance " .. i.name .. " has no use_vmac: the lab finds the master by the "
                     .. "virtual MAC (00:00:5e:00:01:VRID) its bridge learned", 0)
      end
      if not ip_in(T.net[side], i.vips[1]) then
        errors.raise(OP, at, string.format("vrrp_instance %s: virtual address %s is not in the lab's %s network %s",
                                           i.name, i.vips[1], side, T.net[side]), 0)
      end
      local other = name == "fw-2" and inst["fw-1"][side]
      if other and (other.vrid ~= i.vrid or other.vips[1] ~= i.vips[1]) then
        errors.raise(OP, at, string.format("vrrp_instance %s (VRID %d, %s) does not match fw-1's on the %s side "
                                           .. "(VRID %d, %s)", i.name, i.vrid, i.vips[1], side, other.vrid, other.vips[1]), 0)
      end
      f.vip[side], f.vrid[side], f.vmac_link[side] = i.vips[1], i.vrid, i.vmac
      f.vmac[side] = keepalived.vmac(i.vrid)
    end
    local ct = conntrackd.read(texts[name].conntrackd, cfile)
    local s = ct.sync
    local at = cfile .. ":" .. s.line
    if s.interface ~= "eth2" then
      errors.raise(OP, at, "Sync's UDP Interface is " .. s.interface .. ": the lab's sync link is eth2 (br2)", 0)
    end
    for _, a in ipairs({ s.address, s.peer }) do
      if not a:match("^%d+%.%d+%.%d+%.%d+$") then errors.raise(OP, at, "Sync's UDP address " .. a .. " is not IPv4", 0) end
    end
    f.sync[name] = { address = s.address, peer = s.peer, port = s.port }
    f.prio[name] = { priority = inst[name].client.priority, state = inst[name].client.state,
                     at = kfile .. ":" .. inst[name].client.line }
  end
  local a, b = f.sync["fw-1"], f.sync["fw-2"]
  if a.peer ~= b.address or b.peer ~= a.address then
    errors.raise(OP, files["fw-2"].conntrackd, string.format("the sync addresses do not pair: fw-1 is %s and sends to "
                 .. "%s, fw-2 is %s and sends to %s", a.address, a.peer, b.address, b.peer), 0)
  end
  if a.address:match("^(%d+%.%d+%.%d+)%.") ~= b.address:match("^(%d+%.%d+%.%d+)%.") then
    errors.raise(OP, files["fw-2"].conntrackd, "the sync addresses " .. a.address .. " and " .. b.address
                 .. " are not in one /24: the lab puts them on br2 as /24", 0)
  end
  local p1, p2 = f.prio["fw-1"], f.prio["fw-2"]
  if p1.priority ~= p2.priority then
    f.master = p1.priority > p2.priority and "fw-1" or "fw-2"
  elseif (p1.state == "MASTER") ~= (p2.state == "MASTER") then
    f.master = p1.state == "MASTER" and "fw-1" or "fw-2"
  else
    errors.raise(OP, p2.at, string.format("fw-1 and fw-2 have priority %d and state %s on the client side: "
                 .. "which starts master?", p1.priority, p1.state), 0)
  end
  return f
end

--- config.localize(texts, paths) -> { keepalived=, conntrackd=, ruleset= }:
--  the texts with the lab's files for this firewall (paths: conntrackd_conf,
--  lock, socket, log): conntrackd's LockFile, LogFile (unless off) and UNIX
--  Path, and every conntrackd keepalived's notify lines run (its -C),
--  replaced or added. Line for line, but for a LockFile or Path added.
function M.localize(texts, paths, files)
  local ct = conntrackd.read(texts.conntrackd, files and files.conntrackd or "conntrackd.conf")
  local lines = {}
  for l in (texts.conntrackd .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  if texts.conntrackd:sub(-1) == "\n" then lines[#lines] = nil end
  local function set(stmt, key, value)
    local indent = lines[stmt.line]:match("^(%s*)")
    lines[stmt.line] = indent .. key .. " " .. value
  end
  local insert = {} -- line -> text to put before it (a block's closing line)
  if ct.lock then set(ct.lock, "LockFile", paths.lock)
  else insert[ct.general.close] = "  LockFile " .. paths.lock end
  if ct.log and ct.log.words[2] ~= "off" and ct.log.words[2] ~= "Off" then set(ct.log, "LogFile", paths.log) end
  if ct.socket then set(ct.socket, "Path", paths.socket)
  elseif ct.unix and ct.unix.close then insert[ct.unix.close] = "    Path " .. paths.socket
  else insert[ct.general.close] = (insert[ct.general.close] and insert[ct.general.close] .. "\n" or "")
                                  .. "  UNIX {\n    Path " .. paths.socket .. "\n  }" end
  local out = {}
  for i, l in ipairs(lines) do
    if insert[i] then out[#out + 1] = insert[i] end
    out[#out + 1] = l
  end
  local ka = keepalived.read(texts.keepalived, files and files.keepalived or "keepalived.conf")
  local klines = {}
  for l in (texts.keepalived .. "\n"):gmatch("([^\n]*)\n") do klines[#klines + 1] = l end
  if texts.keepalived:sub(-1) == "\n" then klines[#klines] = nil end
  for _, n in ipairs(ka.notify) do
    local w = n.words
    if w[1] and w[1]:match("conntrackd$") then
      local argv = { w[1] }
      local i, given = 2, false
      while i <= #w do
        if w[i] == "-C" then argv[#argv + 1] = "-C"; argv[#argv + 1] = paths.conntrackd_conf; i = i + 2; given = true
        else argv[#argv + 1] = w[i]; i = i + 1 end
      end
      if not given then table.insert(argv, 2, "-C"); table.insert(argv, 3, paths.conntrackd_conf) end
      local indent = klines[n.line]:match("^(%s*)")
      klines[n.line] = indent .. n.key .. ' "' .. table.concat(argv, " ") .. '"'
    end
  end
  return { conntrackd = table.concat(out, "\n") .. "\n", keepalived = table.concat(klines, "\n") .. "\n",
           ruleset = texts.ruleset }
end

--- config.timed_notify(text, { tool=, log=, gate=, purge=, flush=, file= }) -> text: a
--  keepalived.conf (text, named file in messages) whose notify commands
--  each run under fwsh-notify (tool), which records in log when keepalived
--  launched it and when each command ended (fwsh.firewall.sync reads the
--  commit's time there); gate: the file that puts tcp back into the
--  ruleset's `pending` set (nftables.pending_again): the new master opens
--  the gate after its commit, a backup closes it before its resync request;
--  purge: an argv a backup (or a firewall in fault) runs after the gate and
--  before its own command (conntrackd -t: its kernel table purged
--  PurgeTimeout later, unless it commits first); flush: an argv a new
--  master runs last, after its own command (the commit) and the gate
--  (conntrackd -f external: the committed cache emptied)
function M.timed_notify(text, o)
  local lines = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  if text:sub(-1) == "\n" then lines[#lines] = nil end
  for _, n in ipairs(keepalived.read(text, o.file or "keepalived.conf").notify) do
    local event = ({ notify_master = "master", notify_backup = "backup", notify_fault = "fault" })[n.key]
    if event then
      local cmds = { n.words }
      if event == "master" then
        if o.gate then cmds[#cmds + 1] = nftables.pending_done() end
        if o.flush then cmds[#cmds + 1] = o.flush end
      else
        if o.purge then table.insert(cmds, 1, o.purge) end
        if o.gate then table.insert(cmds, 1, (nftables.pending_again(o.gate))) end
      end
      local argv = { o.tool, o.log, event }
      for _, cmd in ipairs(cmds) do
        argv[#argv + 1] = "--"
        table.move(cmd, 1, #cmd, #argv + 1, argv)
      end
      local indent = lines[n.line]:match("^(%s*)")
      lines[n.line] = indent .. n.key .. ' "' .. table.concat(argv, " ") .. '"'
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

--- config.check(placed, files, tag): each firewall's files checked by the
--  daemons' own checks, in a namespace of their own (keepalived needs the
--  interfaces it names to exist: eth0, eth1, eth2 there are bridges), removed
--  after: keepalived --config-test -f, nft -c -f, and conntrackd's own parser
--  (conntrackd 1.4.7 has no check mode: as a client, conntrackd -C FILE -s
--  parses the whole file before it looks for the daemon's socket). Raises an
--  fwsh error naming the user's file and the tool's message; nothing under --dry-run.
function M.check(placed, files, tag)
  if effect.planned() then
    fwsh.explain("# the configurations would be checked: keepalived --config-test, nft -c, conntrackd -C FILE -s")
    return
  end
  local ns = "fwsh-check-" .. tag
  fwsh.netns.add(ns)
  local id = fwsh.netns.id(ns)
  local ok, err = pcall(function()
    fwsh.netns.run(ns, function()
      fwsh.link.get("lo"):up()
      for _, port in ipairs({ "eth0", "eth1", "eth2" }) do fwsh.bridge.add(port, { grounding = false }) end
    end)
    for _, name in ipairs(FWS) do
      local p, f = placed[name], files[name]
      local function refuse(piece, tool, r)
        local msg = ((r.err or "") .. (r.out or "")):gsub("%s+$", "")
        msg = msg:gsub(p[piece]:gsub("%p", "%%%0"), (f[piece]:gsub("%%", "%%%%")))
        errors.raise(OP, f[piece], tool .. " refused it: " .. msg, 0)
      end
      local r = fwsh.proc.run({ "keepalived", "--config-test", "-f", p.keepalived }, { netns = ns })
      if not r.ok then refuse("keepalived", "keepalived --config-test", r) end
      r = fwsh.proc.run({ "nft", "-c", "-f", p.ruleset }, { netns = ns })
      if not r.ok then refuse("ruleset", "nft -c -f", r) end
      r = fwsh.proc.run({ "conntrackd", "-C", p.conntrackd, "-s" }, { netns = ns })
      if not r.ok and not ((r.err or "") .. (r.out or "")):find("can't connect", 1, true) then
        refuse("conntrackd", "conntrackd's parser", r)
      end
    end
  end)
  fwsh.netns.delete_made(ns, id)
  if not ok then error(err, 0) end
end

--- firewall.export(dir [, o]) -> { path, ... }: the lab's configuration as
--  plain files, dir/fw-1/keepalived.conf, conntrackd.conf, ruleset.nft and
--  the same for fw-2: what firewall.build(o) would run, with a firewall's
--  Debian paths (config.paths) where the lab puts files of its own. Builds
--  nothing; under --dry-run only shown.
function M.export(dir, o)
  o = o or {}
  if type(dir) ~= "string" or dir == "" then errors.raise("firewall.export", tostring(dir), "a directory expected", 0) end
  if o.config ~= nil then errors.raise("firewall.export", dir, "exports the lab's own configuration, not --config's", 0) end
  local texts = M.generated(o)
  local written = {}
  for _, name in ipairs(FWS) do
    local d = dir .. "/" .. name
    local r = fwsh.proc.run({ "mkdir", "-p", "--", d })
    if not r.ok then errors.raise("firewall.export", d, (r.err or ""):gsub("%s+$", ""), 0) end
    for _, p in ipairs(PIECES) do
      local path = d .. "/" .. M.files[p]
      effect.write(path, texts[name][p])
      written[#written + 1] = path
    end
  end
  return written
end

return M
