-- dryrun_spec.lua - fwsh --dry-run changes nothing, whatever the script calls:
-- every function and method of README's API reference (so that a new one
-- cannot be missed: one with no case here fails this spec) runs under
-- --dry-run against a namespace with a lab in it, a fake root and a lab root
-- of its own, and each of those reads back, independently of fwsh, as it was.
local H = require "helper"

-- README's reference: the names of its entries ("fwsh.bridge.add", "bridge:ports").
local function reference()
  local readme = assert(H.read_file(H.root .. "/README.md"))
  local block = assert(readme:match("<!%-%- apidoc:begin %-%->\n(.-)<!%-%- apidoc:end %-%->"))
  local names, seen = {}, {}
  for name in block:gmatch("\n%- `([%w_.:]+)[%({]") do
    if not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  return names
end

-- Each case is Lua run by `fwsh --lab dlab --dry-run -e`, with ROOT (the fake
-- root), LABS (the lab root), OTHER (a second namespace) and MARK (a
-- directory nothing but a real side effect writes to) set. It must succeed,
-- unless fails says why a real run would fail too (what the spec's sandbox
-- lacks: firewalld, an ssh server); either way nothing may change.
local cases = {
  ["fwsh.addr.add"] = 'fwsh.addr.add("d0", "10.9.1.1/24")',
  ["fwsh.addr.ensure"] = 'fwsh.addr.ensure("d0", "10.9.1.2/24")',
  ["fwsh.addr.delete"] = 'fwsh.addr.delete("d0", "10.9.0.1/24")',
  ["fwsh.addr.list"] = 'fwsh.addr.list("d0")',
  ["fwsh.batch"] = 'fwsh.batch(function() fwsh.bridge.add("bb0") fwsh.tap.add("bt0", {bridge = "bb0"}) end)',
  ["fwsh.boot.persist"] = 'fwsh.boot.persist({"br_netfilter", "nf_conntrack_bridge"}, {root = ROOT})',
  ["fwsh.boot.remove"] = 'fwsh.boot.remove(nil, {root = ROOT})',
  ["fwsh.boot.status"] = 'fwsh.boot.status{root = ROOT}',
  ["fwsh.boot.regenerate"] = 'assert(fwsh.boot.regenerate{command = {"touch", MARK .. "/regenerated"}})',
  ["fwsh.bridge.add"] = 'fwsh.bridge.add("nb0", {grounding = false})',
  ["fwsh.bridge.ensure"] = 'fwsh.bridge.ensure("nb1")',
  ["fwsh.bridge.get"] = 'fwsh.bridge.get("d0")',
  ["fwsh.bridge.list"] = 'fwsh.bridge.list()',
  ["bridge:ports"] = 'fwsh.bridge.get("d0"):ports()',
  ["bridge:attach"] = 'fwsh.bridge.get("d0"):attach("dx0")',
  ["bridge:detach"] = 'fwsh.bridge.get("d0"):detach("dv0")',
  ["bridge:grounding"] = 'fwsh.bridge.get("d0"):grounding()',
  ["fwsh.brnf.get"] = { code = 'fwsh.brnf.get()', fails = "br_netfilter may not be loaded" },
  ["fwsh.brnf.set"] = { code = 'fwsh.brnf.set{iptables = false, ip6tables = false}',
                        fails = "br_netfilter may not be loaded" },
  ["fwsh.capture"] = 'local c = fwsh.capture("d0", {file = MARK .. "/c.pcap"}) c:stop()',
  ["capture:stop"] = 'fwsh.capture("d0", {file = MARK .. "/c.pcap"}):stop()',
  ["capture:wait"] = 'fwsh.capture("d0", {file = MARK .. "/c.pcap", count = 1}):wait(0.2)',
  ["capture:packets"] = 'fwsh.capture("d0", {file = MARK .. "/c.pcap"}):packets()',
  ["capture:running"] = 'fwsh.capture("d0", {file = MARK .. "/c.pcap"}):running()',
  ["fwsh.firewalld.running"] = 'fwsh.firewalld.running{bus = BUS}',
  ["fwsh.firewalld.add"] = { code = 'fwsh.firewalld.add("trusted", "d0", {bus = BUS})', fails = "no firewalld" },
  ["fwsh.firewalld.remove"] = { code = 'fwsh.firewalld.remove("trusted", "d0", {bus = BUS})',
                                fails = "no firewalld" },
  ["fwsh.firewalld.interfaces"] = { code = 'fwsh.firewalld.interfaces("trusted", {bus = BUS})',
                                    fails = "no firewalld" },
  ["fwsh.firewalld.zone_of"] = { code = 'fwsh.firewalld.zone_of("d0", {bus = BUS})', fails = "no firewalld" },
  ["fwsh.lab"] = 'fwsh.lab("other")',
  ["fwsh.host"] = { code = 'fwsh.host("h", {ssh = "nobody@127.0.0.1", port = 1, timeout = 2})',
                    fails = "no ssh server" },
  ["link:impair"] = 'fwsh.link.get("d0"):impair{delay = 10, loss = 1}',
  ["link:clear_impairment"] = 'fwsh.link.get("dx1"):clear_impairment()',
  ["fwsh.labs"] = 'fwsh.labs()',
  ["fwsh.down"] = 'fwsh.down("dlab")',
  ["fwsh.lab_dir_find"] = 'fwsh.lab_dir_find("dlab", "kept")',
  ["fwsh.lab_dir_labs"] = 'fwsh.lab_dir_labs("kept")',
  ["fwsh.lab_dir"] = 'local d = fwsh.lab_dir() assert(type(d) == "string")',
  ["fwsh.lab_dir_remove"] = 'fwsh.lab_dir_remove(fwsh.lab_dir())',
  ["fwsh.link.delete_made"] = 'assert(fwsh.link.delete_made("lb0", fwsh.link.get("lb0"):info().ifindex))',
  ["fwsh.netns.id"] = 'fwsh.netns.id(OTHER)',
  ["fwsh.netns.delete_made"] = 'fwsh.netns.delete_made(OTHER, fwsh.netns.id(OTHER))',
  ["fwsh.link.get"] = 'fwsh.link.get("dv0")',
  ["fwsh.link.exists"] = 'fwsh.link.exists("dv0")',
  ["fwsh.link.list"] = 'fwsh.link.list()',
  ["link:info"] = 'fwsh.link.get("dv0"):info()',
  ["link:up"] = 'fwsh.link.get("dx0"):up()',
  ["link:down"] = 'fwsh.link.get("d0"):down()',
  ["link:set"] = 'fwsh.link.get("dv0"):set{mtu = 1400, alias = "x"}',
  ["link:delete"] = 'fwsh.link.get("dv0"):delete()',
  ["link:detach"] = 'fwsh.link.get("dv0"):detach()',
  ["fwsh.mode"] = 'assert(fwsh.mode() == "plan")',
  ["fwsh.explain"] = 'fwsh.explain("ip link add x type dummy")',
  ["fwsh.module.status"] = 'fwsh.module.status("bridge")',
  ["fwsh.module.load"] = 'fwsh.module.load("bridge")',
  ["fwsh.module.unload"] = { code = 'fwsh.module.unload("bridge")', fails = "bridge is in use" },
  ["fwsh.module.info"] = 'fwsh.module.info("bridge")',
  ["fwsh.netns.add"] = 'fwsh.netns.add("nn0")',
  ["fwsh.netns.ensure"] = 'fwsh.netns.ensure("nn1")',
  ["fwsh.netns.delete"] = 'fwsh.netns.delete(OTHER)',
  ["fwsh.netns.exists"] = 'fwsh.netns.exists(OTHER)',
  ["fwsh.netns.list"] = 'fwsh.netns.list()',
  ["fwsh.netns.run"] = 'fwsh.netns.run(OTHER, function() fwsh.bridge.add("rb0") end)',
  ["fwsh.nft.run"] = 'fwsh.nft.run("add table inet fwsh_dry")',
  ["fwsh.port.attach"] = 'fwsh.port.attach("d0", "dx0")',
  ["fwsh.port.detach"] = 'fwsh.port.detach("dv0")',
  ["fwsh.proc.run"] = 'fwsh.proc.run({"touch", MARK .. "/ran"})',
  ["fwsh.proc.spawn"] = 'fwsh.proc.spawn({"touch", MARK .. "/spawned"}):wait(5)',
  ["proc:kill"] = 'local p = fwsh.proc.spawn({"touch", MARK .. "/spawned"}) p:wait(5) pcall(p.kill, p)',
  ["proc:wait"] = 'fwsh.proc.spawn({"touch", MARK .. "/spawned"}):wait(5)',
  ["proc:stop"] = 'local p = fwsh.proc.spawn({"touch", MARK .. "/spawned"}) p:wait(5) p:stop()',
  ["proc:write"] = 'local p = fwsh.proc.spawn({"tee", MARK .. "/piped"}, {pipe = true}) '
                   .. 'pcall(p.write, p, "x") p:read(1, 2) p:stop()',
  ["proc:read"] = 'local p = fwsh.proc.spawn({"touch", MARK .. "/spawned"}, {pipe = true}) '
                  .. 'p:read(1, 2) p:wait(5)',
  ["proc:running"] = 'local p = fwsh.proc.spawn({"touch", MARK .. "/spawned"}) p:wait(5) p:running()',
  ["proc:pid"] = 'local p = fwsh.proc.spawn({"touch", MARK .. "/spawned"}) p:pid() p:wait(5)',
  ["fwsh.proc.stop_lab"] = 'fwsh.proc.spawn({"touch", MARK .. "/spawned"}):wait(5) fwsh.proc.stop_lab()',
  ["fwsh.proc.clock"] = 'fwsh.proc.clock()',
  ["fwsh.route.add"] = 'fwsh.route.add{dst = "10.9.2.0/24", via = "10.9.0.2"}',
  ["fwsh.route.ensure"] = 'fwsh.route.ensure{dst = "10.9.3.0/24", dev = "d0"}',
  ["fwsh.route.delete"] = 'fwsh.route.delete{dst = "10.9.9.0/24", via = "10.9.0.2"}',
  ["fwsh.route.list"] = 'fwsh.route.list{}',
  ["fwsh.show"] = 'fwsh.show{print = false} fwsh.show{json = true, print = false}',
  ["fwsh.state"] = 'fwsh.state()',
  ["fwsh.tap.add"] = 'fwsh.tap.add("nt0", {bridge = "d0"})',
  ["fwsh.tap.ensure"] = 'fwsh.tap.ensure("nt1")',
  ["fwsh.tap.get"] = 'fwsh.tap.get("dt0")',
  ["fwsh.tap.list"] = 'fwsh.tap.list()',
  ["fwsh.transaction"] = 'fwsh.transaction(function() fwsh.bridge.add("tb0") fwsh.link.get("dv0"):delete() end)',
  ["fwsh.keep"] = 'fwsh.bridge.add("kb0") fwsh.keep()',
  ["fwsh.veth.add"] = 'fwsh.veth.add("nv0", "nv1", {netns = OTHER})',
  ["fwsh.veth.ensure"] = 'fwsh.veth.ensure("nv2", "nv3", {mtu = 1400}) fwsh.veth.ensure("dv0", "dv1")',
  ["fwsh.vxlan.add"] = 'fwsh.vxlan.add("nx0", {id = 42, dev = "d0"})',
  ["fwsh.vxlan.ensure"] = 'fwsh.vxlan.ensure("nx1", {id = 43, dev = "d0"}) fwsh.vxlan.ensure("nx1", {id = 43})',
  ["fwsh.wait"] = 'fwsh.wait{link = "d0", exists = true, timeout = 1} '
                  .. 'pcall(fwsh.wait, {run = {"touch", MARK .. "/waited"}, timeout = 1})',
  -- the shell's own: given on standard input to fwsh -i
  ["help"] = { stdin = 'help(fwsh.bridge.add)\nhelp(fwsh.proc)\n' },
}

