-- cli.lua - the firewall lab from the command line: the options every
-- scenario shares (firewall.args), the capture they may keep, the scenario
-- runner (build, the runs, capture, plots, report, verdict) and
-- scripts/lab/firewall.lua's main.
local fwsh = fwsh or require "fwsh"
local T = require "fwsh.firewall.topology"
local build = require "fwsh.firewall.build"
local build_options = require "fwsh.firewall.build_options"
local traffic = require "fwsh.firewall.traffic"
local report = require "fwsh.firewall.report"
local errors = require "fwsh.errors"

local M = {}

--- firewall.args(arg) -> options from the command line: --master fw-2,
--  --advert SECONDS, --version 2|3, --reps N, --backend netns|qemu, --loose,
--  --fail power|hang (fw1-dies), --mode MODE (failover.lua: see
--  lab:failover), --down SECONDS (how long a cable stays pulled), --nat,
--  --fix on|off (o.fix: the lab's fix of the reset window, on by default),
--  --display vnc|spice (a screen on each VM), --capture FILE (the
--  scenario's packets on br2, or on --capture-link LINK, kept as evidence
--  in FILE: see firewall.capture), --plot FILE.svg (each run's outage
--  timeline, fwsh.plot: FILE.svg, or FILE-N.svg for run N of several),
--  --expect EXPR (repeatable: o.expect, fwsh.verdict's expectations),
--  --json FILE, --junit FILE (the verdict, written by firewall.scenario);
--  --config DIR (the firewalls run DIR/fw-1/keepalived.conf, conntrackd.conf,
--  ruleset.nft and fw-2's: see firewall.build's config), --map NAME=ethN
--  (repeatable: an interface name of those files and the lab's port it is);
--  --image PATH | fw-1=PATH (repeatable: the firewalls' own VM images, see
--  firewall.build's image), with --kernel FILE, --initrd FILE, --append
--  TEXT (direct boot of an image with no boot loader), --ready-line
--  PATTERN, --ready-port N, --ready-timeout S (when such a VM is ready);
--  --cable qmp|tap (how a VM's cable is pulled: node.new's qemu.cable);
--  --keep DIR (the lab's files copied into DIR when it closes: firewall.build's keep);
--  extra: { ["--loss"] = "loss", ["--tsv"] = { "tsv", "a file" }, ... }, a
--  scenario's own options: numbers, or (a table: the key and what it is) words
local function hosts_arg(v)
  local n = math.tointeger(tonumber(v))
  if n then return n == 2 and n or nil end
  return require("fwsh.hosts").read(v)
end

function M.args(argv, extra)
  local usage = "--master fw-1|fw-2, --advert S, --version 2|3, --reps N, --backend netns|qemu, "
                .. "--fail power|hang, --mode " .. table.concat(traffic.modes, "|")
                .. ", --down S, --loose, --nat, --fix on|off, "
                .. "--display vnc|spice, --capture FILE, --capture-link br0|br1|br2, --plot FILE.svg, "
                .. "--hosts 2|FILE, --expect EXPR, --json FILE, --junit FILE, --config DIR, --map NAME=eth0|eth1|eth2, "
                .. "--image [fw-N=]PATH, --kernel FILE, --initrd FILE, --append TEXT, --ready-line PATTERN, "
                .. "--ready-port N, --ready-timeout S, --cable qmp|tap, --keep DIR"
  local function value(a, v, check, what)
    local x = v and check(v)
    if x == nil then errors.raise("firewall.args", a, string.format("needs %s (%s)", what, usage), 0) end
    return x
  end
  local function number(v) return tonumber(v) end
  local function count(v) local n = math.tointeger(tonumber(v)) return n and n > 0 and n or nil end
  local function one_of(...)
    local set = {}
    for _, x in ipairs({ ... }) do set[x] = x end
    return function(v) return set[v] end
  end
  local o = {}
  local i = 1
  while argv and argv[i] do
    local a, v = argv[i], argv[i + 1]
    if a == "--master" then o.master = value(a, v, one_of("fw-1", "fw-2"), "fw-1 or fw-2"); i = i + 2
    elseif a == "--advert" then o.advert_int = value(a, v, number, "seconds"); i = i + 2
    elseif a == "--version" then o.version = value(a, v, function(x) return ({ ["2"] = 2, ["3"] = 3 })[x] end, "2 or 3"); i = i + 2
    elseif a == "--reps" then o.reps = value(a, v, count, "a count"); i = i + 2
    elseif a == "--backend" then o.backend = value(a, v, one_of("netns", "qemu"), "netns or qemu"); i = i + 2
    elseif a == "--loose" then o.tcp_loose = true; i = i + 1
    elseif a == "--nat" then o.nat = true; i = i + 1
    elseif a == "--fix" then o.fix = value(a, v, one_of("on", "off"), "on or off"); i = i + 2
    elseif a == "--plot" then o.plot = value(a, v, function(x) return x ~= "" and x or nil end, "a file"); i = i + 2
    elseif a == "--display" then o.display = value(a, v, one_of("vnc", "spice"), "vnc or spice"); i = i + 2
    elseif a == "--fail" then o.fail = value(a, v, one_of("power", "hang"), "power or hang"); i = i + 2
    elseif a == "--mode" then o.mode = value(a, v, one_of(table.unpack(traffic.modes)), "a mode"); i = i + 2
    elseif a == "--down" then o.down = value(a, v, number, "seconds"); i = i + 2
    elseif a == "--capture" then o.capture = value(a, v, function(x) return x ~= "" and x or nil end, "a file"); i = i + 2
    elseif a == "--hosts" then o.hosts = value(a, v, hosts_arg, "2, or a file of hosts"); i = i + 2
    elseif a == "--capture-link" then o.capture_link = value(a, v, one_of("br0", "br1", "br2"), "br0, br1 or br2"); i = i + 2
    elseif a == "--expect" then
      o.expect = o.expect or {}
      o.expect[#o.expect + 1] = value(a, v, function(x) return x ~= "" and x or nil end, "an expectation")
      i = i + 2
    elseif a == "--config" then o.config = value(a, v, function(x) return x ~= "" and x or nil end, "a directory"); i = i + 2
    elseif a == "--map" then
      local from, to = value(a, v, function(x) return x:match("^([%w][%w._-]*)=(eth[012])$") and x end,
                             "NAME=eth0|eth1|eth2"):match("^(.-)=(.*)$")
      o.map = o.map or {}
      o.map[from] = to
      i = i + 2
    elseif a == "--image" then
      local img = value(a, v, function(x) return x ~= "" and x or nil end, "a disk image, or fw-1=PATH")
      local name, path = img:match("^(fw%-%d)=(.+)$")
      if type(o.image) == "string" or (o.image and not name) then
        errors.raise("firewall.args", a, "one image for both (PATH), or one per firewall (fw-1=PATH), not both", 0)
      end
      if name then o.image = o.image or {}; o.image[name] = path else o.image = img end
      i = i + 2
    elseif a == "--kernel" or a == "--initrd" or a == "--append" or a == "--ready-line" then
      o[a:sub(3):gsub("-", "_")] = value(a, v, function(x) return x ~= "" and x or nil end, "a value"); i = i + 2
    elseif a == "--ready-port" then
      o.ready_port = value(a, v, function(x) local n = count(x) return n and n < 65536 and n or nil end, "a TCP port")
      i = i + 2
    elseif a == "--cable" then o.cable = value(a, v, one_of("qmp", "tap"), "qmp or tap"); i = i + 2
    elseif a == "--ready-timeout" then o.ready_timeout = value(a, v, number, "seconds"); i = i + 2
    elseif a == "--keep" then o.keep = value(a, v, function(x) return x ~= "" and x or nil end, "a directory"); i = i + 2
    elseif a == "--json" then o.json = value(a, v, function(x) return x ~= "" and x or nil end, "a file"); i = i + 2
    elseif a == "--junit" then o.junit = value(a, v, function(x) return x ~= "" and x or nil end, "a file"); i = i + 2
    elseif extra and type(extra[a]) == "table" then
      o[extra[a][1]] = value(a, v, function(x) return x ~= "" and x or nil end, extra[a][2] or "a word"); i = i + 2
    elseif extra and extra[a] then o[extra[a]] = value(a, v, number, "a number"); i = i + 2
    else errors.raise("firewall.args", a, "unknown option (" .. usage .. ")", 0) end
  end
  return o
end

--- firewall.capture(lab, o) -> capture or nil: with --capture FILE (o.capture),
--  lab:capture of br2 (o.capture_link) into FILE, for a scenario to keep
--  what went over the wire during its runs; firewall.capture_done(capture,
--  o) stops it and prints "capture: FILE (N packets)"
function M.capture(lab, o)
  if not o.capture then return nil end
  return lab:capture(o.capture_link or "br2", { file = o.capture })
end

function M.capture_done(c, o)
  if not c then return end
  local n, dropped = c:stop()
  print(string.format("capture: %s (%d packets%s)", o.capture, n,
                      dropped > 0 and string.format(", %d dropped by the kernel", dropped) or ""))
end

--- firewall.main(...) -> builds the lab from the command line's options (see
--  firewall.args), shows the master and a ping through it, tears it down;
--  main("export", DIR, ...) writes the configuration the lab would run with
--  those options as plain files instead (firewall.export), building nothing
function M.main(...)
  local argv = { ... }
  if argv[1] == "export" then
    if not argv[2] or argv[2]:find("^%-%-") then
      errors.raise("firewall export", argv[2], "a directory to write to expected: export DIR [options]", 0)
    end
    local o = M.args({ table.unpack(argv, 3) })
    for _, path in ipairs(require("fwsh.firewall.config").export(argv[2], o)) do print(path) end
    return
  end
  local o = M.args(argv)
  local lab <close> = build.build(build_options.pick(o))
  if lab.backend == "qemu" then
    for _, name in ipairs({ "fw-1", "fw-2", "client" }) do
      local n = lab.nodes[name]
      print(string.format("%s: qemu pid %d, %s, booted and configured in %.1f s%s", name, n.vm:pid(),
                          n.accel, n.boot_s or -1, n.display and (", display " .. n.display) or ""))
    end
  end
  local master = lab:master()
  print(string.format("master: %s (VRRP MAC %s on br1)", master and master.name or "none", T.vmac.client))
  local r = lab.nodes.client:run{ "ping", "-c3", "-i0.2", T.server }
  io.write(r.out)
  if not master.agentless then -- its own image: nothing is asked inside
    io.write(lab.nodes[master.name]:run{ "nft", "list", "counter", "inet", "fwsh", "forward_dropped" }.out)
  end
end


-- A run's result as a verdict step's values: its numbers and words, flat
-- (a number read as text is a number; the probe's timeline, the raw lines
-- and the clock readings stay out).
local OUT = { replies = true, client_line = true, server_line = true, started = true, gap_at = true }
local function measured(r)
  local v = {}
  for k, x in pairs(r) do
    if type(k) == "string" and not OUT[k] then
      if type(x) == "string" then v[k] = tonumber(x) or x
      elseif type(x) == "number" then v[k] = x
      elseif type(x) == "boolean" then v[k] = x and "yes" or "no" end
    end
  end
  return v
end

-- The first failed check, as the sentence a structured error carries.
local function first_failure(v)
  for _, line in ipairs(v:lines()) do
    if line:find("^expect .*: fail") then return line:match("^expect (.*)$") end
  end
  return "an expectation failed"
end

--- firewall.scenario{ args = { ... }, title = TEXT | function(o) -> TEXT,
--  run = function(lab, o, i) -> result, reps = N | function(o) -> N | nil,
--  setup = function(lab, o), prepare = function(o) (the options read,
--  before anything is built), after = function(lab, o, results),
--  options = { ["--loss"] = "loss" }, variants = function(o) -> { {OPTIONS},
--  ... } (a lab each, built with those options over o's; reps runs in each),
--  report = function(title, results) -> survived (instead of firewall.report),
--  survive = "the TCP stream did not survive every run" | nil,
--  timeline = STEPS, seed = N, verbs = {...} (a fault timeline instead of
--  run: see fwsh.firewall.timeline_run) } -> results:
--  what every scenario script does around its own experiment. It reads the
--  command line (firewall.args; options are the scenario's own numbers),
--  builds the lab, keeps --capture's packets, calls run for each of --reps
--  runs (reps, when the scenario fixes it), plots (--plot), prints the
--  report; then, with --expect, --json or --junit, the verdict: each run is
--  a step "run N" whose values are the result's numbers and words
--  (outage_ms, mac_ms, lost, stream, dropped...) and whose files are its
--  plot and the capture. Raises (an fwsh error: op scenario, the title,
--  the first failed expectation and its step) when an expectation failed,
--  or with survive's words when a run's TCP stream did not survive.
function M.scenario(s)
  -- a timeline's scenario: its runs, report and verdict steps (timeline_run.scenario)
  if s.timeline then s = require("fwsh.firewall.timeline_run").scenario(s) end
  local o = M.args(s.args or {}, s.options)
  if o.config and not o.master then
    -- the title names who starts master: with --config, the files say (what
    -- is wrong with them, the build says)
    local ok, f = pcall(function()
      local config = require "fwsh.firewall.config"
      local src = config.source(o)
      return config.facts(src.texts, src.files)
    end)
    if ok then o.master = f.master end
  end
  if s.prepare then s.prepare(o) end
  local title = type(s.title) == "function" and s.title(o) or s.title
  local verdict = require "fwsh.verdict"
  local v = verdict.new(title, o.expect or {}) -- a bad expectation is refused before any build
  local results, files = {}, {}
  local reps = type(s.reps) == "function" and s.reps(o) or s.reps or o.reps or 1
  -- one lab, or one per variant, each built with the variant's options over
  -- the command line's (ftp-survives: helper by rule x NAT)
  for _, variant in ipairs(s.variants and s.variants(o) or { {} }) do
    local vo = {}
    for k, x in pairs(o) do vo[k] = x end
    for k, x in pairs(variant) do vo[k] = x end
    -- build takes its own options; the rest (reps, plot, the scenario's) are the run's
    local lab <close> = build.build(build_options.pick(vo))
    if s.setup then s.setup(lab, vo) end
    local capture = M.capture(lab, vo)
    for _ = 1, reps do
      local r = s.run(lab, vo, #results + 1)
      results[#results + 1] = r
    end
    M.capture_done(capture, vo)
    if s.after then s.after(lab, vo, results) end
  end
  for i = 1, #results do
    files[i] = {}
    if o.plot then
      files[i][1] = #results == 1 and o.plot or (o.plot:gsub("%.svg$", "") .. "-" .. i .. ".svg")
    end
    if o.capture then files[i][#files[i] + 1] = o.capture end
  end
  if o.plot then report.plot(results, o.plot) end
  local survived = (s.report or report.report)(title, results)
  -- a scenario's own verdict steps (and expectations: then it returns true)
  local own = s.verdict and s.verdict(v, results, files, measured)
  if o.expect or o.json or o.junit or own then
    if not s.verdict then
      for i, r in ipairs(results) do v:step("run " .. i, measured(r), files[i]) end
    end
    for _, line in ipairs(v:lines()) do print(line) end
    v:write{ json = o.json, junit = o.junit }
    if not v:passed() then errors.raise("scenario", title, "expect " .. first_failure(v), 0) end
  end
  if s.survive and not survived then errors.raise("scenario", title, s.survive, 0) end
  return results
end

return M
