-- agent.lua - the guest's agent as the host reaches it (fwsh-guest on the
-- VM's virtio-serial socket, lab/guest/wire.h): one request, and a process
-- the agent started in the VM, with the methods of fwsh.proc's. The qemu
-- backend (node/qemu.lua) runs, spawns and writes through it.
local fwsh = fwsh or require "fwsh"
local C = require "fwsh.node.common"
local errors = require "fwsh.errors"

local A = {}

local SIGNALS = { HUP = 1, INT = 2, QUIT = 3, KILL = 9, USR1 = 10, USR2 = 12, TERM = 15,
                  CONT = 18, STOP = 19 }

--- agent.request(node, args [, timeout]) -> {ok=, code=, out=, err=}: one
--  request to node's agent by fwsh-guest (timeout seconds, 30 by default)
function A.request(self, args, timeout)
  timeout = timeout or 30
  local argv = { C.tool("guest"), self.agent_socket, "-t", string.format("%g", timeout) }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return fwsh.proc.run(argv, { timeout = timeout + 5 })
end
local agent = A.request

--- agent.Proc: the metatable of a process in a VM ({ node =, vm =, id = }:
--  the node, the VM it started in, the agent's id), with fwsh.proc's
--  methods: pid, status, running, kill, wait, stop
local GuestProc = {}
GuestProc.__index = GuestProc
GuestProc.__tostring = function(self) return string.format("proc %d in %s", self.id, self.node.name) end
A.Proc = GuestProc

function GuestProc:pid() return self.id end

-- "running", "exit N", "signal N", or "gone" with its VM
function GuestProc:status()
  if self.vm ~= self.node.vm or not (self.vm and self.vm:running()) then return "gone" end
  local r = agent(self.node, { "status", tostring(self.id) }, 10)
  return r.ok and (r.out:gsub("%s+$", "")) or "gone"
end

function GuestProc:running() return self:status() == "running" end

local function ended(st)
  local code = st:match("^exit (%d+)")
  if code then return { ok = code == "0", code = tonumber(code) } end
  local sig = st:match("^signal (%d+)")
  if sig then return { ok = false, signal = tonumber(sig) } end
  return { ok = false } -- its VM is gone, and it with it
end

function GuestProc:kill(sig)
  sig = sig or "TERM"
  local n = math.tointeger(sig) or SIGNALS[sig]
  if not n then errors.raise("proc:kill", tostring(self), "unknown signal " .. tostring(sig)) end
  local r = agent(self.node, { "kill", tostring(self.id), tostring(n) }, 10)
  if not r.ok then errors.raise("proc:kill", tostring(self), r.err) end
  return self
end

function GuestProc:wait(timeout)
  local st
  fwsh.wait{ fn = function() st = self:status() return st ~= "running" end, interval = 0.02,
             timeout = timeout or 86400 }
  return ended(st)
end

function GuestProc:stop(grace)
  local st = self:status()
  if st ~= "running" then return ended(st) end
  pcall(self.kill, self, "TERM")
  local ok, r = pcall(self.wait, self, grace or 2)
  if ok then return r end
  pcall(self.kill, self, "KILL")
  ok, r = pcall(self.wait, self, 2)
  return ok and r or { ok = false }
end

return A
