-- ftp-survives.lua - does an FTP session survive a failover? FTP's data
-- connection is an expectation of its control connection, made by the
-- conntrack helper on the master when it sees PASV's answer or PORT; a new
-- master knows the control connection from conntrackd, but is its helper
-- there, and with NAT, the addresses PASV/PORT carry rewritten?
--
-- For each case of helper by rule (yes: a `ct helper` object and `ct helper
-- set` on port 21, conntrackd replicating expectations; no: no helper) x NAT
-- (off/on), in passive and active mode: a transfer with no failure first
-- (baseline), then the master fails (power)
--   during    while a 4 MiB file is being transferred (1 MiB/s)
--   between   after the client logged in, before PASV/PORT and the data connection
-- and the client goes on. Per run: the control connection (survived: the same
-- one answered a NOOP after the transfer; reconnected; lost) and the transfer
-- (survived: complete and equal to the server's file). Then the table.
--
-- usage: fwsh --sandbox scripts/lab/scenarios/ftp-survives.lua [--helper yes|no]
--            [--nat on|off] [--mode passive|active] [--phase during|between]
--            [--backend netns|qemu] [--expect EXPR] [--json FILE] [--junit FILE]
-- (each of the first four narrows the table to that case; by default all of
-- it. The rest is firewall.scenario's, which builds a lab per case: a
-- verdict's step is a case, its values helper, nat, control, transfer)
local firewall = require "fwsh.firewall"
local errors = require "fwsh.errors"

-- ftp-survives' own options (its --nat and --mode are not the runner's),
-- taken out; the others go to the runner
local usage = "--helper yes|no, --nat on|off, --mode passive|active, --phase during|between"
local only, args = {}, {}
local argv, i = { ... }, 1
while argv[i] do
  local a, v = argv[i], argv[i + 1]
  local allowed = ({ ["--helper"] = { yes = 1, no = 1 }, ["--nat"] = { on = 1, off = 1 },
                     ["--mode"] = { passive = 1, active = 1 }, ["--phase"] = { during = 1, between = 1 } })[a]
  if allowed then
    if not (v and allowed[v]) then errors.raise("ftp-survives", a, "needs one of its values (" .. usage .. ")", 0) end
    only[a:sub(3)] = v
    i = i + 2
  else
    args[#args + 1] = a
    i = i + 1
  end
end
local function pick(key, values)
  if only[key] then return { only[key] } end
  return values
end

-- The backup's conntrackd holds, in its external cache, a connection whose
-- line matches pattern (a Lua pattern over `conntrackd -e`'s output).
local function replicated(lab, fw, pattern)
  local n = lab.nodes[fw]
  local conntrackd = require "fwsh.conntrackd"
  return (fwsh.wait{ fn = function()
    local r = n:run(conntrackd.ctl(n.conntrackd_conf, "-e"))
    return r.ok and r.out:find(pattern) ~= nil
  end, interval = 0.05, timeout = 10 * lab.patience })
end

local function until_phase(t, want, timeout)
  local ok = pcall(fwsh.wait, { fn = function() return t.phase() == want or t.phase() == "done" end,
                                interval = 0.01, timeout = timeout })
  return ok and t.phase() == want
end

-- One run: the transfer, with the master failing in phase (nil: no failure).
local function run(lab, mode, phase)
  local master, backup = lab:master()
  if not master then errors.raise("ftp-survives", mode, "no firewall holds the virtual IPs", 0) end
  local dropped0 = lab:dropped()
  local t = lab:ftp_get{ mode = mode, pause = phase == "between" and 3 * lab.patience or 0 }
  local r = { mode = mode, phase = phase or "none" }
  if phase then
    local want = phase == "during" and "transferring" or "logged-in"
    if not until_phase(t, want, 10 * lab.patience) then
      r.note = "never " .. want .. " (" .. t.phase() .. ")"
    else
      -- what the backup must know before the master goes: the control
      -- connection, and during a transfer, the data connection too
      local ok = pcall(replicated, lab, backup.name, "dport=21 ")
      if ok and phase == "during" then
        ok = pcall(replicated, lab, backup.name, mode == "passive" and "dport=400%d%d " or "sport=20 ")
        lab:hold(0.5)
      end
      if not ok then r.note = "not replicated to " .. backup.name .. " in time" end
      master:fail("power")
      lab:wait_master(backup.name)
      lab:wait_master_server(backup.name)
      r.from, r.to = master.name, backup.name
    end
  end
  for k, v in pairs(lab:ftp_result(t, 40 * lab.patience)) do r[k] = v end
  r.dropped = lab:dropped()
  if phase and r.from then
    master:start()
    lab:wait_ready(master.name)
  end
  r.dropped_before = dropped0
  return r
end

local dropped = firewall.dropped_since

local rows, auto = {}, nil

firewall.scenario{
  args = args,
  title = "ftp-survives: the master fails (power) during an FTP session",
  reps = 1,
  -- a lab per case: helper by rule (yes, no) x NAT (off, on)
  variants = function()
    local list = {}
    for _, helper in ipairs(pick("helper", { "yes", "no" })) do
      for _, nat in ipairs(pick("nat", { "off", "on" })) do
        list[#list + 1] = { ftp = helper == "yes" and "rule" or "none", nat = nat == "on" }
      end
    end
    return list
  end,
  setup = function(lab)
    lab:ftp_serve()
    if not auto then
      -- does this kernel still assign helpers by port by itself? (the row
      -- "helper by rule: no" relies on that where it does)
      local r = lab.nodes["fw-1"]:run{ "cat", "/proc/sys/net/netfilter/nf_conntrack_helper" }
      auto = r.ok and ("nf_conntrack_helper=" .. r.out:match("%d")) or "absent (no nf_conntrack_helper)"
      auto = auto .. ", kernel " .. lab.nodes["fw-1"]:run{ "uname", "-r" }.out:match("%S+")
    end
  end,
  run = function(lab, o)
    local helper, nat = o.ftp == "rule" and "yes" or "no", o.nat and "on" or "off"
    local case = { helper = helper, nat = nat, transfer = "survived", control = "survived" }
    for _, mode in ipairs(pick("mode", firewall.ftp_modes)) do
      local base = run(lab, mode, nil)
      rows[#rows + 1] = { helper = helper, nat = nat, r = base }
      if base.transfer ~= "survived" then
        base.note = "fails with no failover: the data connection is dropped (" ..
                    dropped(base.dropped_before, base.dropped) .. " packets dropped by the forward chains)"
        case.transfer, case.control = "failed", base.control ~= "survived" and base.control or case.control
        case.why = case.why or (mode .. " mode fails with no failover")
      else
        for _, phase in ipairs(pick("phase", { "during", "between" })) do
          local r = run(lab, mode, phase)
          rows[#rows + 1] = { helper = helper, nat = nat, r = r }
          if r.transfer ~= "survived" then
            case.transfer = "failed"
            case.why = case.why or (mode .. ", " .. phase)
          end
          if r.control ~= "survived" then case.control = r.control end
        end
      end
    end
    io.stderr:write(string.format("helper by rule %s, nat %s: transfer %s\n", helper, nat, case.transfer))
    return case
  end,
  report = function(title, cases)
    print(title)
    print(string.format("%-6s %-4s %-8s %-8s %-6s %-6s %-12s %-9s %9s %8s  %s", "helper", "nat", "mode", "phase",
                        "from", "to", "control", "transfer", "bytes", "dropped", "note"))
    for _, row in ipairs(rows) do
      local r = row.r
      print(string.format("%-6s %-4s %-8s %-8s %-6s %-6s %-12s %-9s %9d %8d  %s", row.helper, row.nat, r.mode,
                          r.phase, r.from or "-", r.to or "-", r.control, r.transfer, r.bytes,
                          dropped(r.dropped_before, r.dropped), r.note or ""))
    end
    print("")
    print("automatic helper assignment: " .. auto)
    print("helper by rule x NAT:")
    for _, c in ipairs(cases) do
      print(string.format("helper_by_rule: %-3s nat: %-3s ftp_control: %-11s ftp_transfer: %s%s", c.helper, c.nat,
                          c.control, c.transfer, c.why and ("  (" .. c.why .. ")") or ""))
    end
    return true -- a case that fails is a finding of the table, not a failed run
  end,
}
