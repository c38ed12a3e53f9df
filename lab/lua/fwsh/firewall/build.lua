-- build.lua - building the firewall lab from its topology: the bridges
-- (once, here or on each host of a lab across hosts), the firewall nodes
-- with their keepalived and conntrackd configurations and ruleset (the
-- lab's own or the user's: fwsh.firewall.config), the client, and the
-- start in order (the first master first).
local fwsh = fwsh or require "fwsh"
local node = require "fwsh.node"
local keepalived = require "fwsh.keepalived"
local conntrackd = require "fwsh.conntrackd"
local nftables = require "fwsh.nftables"
local config = require "fwsh.firewall.config"
local T = require "fwsh.firewall.topology"
local base = require "fwsh.firewall.lab"
local errors = require "fwsh.errors"
local own = require "fwsh.firewall.image"
local options = require "fwsh.firewall.build_options"

local M = {}
local Lab, write = base.Lab, base.write

-- The nodes' qemu options: the lab's own (o.qemu), with its display and
-- how a cable is pulled.
local function qemu_opts(lab, o)
  if not (o.display or o.cable) or lab.backend ~= "qemu" then return o.qemu end
  local q = {}
  for k, v in pairs(o.qemu or {}) do q[k] = v end
  q.display, q.cable = o.display or q.display, o.cable or q.cable
  return q
end

local client_spec, start_nodes, build_across

-- Where a daemon's socket, lock and pid files go: the node's own /run in
-- a VM (a socket cannot live on the 9p share), the lab's directory otherwise.
local function run_file(lab, name, what)
  return lab.backend == "qemu" and "/run/" .. what or lab:file(name .. "-" .. what)
end

-- keepalived's notify commands run under fwsh-notify where the lab's tools
-- are (config.timed_notify); with the fix on, they open and close the gate.
-- With the lab's own configuration, conntrackd's caches and tables are kept
-- to what is alive, as primary-backup.sh means to: a new master empties its
-- external cache once committed (conntrackd -f external), and a firewall
-- that stops being master has its kernel table purged PurgeTimeout later
-- (conntrackd -t; a commit in between cancels it). Without either, the
-- connections of every earlier takeover stayed in a cache or a table
-- here, and their tuples and NAT ports refused the next commit's live
-- connections ("File exists": back-to-back cable failovers lost up to 380
-- of 10,000; the fifth commit held 53,000 entries for 13,000 connections).
local function timed_notify(lab, name, text, conntrackd_conf)
  local tool = lab.backend == "netns" and node.tool("notify")
  if not tool or tool:sub(1, 1) ~= "/" then
    if lab.fix_on then
      errors.raise("firewall.build", "fix", "fix = \"on\" needs fwsh-notify at an absolute path (FWSH_TOOLS)")
    end
    return text
  end
  local gate = lab.fix_on and lab:file(name .. "-pending.nft")
  if gate then write(gate, select(2, nftables.pending_again(gate))) end
  return config.timed_notify(text, { tool = tool, log = lab:file(name .. "-notify.log"), gate = gate,
                                     purge = lab.generated and conntrackd.ctl(conntrackd_conf, "-t") or nil,
                                     flush = lab.generated and conntrackd.ctl(conntrackd_conf, "-f", "external") or nil,
                                     file = name .. "-keepalived.conf" })
end

-- Firewall name's configuration (texts: config.source's) made the lab's
-- (config.localize) and written to the lab's directory, once:
-- -> { keepalived=, conntrackd=, ruleset= } the files' paths, texts = what they hold.
local function place(lab, name, texts)
  lab.placed = lab.placed or {}
  if lab.placed[name] then return lab.placed[name] end
  local files = { keepalived = lab:file(name .. "-keepalived.conf"), conntrackd = lab:file(name .. "-conntrackd.conf"),
                  ruleset = lab:file(name .. "-ruleset.nft") }
  local t = config.localize(texts, { conntrackd_conf = files.conntrackd, lock = run_file(lab, name, "conntrackd.lock"),
                                     socket = run_file(lab, name, "conntrackd.ctl"),
                                     log = lab:file(name .. "-conntrackd.log") })
  t.keepalived = timed_notify(lab, name, t.keepalived, files.conntrackd)
  for _, p in ipairs({ "keepalived", "conntrackd", "ruleset" }) do write(files[p], t[p]) end
  files.texts = t
  lab.placed[name] = files
  return files
