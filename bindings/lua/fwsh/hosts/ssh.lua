-- ssh.lua - how a host context reaches its host: the ssh command line
-- (never a shell's: an argv), and the fwsh --serve it runs there, in this
-- session's mode (a plan plans there too).
local fwsh = fwsh or require "fwsh"

local S = {}

--- remote_argv(o, lab) -> the fwsh --serve command for lab, as this session runs
function S.remote_argv(o, lab)
  local argv = { o.fwsh or "fwsh", "--lab", lab }
  -- as this session: a plan (--dry-run) plans there, --explain explains there
  local mode = fwsh.mode()
  if mode == "plan" then argv[#argv + 1] = "--dry-run" elseif mode == "explain" then argv[#argv + 1] = "--explain" end
  argv[#argv + 1] = "--serve"
  return argv
end

--- ssh_argv(h, o, lab) -> argv: ssh to o.ssh, batch mode, the host key
--  checked, one control socket per host, running fwsh --serve there
function S.ssh_argv(h, o, lab)
  local argv = { "ssh", "-T", "-x", "-a",
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=" .. tostring(o.connect_timeout or 10),
    "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3" }
  if o.control ~= false then
    for _, x in ipairs({ "-o", "ControlMaster=yes", "-o", "ControlPersist=no",
                         "-o", "ControlPath=" .. h.control }) do argv[#argv + 1] = x end
  end
  if o.known_hosts then
    for _, x in ipairs({ "-o", "UserKnownHostsFile=" .. o.known_hosts }) do argv[#argv + 1] = x end
  end
  if o.identity then
    for _, x in ipairs({ "-o", "IdentitiesOnly=yes", "-i", o.identity }) do argv[#argv + 1] = x end
  end
  if o.port then
    argv[#argv + 1] = "-p"
    argv[#argv + 1] = tostring(o.port)
  end
  argv[#argv + 1] = "--"
  argv[#argv + 1] = o.ssh
  for _, w in ipairs(S.remote_argv(o, lab)) do argv[#argv + 1] = w end
  return argv
end

-- The fwsh program to run here (o.ssh == false): this one.
function S.own_fwsh()
  return os.getenv("FWSH_EXE") or "fwsh"
end

return S
