-- host-setup.lua - the seed's host setup after the bridges (scripts/seed.lua),
-- re-runnable: each step looks first and changes only what is not right yet.
--
--   1. br_netfilter and nf_conntrack_bridge in the kernel, loaded through
--      libkmod unless loaded or built in already: filtering at bridge ports
--      with iptables' physdev match or the nftables bridge family needs them;
--   2. bridged traffic through iptables and ip6tables (bridge-nf-call-*);
--   3. both modules loaded at boot: ROOT/etc/modules-load.d/fwsh.conf and
--      rd.driver.pre= in GRUB_CMDLINE_LINUX of ROOT/etc/default/grub, each
--      module once however often this runs (the seed's `tee -a` added the
--      line again on every run);
--   4. br0, br1 and br2, those that exist, in firewalld's trusted zone, so
--      that firewalld's zones keep out of the lab's traffic: at runtime, and
--      br0 permanently too.
--
-- usage: fwsh scripts/host-setup.lua [--root DIR] [--no-firewalld] [--bus ADDRESS]
--                                    [--regenerate]
--   --root DIR      where the boot files are (default /): a mounted image
--   --no-firewalld  leave firewalld alone
--   --bus ADDRESS   firewalld's D-Bus bus (default: the system bus)
--   --regenerate    run update-grub (or grub-mkconfig) after changing grub
-- Prints one line a step: changed, ok (already right), skipped, or FAILED;
-- exits 1 if a step failed, after doing all the others.
local fwsh = fwsh or require "fwsh"

local MODULES = { "br_netfilter", "nf_conntrack_bridge" }
local SWITCHES = { "iptables", "ip6tables" }
local TRUSTED = {
  { name = "br0", permanent = true },
  { name = "br1", permanent = false },
  { name = "br2", permanent = false },
}

local root, firewalld, bus, regenerate = "/", true, nil, false
do
  local args, i = arg or {}, 1
  while args[i] do
    local a = args[i]
    if a == "--root" and args[i + 1] then root, i = args[i + 1], i + 1
    elseif a == "--no-firewalld" then firewalld = false
    elseif a == "--bus" and args[i + 1] then bus, i = args[i + 1], i + 1
    elseif a == "--regenerate" then regenerate = true
    else
      error("usage: host-setup.lua [--root DIR] [--no-firewalld] [--bus ADDRESS] [--regenerate]", 0)
    end
    i = i + 1
  end
end

local counts = { changed = 0, ok = 0, skipped = 0, FAILED = 0 }

local function report(what, status, detail)
  counts[status] = counts[status] + 1
  print(string.format("%-44s %s%s", what, status, detail and detail ~= "" and ", " .. detail or ""))
end

-- Runs fn; an fwsh error becomes a FAILED line for what, and the rest goes on.
local function step(what, fn)
  local ok, err = pcall(fn)
  if not ok then report(what, "FAILED", tostring(type(err) == "table" and err.message or err)) end
end

-- 1. The modules, in the running kernel.
for _, m in ipairs(MODULES) do
  step("module " .. m, function()
    local state, source = fwsh.module.status(m)
    if state == "loaded" or state == "builtin" then
      report("module " .. m, "ok", state .. " (" .. source .. ")")
    elseif state == "available" then
      local _, steps = fwsh.module.load(m)
      report("module " .. m, "changed", "loaded: " .. table.concat(steps, ", "))
    else
      report("module " .. m, "FAILED", "missing from this kernel (" .. source .. ")")
    end
  end)
end

-- 2. Bridged traffic through the iptables hooks, in this namespace.
for _, s in ipairs(SWITCHES) do
  local what = "sysctl net.bridge.bridge-nf-call-" .. s
  step(what, function()
    if fwsh.brnf.set(s, true) then report(what, "changed", "now 1") else report(what, "ok", "1") end
  end)
end

-- 3. At boot.
local status = fwsh.boot.status{ root = root }
step(status.modules_load.path, function()
  local r = fwsh.boot.persist(MODULES, { root = root, grub = false }).modules_load
  if r.changed then report(r.path, "changed", "added " .. table.concat(r.added, ", "))
  else report(r.path, "ok", "lists " .. table.concat(r.present, ", ")) end
end)
local grub_changed = false
if not status.grub.exists then
  report(status.grub.path, "skipped", "no such file: not a system that boots with GRUB")
else
  step(status.grub.path, function()
    local r = fwsh.boot.persist(MODULES, { root = root, modules_load = false }).grub
    grub_changed = r.changed
    if r.changed then report(r.path, "changed", "rd.driver.pre= gained " .. table.concat(r.added, ", "))
    else report(r.path, "ok", "rd.driver.pre= has " .. table.concat(r.present, ", ")) end
  end)
end
if grub_changed and regenerate then
  step("grub.cfg", function()
    local ok, run = fwsh.boot.regenerate{ root = root }
    report("grub.cfg", ok and "changed" or "FAILED",
           run.command .. (ok and "" or " exited " .. tostring(run.status or "on signal " .. run.signal)))
    io.write(run.output)
  end)
elseif grub_changed then
  report("grub.cfg", "skipped", "run update-grub (or pass --regenerate) for the next boot to see it")
end

-- 4. firewalld: the bridges that exist, in the trusted zone.
if not firewalld then
  report("firewalld", "skipped", "--no-firewalld")
else
  local running, why = fwsh.firewalld.running{ bus = bus }
  if not running then
    report("firewalld", "skipped", why)
  else
    for _, b in ipairs(TRUSTED) do
      local what = "firewalld trusted " .. b.name
      if not (fwsh.link.exists(b.name) and fwsh.link.get(b.name).kind == "bridge") then
        report(what, "skipped", "no bridge " .. b.name)
      else
        step(what, function()
          local r = fwsh.firewalld.add("trusted", b.name, { permanent = b.permanent, move = true, bus = bus })
          local scopes = b.permanent and "runtime and permanent" or "runtime"
          if r.runtime or r.permanent then
            local did = {}
            if r.runtime then did[#did + 1] = "runtime" end
            if r.permanent then did[#did + 1] = "permanent" end
            report(what, "changed", "added (" .. table.concat(did, ", ") .. ")")
          else
            report(what, "ok", scopes)
          end
        end)
      end
    end
  end
end

print(string.format("%d changed, %d already right, %d skipped, %d failed",
                    counts.changed, counts.ok, counts.skipped, counts.FAILED))
-- Each step stands on its own: what was done is kept, and the status says
-- whether everything could be done.
fwsh.keep()
if counts.FAILED > 0 then os.exit(1) end