end

local function firewall_node(lab, name, o)
  local a = T.fw[name]
  local facts = o.facts
  local n = node.new{
    name = name, dir = lab.dir, backend = lab.backend, qemu = qemu_opts(lab, o),
    ports = {
      { name = "eth0", bridge = T.port_bridge.eth0, tap = a.taps.eth0, address = a.eth0 },
      { name = "eth1", bridge = T.port_bridge.eth1, tap = a.taps.eth1, address = a.eth1 },
      { name = "eth2", bridge = T.port_bridge.eth2, tap = a.taps.eth2,
        address = facts.sync[name].address .. "/" .. T.net.sync:match("/(%d+)$") },
    },
    sysctls = {
      { "net/ipv6/conf/default/disable_ipv6", "1" }, { "net/ipv6/conf/all/disable_ipv6", "1" },
      { "net/ipv4/ip_forward", "1" },
      { "net/ipv4/conf/all/rp_filter", "0" }, { "net/ipv4/conf/default/rp_filter", "0" },
    },
  }
  -- A VM's conntrack table is its own kernel's, sized by default for its
  -- memory (a few thousand entries in 256 MB): raised for the connections
  -- the lab is built for, twice as in the host's check, never lowered.
  if lab.backend == "qemu" and o.flows then
    n.sysctls[#n.sysctls + 1] = { "net/netfilter/nf_conntrack_max", tostring(math.max(65536, 2 * o.flows)) }
  end
  local files = place(lab, name, o.texts[name])
  n.conntrackd_conf = files.conntrackd
  -- A restarted firewall comes back as a rebooted one would: without the
  -- virtual MAC links and addresses keepalived left, with an empty conntrack
  -- table (a VM does reboot).
  n.reset = function()
    n:exec(function()
      node.sysctl("net/ipv4/ip_forward", "1")
      for _, l in ipairs({ facts.vmac_link.client, facts.vmac_link.server }) do
        if fwsh.link.exists(l) then fwsh.link.get(l):delete() end
      end
    end)
    n:run{ "conntrack", "-F" }
    -- and without the files a killed conntrackd left (a reboot clears /run)
    require("fwsh.effect").remove(lab:file(name .. "-conntrackd.lock"))
    require("fwsh.effect").remove(lab:file(name .. "-conntrackd.ctl"))
  end
  -- once up, before its daemons: the firewall's own settings and ruleset
  n.setup = function(self)
    if not o.tcp_loose then self:sysctl("net/netfilter/nf_conntrack_tcp_loose", "0") end
    self:nft(files.texts.ruleset)
  end
  -- conntrackd raises itself to real-time priority (SCHED_RR 99, no setting
  -- keeps it normal); a namespace node shares the machine's CPUs, and there
  -- its commit of a large table starved both firewalls' keepalived, whose
  -- late adverts made the backup take over and give back dozens of times
  -- in a run, each time committing again (README, "conntrackd at the
  -- table's size"): it runs under the normal scheduler, as every other
  -- process of the lab
  n:daemon("conntrackd", conntrackd.argv{ conf = files.conntrackd }, { realtime = false })
  n:daemon("keepalived", keepalived.argv{ conf = files.keepalived, pid = run_file(lab, name, "keepalived.pid"),
                                          vrrp_pid = run_file(lab, name, "vrrp.pid") })
  return n
end

--- firewall.node_on_host(name, o) -> node: firewall name (fw-1, fw-2) built
--  here, in the directory o.dir, from build's options (firewall_node's o,
--  data only): how a lab across hosts builds a firewall on its host
function M.node_on_host(name, o)
  if not T.fw[name] then errors.raise("firewall.node_on_host", tostring(name), "fw-1 or fw-2 expected") end
  local site = setmetatable({ dir = o.dir, backend = o.backend or "netns", fix_on = o.fix_on, generated = o.generated }, Lab)
  return firewall_node(site, name, o)
end

-- The client's node: on br1, the VRRP address its gateway.
function client_spec(lab, o, dir)
  return { name = "client", dir = dir, backend = lab.backend, qemu = qemu_opts(lab, o),
    ports = { { name = T.client.port, bridge = T.client.bridge, tap = T.client.tap, address = T.client.address } },
    routes = { { dst = "default", via = lab.facts.vip.client } },
    sysctls = { { "net/ipv6/conf/default/disable_ipv6", "1" }, { "net/ipv6/conf/all/disable_ipv6", "1" } } }
end

-- Starts the nodes, the first master first (with nopreempt, whoever timed
-- out first would win otherwise): it takes both virtual IPs before its peer
-- starts; VMs: the second firewall and the client boot side by side, once
-- the first is master.
function start_nodes(lab, o)
  local first = lab.facts.master
  local second = first == "fw-1" and "fw-2" or "fw-1"
  -- VMs take seconds each: a terminal sees which step the build is at
  local function step(text) if lab.backend == "qemu" then base.progress("firewall lab: " .. text) end end
  step("booting " .. first)
  lab.nodes[first]:up()
  lab:wait_ready(first)
  lab:wait_master(first)
  step(first .. " is master; booting " .. second .. " and the client")
  lab.nodes[second]:launch()
  lab.nodes.client:launch()
  lab.nodes[second]:ready()
  lab:wait_ready(second)
  step(second .. " is backup; waiting for the client")
  lab.nodes.client:ready()
  lab.nodes.client:wait_run({ "ping", "-c1", "-W1", T.server }, 10 * lab.patience)
  step("")
end

-- The lab's bridges on api (fwsh, or a host's context), each made one
-- recorded by mine: br0 grounded, with the server's address, on the server
-- side only. -> { br0 = bridge, ... }
local function make_bridges(api, mine, server_side)
  local made = {}
  for _, br in ipairs(T.bridges) do
    local address = server_side and T.grounded[br]
    made[br] = mine(api.bridge.ensure(br, address and { grounding = true, address = address }
                                              or { grounding = false }))
  end
  return made
