-- timeline_verbs.lua - what a step of a fault timeline (fwsh.timeline) may
-- do to the firewall lab: the faults lab:failover applies, impairments,
-- waits, marks. Each verb takes a context (timeline_verbs.context(lab)) and
-- a target; each fault has its undo, so that the timeline leaves nothing in
-- place when it ends, fails or is interrupted:
--
--   fail = NODE, mode = "power" | "hang" | "client-cable" | "server-cable" | "sync-cut"
--                       (node:fail, or the cable's port cut: eth1, eth0, eth2)
--   heal = NODE         every fault of NODE still in place undone (power and
--                       hang: node:start, daemons started, not waited for)
--   impair = "NODE:PORT", delay=, jitter=, loss=, duplicate=, corrupt=,
--                       reorder= (netem), rate= (bit/s, tbf): node:impair
--   clear = "NODE:PORT" the impairment removed
--   wait-master = FW, timeout=   until br1 learned the VRRP MAC on FW's port;
--                       measures takeover_ms (from the last fault) and waited_ms
--   wait-ready = NODE, timeout=  until NODE's daemons are up (lab:wait_ready)
--   mark = LABEL        nothing: a named moment, whose window a step's
--                       expectations can judge
--
-- What the lab's nodes and ports are is the topology's (fwsh.firewall.topology),
-- so a step naming another is refused before anything is built.
local fwsh = fwsh or require "fwsh"
local T = require "fwsh.firewall.topology"
local traffic = require "fwsh.firewall.traffic"
local errors = require "fwsh.errors"

local M = {}

-- The port a cable fault pulls; the other modes are node:fail's.
local CABLE = { ["client-cable"] = "eth1", ["server-cable"] = "eth0", ["sync-cut"] = "eth2" }
M.modes = traffic.modes
M.impair_fields = { "delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate" }

-- The lab's nodes and each one's ports.
local function ports(name)
  if T.fw[name] then return { eth0 = true, eth1 = true, eth2 = true } end
  if name == "client" then return { [T.client.port] = true } end
end

local function node_port(target)
  local name, port = target:match("^([^:]+):([^:]+)$")
  return name, port
end

local function push(list, x) list[#list + 1] = x end

-- Undoes one fault of node name.
local function undo_fault(ctx, name, mode)
  local n = ctx.lab.nodes[name]
  local port = CABLE[mode]
  if port then
    n:restore(port)
  elseif n.stopped then -- not if the fault never took (a step interrupted early)
    n:start()
    ctx.started[name] = true
  end
  local open = ctx.faults[name] or {}
  for i = #open, 1, -1 do
    if open[i] == mode then table.remove(open, i) break end
  end
end

local impair_fields = {}
for _, k in ipairs(M.impair_fields) do impair_fields[k] = "number" end

local function impairment(step)
  local o = {}
  for _, k in ipairs(M.impair_fields) do o[k] = step[k] end
  return o
end

M.verbs = {
  fail = {
    fields = { mode = "string" },
    apply = function(ctx, name, step)
      local mode = step.mode or "power"
      local n = ctx.lab.nodes[name]
      ctx.fault_at = fwsh.proc.clock()
      if CABLE[mode] then n:cut(CABLE[mode]) else n:fail(mode) end
      ctx.faults[name] = ctx.faults[name] or {}
      push(ctx.faults[name], mode)
    end,
    undo = function(ctx, name, step) undo_fault(ctx, name, step.mode or "power") end,
  },
  heal = {
    heals = "fail",
    apply = function(ctx, name)
      local open = ctx.faults[name] or {}
      while #open > 0 do undo_fault(ctx, name, open[#open]) end
    end,
  },
  impair = {
    fields = impair_fields,
    apply = function(ctx, target, step)
      local name, port = node_port(target)
      ctx.lab.nodes[name]:impair(port, impairment(step))
    end,
    undo = function(ctx, target)
      local name, port = node_port(target)
      ctx.lab.nodes[name]:impair(port, {})
    end,
  },
  clear = {
    heals = "impair",
    apply = function(ctx, target)
      local name, port = node_port(target)
      ctx.lab.nodes[name]:impair(port, {})
    end,
  },
  ["wait-master"] = {
    fields = { timeout = "number" },
    apply = function(ctx, name, step)
      local t0 = fwsh.proc.clock()
      ctx.lab:wait_master(name, step.timeout or 10)
      local now = fwsh.proc.clock()
      ctx.values[step] = { waited_ms = (now - t0) * 1000,
                           takeover_ms = ctx.fault_at and (now - ctx.fault_at) * 1000 or nil }
    end,
  },
  ["wait-ready"] = {
    fields = { timeout = "number" },
    apply = function(ctx, name, step) ctx.lab:wait_ready(name, step.timeout or 10) end,
  },
  mark = { apply = function() end },
}

--- timeline_verbs.actions([extra]) -> the verbs for fwsh.timeline: the lab's,
--  and a script's own (extra: { NAME = { fields=, apply=, undo=, heals= } },
--  which may not replace one of the lab's)
function M.actions(extra)
  local a = {}
  for k, v in pairs(M.verbs) do a[k] = v end
  for k, v in pairs(extra or {}) do
    if a[k] then errors.raise("firewall.timeline", k, "is one of the lab's verbs: give yours another name", 0) end
    if type(v) ~= "table" or type(v.apply) ~= "function" then
      errors.raise("firewall.timeline", tostring(k), "a verb is a table with apply = function(ctx, target, step)", 0)
    end
    a[k] = v
  end
  return a
end

--- timeline_verbs.check(plan): what fwsh.timeline cannot know, for each
--  planned step: that its node (and port) is the lab's, fail's mode is a
--  mode, an impairment asks for something; raises naming the step
function M.check(plan)
  for _, p in ipairs(plan) do
    local function bad(reason)
      errors.raise("firewall.timeline", string.format("step %d (%s)", p.index, p.name), reason, 0)
    end
    local verb, target, step = p.verb, p.target, p.step
    if verb == "fail" or verb == "heal" or verb == "wait-ready" then
      if not ports(target) then bad("no node " .. target .. " in the lab (fw-1, fw-2, client)") end
    elseif verb == "wait-master" then
      if not T.fw[target] then bad("a master is fw-1 or fw-2, not " .. target) end
    elseif verb == "impair" or verb == "clear" then
      local name, port = node_port(target)
      if not (name and ports(name) and ports(name)[port]) then
        bad("NODE:PORT of the lab expected (fw-2:eth2, client:eth0...), not " .. target)
      end
      if verb == "impair" and not next(impairment(step)) then
        bad("an impairment needs one of " .. table.concat(M.impair_fields, ", ") .. " (clear removes one)")
      end
    end
    if verb == "fail" then
      local mode = step.mode or "power"
      local known = false
      for _, m in ipairs(M.modes) do known = known or m == mode end
      if not known then bad("mode is one of " .. table.concat(M.modes, ", ") .. ", not " .. mode) end
      if CABLE[mode] and not ports(target)[CABLE[mode]] then
        bad(target .. " has no " .. CABLE[mode] .. " for " .. mode)
      end
    end
  end
end

--- timeline_verbs.context(lab) -> ctx: what the verbs share during a run:
--  lab, the faults in place per node, the nodes started again, each
--  step's own measurements (values[step]), when the last fault began
function M.context(lab)
  return { lab = lab, faults = {}, started = {}, values = {} }
end

--- timeline_verbs.settle(ctx [, timeout]): after a run and its undo, until
--  the nodes it started again are ready and a firewall is master, so that
--  the next run starts from a whole lab
function M.settle(ctx, timeout)
  local lab = ctx.lab
  local names = {}
  for name in pairs(ctx.started) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    if T.fw[name] then lab:wait_ready(name, timeout) end
  end
  ctx.started = {}
  local ok = pcall(fwsh.wait, { fn = function() return lab:master() ~= nil end, interval = 0.02,
                                timeout = (timeout or 10) * lab.patience })
  if not ok then errors.raise("firewall.timeline", "undo", "no firewall holds the virtual IPs after the run", 0) end
end

return M
