-- hosts.lua - labs across hosts. fwsh.hosts.host(name, {ssh="root@192.0.2.1"})
-- returns a context in which fwsh's whole API runs on that host:
--   local hosts = require "fwsh.hosts"
--   local b <close> = hosts.host("b", { ssh = "root@192.0.2.12" })
--   local br = b.bridge.add("br1", { grounding = false })   -- on b
--   local node = b.require("fwsh.node").new{ ... }          -- a node on b
-- The transport is OpenSSH: one connection per host for the whole run
-- (ControlMaster: the connection's socket is in the lab's directory, and
-- more sessions, `fwsh down` among them, go through it while it lasts),
-- running `fwsh --lab LAB --serve` there (serve.lua). Nothing is built into
-- a shell string but that fixed command: what a call takes and returns
-- travels as data (rpc.lua); what it returns that is not data (a bridge's
-- handle, a node, a process) stays on that host and comes back as a proxy
-- whose fields and methods are that host's. Host keys are checked
-- (StrictHostKeyChecking=yes, with the known_hosts given or the user's): a
-- host whose key is not known, or not the one known, is an error.
--
-- All or nothing: the far side's session is one transaction. host:close()
-- (or <close>, or the end of an fwsh script that succeeded:
-- hosts.finish) commits it; an error, a close without commit, a lost
-- connection (the controller killed) undo what it made there. The hosts of
-- a lab are recorded in its state directory here (a file "hosts"), so that
-- `fwsh down LAB` and `fwsh labs` reach them without the script.
local fwsh = fwsh or require "fwsh"
local errors = require "fwsh.errors"
local rpc = require "fwsh.rpc"
local R = require "fwsh.hosts.record"
local S = require "fwsh.hosts.ssh"
local file = require "fwsh.file"
local O = require "fwsh.hosts.options"

local M = {}

local HOST, ID, PROC, CACHE, DEAD, ROOT = {}, {}, {}, {}, {}, {}
local Obj, Fn, Ctx, Host = {}, {}, {}, {}
local open_hosts = setmetatable({}, { __mode = "k" })

local fail = O.fail
M.lab_dir = R.lab_dir
local record = R.record

-- ---- proxies -------------------------------------------------------------------

local request

local function proxy(h, kind, id)
  if id == 1 then return h end -- the far side's root: this context
  local p = h[CACHE][id]
  if p then return p end
  h[DEAD][id] = nil -- it came back before its release went
  p = setmetatable({ [HOST] = h, [ID] = id }, kind == "C" and Fn or Obj)
  h[CACHE][id] = p
  return p
end

Obj.__index = function(p, k) return request(rawget(p, HOST), { op = "index", obj = p, key = k }) end
Obj.__newindex = function(p, k, v) request(rawget(p, HOST), { op = "newindex", obj = p, key = k, value = v }) end
Obj.__close = function(p) request(rawget(p, HOST), { op = "close_obj", obj = p }) end
Obj.__tostring = function(p)
  local h = rawget(p, HOST)
  return h.name .. ": " .. request(h, { op = "tostring", obj = p })
end
Obj.__name = "fwsh.remote"
local function release(p)
  local h = rawget(p, HOST)
  if h and not rawget(h, "closed") then h[DEAD][rawget(p, ID)] = true end
end
Obj.__gc = release
Fn.__call = function(f, ...)
  return request(rawget(f, HOST), { op = "call", fn = f, args = table.pack(...) })
end
Fn.__gc = release
Fn.__name = "fwsh.remote function"

local function ref_for(h)
  return function(x)
    if x == h then return 1, "R" end
    if type(x) == "table" then
      local owner = rawget(x, HOST)
      if owner == h then return rawget(x, ID), getmetatable(x) == Fn and "C" or "R" end
      if owner then return nil, string.format("%s: an object of host %s cannot go to host %s", h.name, owner.name, h.name) end
      if getmetatable(x) == Ctx then return nil, string.format("%s: host %s's context cannot go to host %s", h.name, x.name, h.name) end
    end
    return nil, string.format("%s: a %s of this host cannot go to host %s (only data, and %s's own objects)",
                              h.name, type(x), h.name, h.name)
  end
end

local function ssh_tail(h)
  local s = file.read(h.log)
  if not s then return "" end
  local last = {}
  for line in s:gmatch("[^\n]+") do
    last[#last + 1] = line
    if #last > 3 then table.remove(last, 1) end
  end
  return table.concat(last, "; ")
end

local lost

local function read_frame(h, timeout)
  local proc = h[PROC]
  local frame = rpc.read(function(n) return proc:read(n, timeout) end)
  if frame == nil then lost(h) end
  return rpc.decode(frame, function(kind, id) return proxy(h, kind, id) end)
end

function lost(h)
  rawset(h, "closed", true)
  local proc = h[PROC]
  pcall(proc.wait, proc, 1)
  local why = ssh_tail(h)
  fail("%s: the connection to %s ended%s", h.name, h.opts.ssh or "fwsh --serve", why ~= "" and (": " .. why) or "")
end

local function send(h, m)
  local frame = rpc.frame(rpc.encode(m, ref_for(h)))
  if not pcall(h[PROC].write, h[PROC], frame) then lost(h) end
end

function request(h, m)
  if rawget(h, "closed") then fail("%s: the host's context is closed", h.name) end
  if next(h[DEAD]) then
    local ids = {}
    for id in pairs(h[DEAD]) do ids[#ids + 1] = id end
    h[DEAD] = {}
    send(h, { op = "release", ids = ids })
  end
  send(h, m)
  h.requests = h.requests + 1
  local r = read_frame(h)
  if r.lines then
    -- what the request made there, as commands, in this session's plan or
    -- explanation: each line prefixed by the host
    fwsh.explain((r.lines:gsub("\n$", ""):gsub("[^\n]+", function(line) return h.name .. ": " .. line end)))
  end
  if r.ok then return table.unpack(r, 1, r.n) end
  local e = r.err
  if type(e) == "table" then
    e.host = h.name
    error(e, 0)
  end
  error(h.name .. ": " .. tostring(e), 0)
end

-- ---- the context -------------------------------------------------------------------

Ctx.__index = function(h, k)
  local m = Host[k]
  if m ~= nil then return m end
  local cache = rawget(h, ROOT)
  local v = cache[k]
  if v ~= nil then return v end
  v = request(h, { op = "index", obj = h, key = k })
  -- fwsh's parts (fwsh.bridge, ...) are tables of functions that do not change
  if type(v) == "table" and getmetatable(v) == nil then cache[k] = v end
  return v
end
Ctx.__newindex = function(h, k) fail("%s: a host's context takes no field (%s)", h.name, tostring(k)) end
Ctx.__close = function(h, err) h:close(err == nil) end
Ctx.__gc = function(h)
  if not rawget(h, "closed") and h[PROC] then pcall(h[PROC].stop, h[PROC], 1) end
end
Ctx.__tostring = function(h) return "host " .. h.name .. " (" .. (h.opts.ssh or "local fwsh --serve") .. ")" end
Ctx.__name = "fwsh.host"

-- The first half of a close: the far side told, what it made committed or
-- being undone; it is over once the connection ends (close_wait).
local function close_send(h, commit)
  if rawget(h, "closed") then return true, 1 end
  if commit == nil then commit = true end
  local left = 1
  if commit then
    local ok, labs = pcall(function() return h.labs() end)
    if ok then
      left = 0
      for _, l in ipairs(labs) do
        if l.name == h.lab then left = l.links + l.netns end
      end
    end
  end
  if rawget(h, "closed") then -- the connection ended meanwhile: the far side undid it all
    open_hosts[h] = nil
    return false, string.format("%s: the connection ended before the %s: what the session made there is undone",
                                h.name, commit and "commit" or "close"), 0, commit
  end
  local ok, err = pcall(request, h, { op = "close", commit = commit })
  rawset(h, "closed", true)
  open_hosts[h] = nil
  return ok, err, left, commit
end

-- The second half: the far side has ended (an undo is complete then).
local function close_wait(h, ok, err, left, commit)
  local proc = h[PROC]
  if not pcall(proc.wait, proc, 10) then proc:stop(1) end
  if rawget(h, "recorded") and (left == 0 or not commit) then record(h, false) end
  if not ok and commit then error(err, 0) end
end

--- host:close([commit=true]): ends the session: what it made there stays
--  (commit) or is undone; the connection closes. Its line in the lab's
--  record goes once nothing of the lab is left there.
function Host.close(h, commit)
  if rawget(h, "closed") then return end
  close_wait(h, close_send(h, commit))
end

--- hosts.close(list [, commit=true]): host:close for each context of list,
--  side by side (the far sides commit or undo at once, not one after the other)
function M.close(list, commit)
  local pending = {}
  for i, h in ipairs(list) do
    if not rawget(h, "closed") then pending[i] = table.pack(close_send(h, commit)) end
  end
  local c = errors.collect()
  for i, h in ipairs(list) do
    if pending[i] then c:try(close_wait, h, table.unpack(pending[i], 1, pending[i].n)) end
  end
  c:done()
end

--- host:stats() -> { requests = N }: how many round trips this context made
function Host.stats(h) return { requests = h.requests } end

-- Starts the connection (o checked: options.check's o and ofwsh): ssh,
-- running fwsh --serve there.
local function start(name, o, ofwsh)
  local lab = o.lab or fwsh.lab()
  -- A plan makes no state directory, and needs none: no record, no control
  -- socket, no log. It still connects: fwsh there plans too.
  local planned = fwsh.mode() == "plan"
  local dir = o.dir or (planned and "/dev/null" or R.lab_dir(lab))
  local opts = {}
  for k, v in pairs(o) do opts[k] = v end
  opts.fwsh = ofwsh
  if planned then opts.control = false end
  local underlay = o.underlay or (o.ssh and (o.ssh:match("@([%d.]+)$") or o.ssh:match("^([%d.]+)$")))
  local h = setmetatable({ name = name, lab = lab, opts = opts, underlay = underlay, requests = 0,
                           log = dir .. "/" .. name .. ".log", control = dir .. "/" .. name .. ".ssh",
                           [CACHE] = setmetatable({}, { __mode = "v" }), [DEAD] = {}, [ROOT] = {} }, Ctx)
  local argv = o.ssh == false and S.remote_argv(opts, lab) or S.ssh_argv(h, opts, lab)
  rawset(h, PROC, fwsh.proc.spawn(argv, { pipe = true, stderr = planned and "/dev/null" or h.log, query = true }))
  return h
end

-- Waits for the far side's hello; the context is ready then.
local function greet(h)
  local o, name = h.opts, h.name
  local ok, hello = pcall(read_frame, h, o.timeout or 30)
  if not ok or type(hello) ~= "table" or hello.hello ~= "fwsh" then
    local why = ssh_tail(h)
    h[PROC]:stop(1)
    rawset(h, "closed", true)
    if why:find("Host key verification failed", 1, true) or why:find("IDENTIFICATION HAS CHANGED", 1, true) then
      fail("fwsh.host %s: ssh %s: its host key is not the one known for it (%s): %s", name, o.ssh,
           o.known_hosts or "~/.ssh/known_hosts", why)
    end
    fail("fwsh.host %s: %s: no fwsh answered%s", name, o.ssh == false and "fwsh --serve" or ("ssh " .. o.ssh),
         why ~= "" and (": " .. why) or (ok and "" or (": " .. tostring(hello))))
  end
  if hello.lab ~= h.lab then
    h:close(false)
    fail("fwsh.host %s: it serves lab %s, not %s", name, tostring(hello.lab), h.lab)
  end
  rawset(h, "version", hello.version)
  open_hosts[h] = true
  if o.record ~= false then
    record(h, true)
    rawset(h, "recorded", true)
  end
  return h
end

--- hosts.host(name, {ssh="user@addr", port=, identity=PATH, known_hosts=PATH,
--  fwsh="fwsh", underlay=ADDRESS, timeout=30, lab=}) -> context: fwsh's API
--  on that host (see above). ssh=false runs `fwsh --serve` here, without
--  ssh (a host that is this one: the same API, for a lab's local part).
--  underlay: the address other hosts reach this one at (VXLAN's remote),
--  by default ssh's when it is a numeric address. fwsh: the program there
--  (a path, or a name in its PATH).
function M.host(name, o)
  local ofwsh
  o, ofwsh = O.check(name, o)
  return greet(start(name, o, ofwsh))
end

--- hosts.connect(list) -> { context, ... }: hosts.host for each of list's
--  options (each with its name), the connections made side by side: the
--  time of the slowest, not of all; all of them or none
function M.connect(list)
  local hs, checked = {}, {}
  for i, o in ipairs(list) do checked[i] = { O.check(o.name, o) } end -- all of them, before any starts
  local ok, err = pcall(function()
    for i, c in ipairs(checked) do hs[i] = start(c[1].name, c[1], c[2]) end
    for _, h in ipairs(hs) do greet(h) end
  end)
  if not ok then
    for _, h in ipairs(hs) do
      if not rawget(h, "closed") then pcall(Host.close, h, false) end
    end
    error(err, 0)
  end
  return hs
end

--- hosts.stretch(bridge, a, b [, {id=, dstport=4789, dev_a=, dev_b=, name=}]) ->
--  vxlan on a, vxlan on b: the bridge called bridge on host a and the one on
--  host b (contexts) become one L2 segment: a VXLAN link on each (named
--  "vx" .. bridge, VNI id, unicast to the other's underlay address, over
--  dev_a / dev_b if given) made a port of its bridge. MTU: the kernel gives
--  a VXLAN over a device that device's MTU less 50 (IPv4's outer headers);
--  fwsh keeps that, and refuses a stretch that would lower the bridge's MTU
--  (its ports' frames of the full size would be dropped without a word):
--  give the underlay 50 bytes more (1550 for the usual 1500), or the lab's
--  links less.
function M.stretch(bridge, a, b, o)
  o = o or {}
  if not (math.tointeger(o.id) and o.id > 0 and o.id < 16777216) then
    fail("hosts.stretch %s: id is a VNI, 1 to 16777215", tostring(bridge))
  end
  local name = o.name or ("vx" .. bridge):sub(1, 15)
  local function one(h, peer, dev)
    local here, there = rawget(h, "underlay"), rawget(peer, "underlay")
    if not here or not there then
      fail("hosts.stretch %s: host %s has no underlay address (fwsh.host's underlay=)", bridge,
           (here and peer or h).name)
    end
    local br = h.link.get(bridge)
    local want = br:info().mtu
    local vx = h.vxlan.add(name, { id = o.id, ["local"] = here, remote = there,
                                   dstport = o.dstport or 4789, dev = dev })
    local mtu = vx:info().mtu
    if mtu < want then
      vx:delete()
      fail("hosts.stretch %s on %s: VXLAN leaves %d bytes of the underlay's MTU, the bridge carries %d: "
           .. "give the underlay%s at least %d", bridge, h.name, mtu, want, dev and (" (" .. dev .. ")") or "",
           want + 50)
    end
    h.port.attach(bridge, vx)
    return vx
  end
  local va = one(a, b, o.dev_a)
  local ok, vb = pcall(one, b, a, o.dev_b)
  if not ok then
    pcall(va.delete, va)
    error(vb, 0)
  end
  return va, vb
end

--- hosts.finish(ok): closes every open host context, committing if ok (the
--  fwsh program calls it when a script ends)
function M.finish(ok)
  local list = {}
  for h in pairs(open_hosts) do list[#list + 1] = h end
  pcall(M.close, list, ok)
end


-- the lab's record and a file of hosts: fwsh.hosts.record
M.read, M.recorded, M.down, M.labs, M.command = R.read, R.recorded, R.down, R.labs, R.command

return M