end

-- The route back to the client network, through the server side's virtual IP.
local function route_back(api, facts)
  api.route.add{ dst = T.net.client, via = facts.vip.server }
end

-- The lab across two hosts (o.hosts: a count, emulated here by fwsh.emulate,
-- or a list of fwsh.hosts.host options): fw-1 and the client on the first,
-- fw-2 and the server side (br0's address, the route back) on the second;
-- br0, br1 and br2 on both, stretched by VXLAN (fwsh.hosts.stretch).
function build_across(lab, o, fo)
  local hosts = require "fwsh.hosts"
  local list = o.hosts
  if type(o.hosts) == "number" then
    lab.emulated = require("fwsh.emulate").start(o.hosts)
    list = lab.emulated
  end
  if #list ~= 2 then errors.raise("firewall.build", "hosts", "2 of them: fw-1 on the first, fw-2 on the second", 0) end
  lab.made_at, lab.host_dir, lab.dir_at = {}, {}, {}
  lab.hosts = hosts.connect(list)
  local a, b = lab.hosts[1], lab.hosts[2]
  lab.at = { ["fw-1"] = a, client = a, ["fw-2"] = b, server = b }
  for _, h in ipairs(lab.hosts) do
    lab.host_dir[h] = h.lab_dir()
    local made = {}
    lab.made_at[h] = made
    local function mine(l, created)
      if created then made[#made + 1] = node.made(l) end
      return l
    end
    make_bridges(h, mine, h == b)
  end
  for role, h in pairs(lab.at) do lab.dir_at[role] = lab.host_dir[h] end
  for k, br in ipairs(T.bridges) do
    local va, vb = hosts.stretch(br, a, b, { id = T.vni + k - 1, dev_a = list[1].dev, dev_b = list[2].dev })
    lab.made_at[a][#lab.made_at[a] + 1] = node.made(va)
    lab.made_at[b][#lab.made_at[b] + 1] = node.made(vb)
  end
  if not o.nat or o.nat == "half" then
    route_back(b, lab.facts)
    lab.route_made = true
  end
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    local h = lab.at[name]
    local ho = {}
    for k, v in pairs(fo) do ho[k] = v end
    ho.dir = lab.dir_at[name]
    lab.nodes[name] = h.require("fwsh.firewall").node_on_host(name, ho)
  end
  lab.nodes.client = a.require("fwsh.node").new(client_spec(lab, o, lab.dir_at.client))
end

--- firewall.build{master="fw-1", advert_int=, version=3, backend="netns",
--  tcp_loose=false, nat=false, nat_to=T.vip.server, ftp=nil, display=nil,
--  config=nil, map=nil, flows=nil, fix="on"} -> lab, built and
--  running (nat: the firewalls translate the client network's addresses to
--  nat_to, the server side's virtual IP by default, and the host has no
--  route back to the client network; ftp: the client may use FTP on the
--  server, "rule" with the ftp conntrack helper set by a rule and its
--  expectations replicated by conntrackd, "none" without a helper; see
--  lab:ftp_serve; display: "vnc" or "spice", a screen on each VM, its
--  address node.display and `fwsh console LAB NODE --display`): the master holds both virtual
--  IPs and the client reaches the server. All of it, or nothing (a failure
--  tears down what was made). tcp_loose=false (default) makes the firewalls'
--  conntrack refuse to pick up a TCP connection mid-stream, so only
--  conntrackd's replicated state lets an established connection survive.
--  config: the firewalls run the user's configuration instead of the lab's
--  own, a directory (DIR/fw-1/keepalived.conf, conntrackd.conf, ruleset.nft,
--  the same for fw-2: what firewall.export writes) or Lua strings ({ ["fw-1"]
--  = { keepalived = TEXT, conntrackd = TEXT, ruleset = TEXT }, ["fw-2"] = ... });
--  map: interface names of those files to the lab's ({ ens18 = "eth0" }; the
--  seed's tap names, net01 for fw-1's eth0..., are mapped without it). Each
--  file is checked by its daemon's own check before anything is built, and
--  who starts master, the virtual addresses and the sync link are read from
--  them (master, advert_int, version, ftp and preempt are the files' then).
--  image = PATH | { ["fw-1"] = PATH | {disk=, format=, kernel=, initrd=,
--  append=, ready=}, ... }: a firewall boots the user's own VM image
--  (qemu, from an overlay: node.new's qemu.disk) instead of fwsh's, with
--  kernel=, initrd=, append=, ready_line=, ready_port=, ready_timeout= as
--  the defaults of each (ready_port is tried on its server-side address,
--  from the host); see fwsh.firewall.image for what the lab expects of it.
--  nat="half": only the flow tool's NAT addresses (topology.flows_src.nat)
--  are translated, the rest of the client network is routed back;
--  flows=N: the ruleset lets the flow tool's ports through
--  (topology.flows_port and the next ones: lab:flows_start)
--  flows also sizes the firewalls for the connections: conntrackd's hash and buffers
--  follow it (fwsh.conntrackd.sizing), and a host whose nf_conntrack_max
--  cannot hold twice as many is refused. fix: "on" (the default on
--  namespace nodes with the lab's own configuration) the new master drops
--  packets of connections it does not know until its `conntrackd -c` is
--  done (nftables' `pending` gate, opened by keepalived's notify under
--  fwsh-notify); "off" (qemu, a configuration of one's own) as keepalived's
--  users have it: with tcp_loose = true and NAT such packets are picked up
--  mid-stream under a new translation and the server resets the connection
--  (README, "conntrackd at the table's size"). keep=DIR: when the lab
--  closes (after a failure too), its directory's files (the daemons' logs,
--  the generated configuration, the flow tool's per-connection reports,
--  the captures) are copied into DIR, made if missing: the evidence of a
--  run whose lab is gone (under --sandbox, outside /tmp and /run, which are
--  the sandbox's own). An option not named here
--  (fwsh.firewall.build_options.KEYS) is refused, as a bad value is, before
--  anything is made.
function M.build(o)
  o = o or {}
  -- every option known and its value one build takes, before anything is made
  local backend = options.check(o)
  -- "half": only the flows' NAT addresses are translated; the rest of the
  -- client network is routed back as without NAT (config.generated)
  local half = o.nat == "half"
  do -- the options as the configuration is made from them: the gate, the
     -- backup's purge and the master's flush (timed_notify) are the generated lab's
    local given = o
    o = {}
    for k, v in pairs(given) do o[k] = v end
    o.generated = given.config == nil
    o.fix_on = backend == "netns" and given.fix ~= "off" and o.generated
  end
  -- every configuration made or read (a bad address, a missing file
  -- refused) before anything else is; the user's checked by its daemons
  -- first, then what the lab needs read from it (facts)
  local source = config.source(o)
  local function facts()
    local f = config.facts(source.texts, source.files)
    if o.master and o.master ~= f.master then
      errors.raise("firewall.build", o.master, "the configuration makes " .. f.master
                   .. " master (its priority): master is what the files say", 0)
    end
    return f
  end
  local images = own.check(o) -- the firewalls' own VM images, if any: then VMs
  local lab = setmetatable({ nodes = {}, procs = {}, made = {}, captures = {}, bridges = {},
                             backend = o.backend or (images and "qemu") or "netns",
                             nat = o.nat == true or half and "half",
                             ftp = o.ftp, fix_on = o.fix_on, generated = o.generated, flows = o.flows, keep = o.keep,
                             facts = not source.own and facts() or nil }, Lab)
  -- A VM answers later than a namespace (under TCG, much later): every
  -- deadline of the lab is this many times longer.
  lab.patience = lab.backend == "qemu" and 4 or 1
  -- what each firewall node is built from (data: on a lab across hosts, it
  -- is built on its host, by firewall.node_on_host)
  local fo = {}
  for k, v in pairs(o) do if k ~= "hosts" and k ~= "config" then fo[k] = v end end
  fo.texts = source.texts
  local ok, err = pcall(function()
    if o.hosts then
      fo.facts = lab.facts
      build_across(lab, o, fo)
      return start_nodes(lab, o)
    end
    -- /tmp/fwsh-LAB.XXXXXX, tagged: `fwsh down LAB` removes it if this run is killed.
    lab.dir = fwsh.lab_dir()
    if source.own then -- the user's files, as the lab will run them, checked first
      local placed = {}
      for _, name in ipairs({ "fw-1", "fw-2" }) do placed[name] = place(lab, name, source.texts[name]) end
      config.check(placed, source.files, lab.dir:match("([^./]+)$"))
      lab.facts = facts()
    end
    fo.facts = lab.facts
    local made = {}
    local function mine(l, created)
      if created then made[#made + 1] = node.made(l) end
      return l
    end
    fwsh.transaction(function()
      lab.bridges = make_bridges(fwsh, mine, true)
      if lab.backend == "qemu" then
        for _, t in ipairs(T.taps()) do mine(fwsh.tap.ensure(t[1], { bridge = t[2] })) end
      end
      -- With NAT the server answers the virtual IP, on its own network: no route back.
      if not o.nat or half then route_back(fwsh, lab.facts) end
    end)
    lab.made, lab.route_made = made, not o.nat or half
    for _, name in ipairs({ "fw-1", "fw-2" }) do
      lab.nodes[name] = images and images[name] and own.node(lab, name, images[name], qemu_opts(lab, o))
                        or firewall_node(lab, name, fo)
    end
    lab.nodes.client = node.new(client_spec(lab, o, lab.dir))
    start_nodes(lab, o)
  end)
  if not ok then
    if lab.backend == "qemu" then base.progress("") end
    pcall(Lab.close, lab)
    error(err, 0)
  end
  return lab
end

return M