-- What a dry run of the lab library and of the program's own commands must
-- not change either (argv for the fwsh program; ROOT etc. are filled in).
local programs = {
  { "node.sysctl", { "-e", 'require("fwsh.node").sysctl("net/ipv4/ip_forward", "1")' } },
  { "fwsh --dry-run down", { "down", "dlab" } },
  { "scripts/host-setup.lua", { "@host-setup", "--root", "@ROOT", "--no-firewalld", "--regenerate" } },
  { "--sandbox scripts/host-setup.lua", { "--sandbox", "@host-setup", "--root", "@ROOT", "--no-firewalld" } },
  { "scripts/lab/firewall.lua export", { "@firewall", "export", "@MARK/export" } },
}

-- argv's output, its lines sorted; only those with the text want in it, if given.
local function lines(argv, want)
  local out = H.run(argv)
  local t = {}
  for l in out:gmatch("[^\n]+") do
    if not want or l:find(want, 1, true) then t[#t + 1] = l end
  end
  table.sort(t)
  return table.concat(t, "\n")
end

-- Everything a dry run must leave as it was, read by iproute2, tc, nft,
-- /proc and find: a string per part, to compare and to show.
local function snapshot(env)
  local ns, s = env.ns, {}
  local links = {}
  for _, l in ipairs(H.ip(ns, "-d", "link", "show")) do
    local info = l.linkinfo or {}
    links[#links + 1] = table.concat({ l.ifname, info.info_kind or "-", l.master or "-",
      tostring(H.has_flag(l, "UP")), tostring(l.mtu), l.ifalias or "-", l.address or "-",
      tostring(l.group) }, " ")
  end
  table.sort(links)
  s.links = table.concat(links, "\n")
  local addrs = {}
  for _, l in ipairs(H.ip(ns, "addr", "show")) do
    for _, a in ipairs(l.addr_info or {}) do
      if a.scope ~= "link" then addrs[#addrs + 1] = l.ifname .. " " .. a["local"] .. "/" .. a.prefixlen end
    end
  end
  table.sort(addrs)
  s.addrs = table.concat(addrs, "\n")
  local routes = {}
  for _, r in ipairs(H.ip(ns, "route", "show", "table", "all")) do
    if not (r.dst or ""):match("^fe80") and r.table ~= "local" then
      routes[#routes + 1] = table.concat({ r.dst or "-", r.gateway or "-", r.dev or "-", tostring(r.table) }, " ")
    end
  end
  table.sort(routes)
  s.routes = table.concat(routes, "\n")
  s.netns = table.concat(H.netns_names(), " ")
  s.qdiscs = lines({ "tc", "-n", ns, "qdisc", "show" })
  s.nft = lines({ "ip", "netns", "exec", ns, "nft", "list", "tables" })
  -- one program for all of them: each is "path=value", or "path=" if absent
  s.sysctls = H.run({ "ip", "netns", "exec", ns, "sh", "-c",
    'cd /proc/sys && for f; do printf "%s=%s\\n" "$f" "$(cat "$f" 2>/dev/null)"; done', "sh",
    "net/ipv4/ip_forward", "net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/d0/disable_ipv6",
    "net/ipv4/conf/all/rp_filter", "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables" })
  local files = {}
  for l in H.run({ "find", env.root, env.labs, env.mark, "-printf", "%y %m %s %p\n" }):gmatch("[^\n]+") do
    local path = l:match("^f %d+ %d+ (.*)$")
    files[#files + 1] = l .. (path and " " .. (H.read_file(path) or "?"):gsub("%c", "."):sub(1, 200) or "")
  end
  table.sort(files)
  s.files = table.concat(files, "\n")
  s.modules = H.read_file("/proc/modules") or ""
  -- what this case's programs would run with (every other spec's have other paths)
  s.procs = lines({ "ps", "-e", "-o", "args=" }, env.mark)
  return s
end

-- A namespace with a lab in it, a second namespace, a fake root with boot
-- files fwsh wrote, a lab root with a lab directory: each case gets its own.
local function fixture(env)
  env.tmp = H.run({ "mktemp", "-d", "/tmp/dryrun-spec.XXXXXX" }):gsub("\n$", "")
  env.root, env.labs, env.mark = env.tmp .. "/root", env.tmp .. "/labs", env.tmp .. "/MARK"
  assert(select(2, H.run({ "mkdir", "-p", env.root .. "/etc/default", env.root .. "/etc/modules-load.d",
                             env.root .. "/boot/grub", env.labs, env.mark })))
  H.write_file(env.root .. "/etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet"\n')
  local id = math.random(1, 1e9)
  env.ns, env.other = "fwsh-dry-" .. id, "fwsh-dryo-" .. id
  for _, n in ipairs({ env.ns, env.other }) do assert(select(2, H.run({ "ip", "netns", "add", n }))) end
  local _, made = H.run({ "ip", "-n", env.ns, "-batch", "-" }, { stdin = table.concat({
    "link set lo up",
    "link add d0 type bridge",
    "link set d0 up",
    "link add dv0 type veth peer name dv1",
    "link set dv0 master d0",
    "link add dx0 type veth peer name dx1",
    "link set dx1 up",
    "tuntap add dt0 mode tap",
    "addr add 10.9.0.1/24 dev d0",
    "route add 10.9.9.0/24 via 10.9.0.2", "" }, "\n") })
  assert(made, "the fixture's ip -batch")
  -- What fwsh made for real, for the cases that undo or tear down: a lab's
  -- link and state directory, boot files.
  local _, ok = env.run({ "--lab", "dlab", "-e", string.format([[
    fwsh.bridge.add("lb0")
    local f = assert(io.open(fwsh.lab_dir() .. "/kept", "w")) f:write("x") f:close()
    fwsh.boot.persist({"bridge"}, {root = %q})]], env.root) })
  assert(ok, "the fixture's real run")
end

local function fixture_end(env)
  for _, n in ipairs({ env.ns, env.other, "nn0", "nn1" }) do
    if n then H.run({ "ip", "netns", "delete", n }) end
  end
  if env.tmp and env.tmp:match("^/tmp/dryrun%-spec%.") then
    H.run({ "rm", "-rf", "--one-file-system", "--", env.tmp })
  end
end

-- fwsh in the case's namespace, with the case's lab root.
local function fwsh_env(env)
  return function(args, opts)
    local argv = { "ip", "netns", "exec", env.ns, "env", "FWSH_LAB_ROOT=" .. env.labs }
    if os.getenv("LD_PRELOAD") then argv[#argv + 1] = "LD_PRELOAD=" .. os.getenv("LD_PRELOAD") end
    argv[#argv + 1] = H.build .. "/fwsh"
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    return H.run(argv, opts)
  end
end

-- Compares two snapshots; returns the lines of each part that differ.
local function diff(a, b)
  local out = {}
  local function set(s)
    local t = {}
    for l in s:gmatch("[^\n]+") do t[l] = true end
    return t
  end
  for k, v in pairs(a) do
    if b[k] ~= v then
      local x, y = set(v), set(b[k])
      for l in pairs(x) do if not y[l] then out[#out + 1] = k .. " gone: " .. l end end
      for l in pairs(y) do if not x[l] then out[#out + 1] = k .. " new:  " .. l end end
    end
  end
  table.sort(out)
  return table.concat(out, "\n")
end

local function check(env, name, argv, fails, stdin)
  local before = env.state or snapshot(env)
  env.state = nil
  local out, ok = env.run(argv, { stderr = true, stdin = stdin })
  -- The processes a real run left go on for a moment: give them the time to show.
  H.run({ "sleep", "0.1" })
  local after = snapshot(env)
  local changed = diff(before, after)
  assert(changed == "", string.format("%s under --dry-run changed:\n%s\nits output:\n%s", name, changed, out))
  env.state = after -- the next case's before: nothing changed
  if not fails then assert(ok, string.format("%s failed under --dry-run:\n%s", name, out)) end
end

describe("fwsh --dry-run", function()
  local names = reference()

  it("has a case for every function and method of README's reference", function()
    local missing = {}
    for _, name in ipairs(names) do
      if not cases[name] then missing[#missing + 1] = name end
    end
    assert.are.same({}, missing)
    assert.truthy(#names > 80, "the reference was read: " .. #names .. " entries")
  end)

  -- One fixture while nothing changes it; a case that changed something gets
  -- the next one a fresh one.
  local shared
  local function env_now()
    if not shared then
      shared = {}
      shared.run = fwsh_env(shared)
      local ok, err = pcall(fixture, shared)
      if not ok then
        fixture_end(shared) -- what it made of it
        shared = nil
        error(err, 0)
      end
    end
    return shared
  end
  local function env_done(ok)
    if not ok and shared then
      fixture_end(shared)
      shared = nil
    end
  end
  teardown(function() env_done(false) end)

  for _, name in ipairs(names) do
    local case = cases[name]
    if case then
      if type(case) == "string" then case = { code = case } end
      it("changes nothing in " .. name, function()
        local env = env_now()
        local prelude = string.format("ROOT, LABS, OTHER, MARK, BUS = %q, %q, %q, %q, %q ", env.root,
                                      env.labs, env.other, env.mark, "unix:path=" .. env.tmp .. "/no-bus")
        local argv = case.stdin and { "--lab", "dlab", "--dry-run", "-i" }
          or { "--lab", "dlab", "--dry-run", "-e", prelude .. case.code }
        local ok, err = pcall(check, env, name, argv, case.fails, case.stdin)
        env_done(ok)
        assert(ok, err)
      end)
    end
  end

  for _, p in ipairs(programs) do
    it("changes nothing in " .. p[1], function()
      local env = env_now()
      local argv = { "--dry-run" }
      for _, a in ipairs(p[2]) do
        argv[#argv + 1] = a == "@ROOT" and env.root
          or a == "@host-setup" and H.root .. "/scripts/host-setup.lua"
          or a == "@firewall" and H.root .. "/scripts/lab/firewall.lua"
          or a == "@MARK/export" and env.mark .. "/export" or a
      end
      local ok, err = pcall(check, env, p[1], argv, p[1]:match("host%-setup"))
      env_done(ok)
      assert(ok, err)
    end)
  end
end)

-- firewalld's zones, asked of a firewalld of the spec's own (firewalld_sandbox):
-- the cases above only show that fwsh does not reach one it cannot find.
describe("fwsh --dry-run with a firewalld", function()
  local Sandbox = require "firewalld_sandbox"
  if Sandbox.missing then
    pending("needs " .. Sandbox.missing .. " (tools/deps.sh installs firewalld and dbus-daemon)")
    return
  end
  local fw

  setup(function()
    fw = Sandbox.start_running(60)
    fw:run(function()
      for _, b in ipairs({ "fb0", "fb1" }) do H.fwsh.bridge.add(b, { grounding = false }) end
    end)
    for _, perm in ipairs({ {}, { "--permanent" } }) do
      local argv = { "--zone=trusted", "--add-interface=fb1" }
      if perm[1] then table.insert(argv, 1, perm[1]) end
      assert(select(2, fw:cmd(table.unpack(argv))))
    end
  end)

  teardown(function()
    if fw then fw:stop() end
  end)

  local function zones()
    local t = {}
    for _, z in ipairs({ "trusted", "block", "public" }) do
      t[#t + 1] = z .. ": " .. (fw:cmd("--zone=" .. z, "--list-interfaces"))
      t[#t + 1] = z .. " (permanent): " .. (fw:cmd("--permanent", "--zone=" .. z, "--list-interfaces"))
    end
    return table.concat(t, "\n")
  end

  it("changes no zone, runtime or permanent, and shows the firewall-cmd lines", function()
    local before = zones()
    local code = string.format([[
local o = { bus = %q, runtime = true, permanent = true }
assert(fwsh.firewalld.add("trusted", "fb0", o).runtime)
o.move = true
assert(fwsh.firewalld.add("block", "fb1", o).permanent)
o.move = nil
fwsh.firewalld.remove("trusted", "fb1", o)]], fw.bus)
    local out, ok = H.fwsh_cmd({ "--dry-run", "-e", code })
    assert.is_true(ok, out)
    assert.are.equal(before, zones())
    assert.truthy(out:find("firewall-cmd --zone=trusted --add-interface=fb0\n", 1, true), out)
    assert.truthy(out:find("firewall-cmd --zone=trusted --add-interface=fb0 --permanent\n", 1, true), out)
    assert.truthy(out:find("firewall-cmd --zone=block --change-interface=fb1\n", 1, true), out)
  end)
end)
