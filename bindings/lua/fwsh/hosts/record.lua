-- record.lua - a lab's hosts as files: the record of the hosts a lab spans
-- (one line per host, tab-separated, in the lab's state directory: what
-- `fwsh down LAB` and `fwsh labs` reach them by), and a file of hosts a
-- user writes (--hosts FILE).
local fwsh = fwsh or require "fwsh"
local errors = require "fwsh.errors"

local R = {}

--- hosts.lab_dir() -> path: the state directory (fwsh.lab_dir) of this
--  lab's hosts here: the record, ssh's control sockets and logs
function R.lab_dir(lab)
  lab = lab or fwsh.lab()
  R.dirs = R.dirs or {}
  if not R.dirs[lab] then
    if lab ~= fwsh.lab() then errors.raise("hosts.lab_dir", lab, "only the current lab's is made") end
    R.dirs[lab] = fwsh.lab_dir()
  end
  return R.dirs[lab]
end

--- record(h, add): host context h's line in its lab's record, added or removed
function R.record(h, add)
  if fwsh.mode() == "plan" then return end -- a plan writes no file, the record neither
  local dir = R.lab_dir(h.lab)
  local path = dir .. "/hosts"
  local list = {}
  for _, r in ipairs(R.read_record(path)) do
    if r.name ~= h.name then list[#list + 1] = r end
  end
  if add then
    local o = h.opts
    list[#list + 1] = { name = h.name, ssh = o.ssh, port = o.port, identity = o.identity,
                        known_hosts = o.known_hosts, fwsh = o.fwsh, underlay = rawget(h, "underlay") }
  end
  R.write_record(path, list)
  -- No host of the lab left here: its directory (the logs, ssh's sockets) goes.
  if #list == 0 and h.lab == fwsh.lab() then
    fwsh.lab_dir_remove(dir)
    R.dirs[h.lab] = nil
  end
end

local FIELDS = { "name", "ssh", "port", "identity", "known_hosts", "fwsh", "underlay" }

function R.read_record(path)
  local out = {}
  local f = io.open(path, "r")
  if not f then return out end
  for line in f:lines() do
    local r, i = {}, 1
    for v in (line .. "\t"):gmatch("([^\t]*)\t") do
      if FIELDS[i] and v ~= "" then r[FIELDS[i]] = v end
      i = i + 1
    end
    if r.name then out[#out + 1] = r end
  end
  f:close()
  return out
end

function R.write_record(path, list)
  if #list == 0 then os.remove(path) return end
  local f, err = io.open(path .. ".new", "w")
  if not f then errors.raise("hosts.record", path, err) end
  for _, r in ipairs(list) do
    local v = {}
    for i, k in ipairs(FIELDS) do v[i] = r[k] and tostring(r[k]) or "" end
    f:write(table.concat(v, "\t"), "\n")
  end
  f:close()
  local ok, rerr = os.rename(path .. ".new", path)
  if not ok then errors.raise("hosts.record", path, rerr) end
end

--- hosts.read(path) -> { {name=, ssh=, ...}, ... }: a file of hosts,
--  one a line: NAME USER@ADDRESS [key=value ...] with identity=, known_hosts=,
--  fwsh=, port=, underlay=, dev= (fwsh.hosts.host's options; dev: the
--  underlay's link there, for VXLAN); # comments
function R.read(path)
  local f, err = io.open(path, "r")
  if not f then errors.raise("--hosts", nil, err, 0) end
  local list = {}
  local n = 0
  for line in f:lines() do
    n = n + 1
    line = line:gsub("#.*", "")
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    if #words > 0 then
      if #words < 2 then errors.raise("--hosts", string.format("%s:%d", path, n), "NAME USER@ADDRESS [key=value ...]", 0) end
      local h = { name = words[1], ssh = words[2] }
      for i = 3, #words do
        local k, v = words[i]:match("^([%w_]+)=(.+)$")
        local known = { identity = true, known_hosts = true, fwsh = true, port = true, underlay = true, dev = true }
        if not k or not known[k] then
          errors.raise("--hosts", string.format("%s:%d", path, n),
                       words[i] .. ": one of identity=, known_hosts=, fwsh=, port=, underlay=, dev=", 0)
        end
        h[k] = k == "port" and tonumber(v) or v
      end
      list[#list + 1] = h
    end
  end
  f:close()
  return list
end

--- hosts.recorded(lab) -> { {name=, ssh=, ...}, ... }: the hosts lab spans,
--  as its record here says (none: {})
function R.recorded(lab)
  local path = fwsh.lab_dir_find(lab, "hosts")
  return path and R.read_record(path) or {}, path
end

local function connect_recorded(lab, r, path)
  return require("fwsh.hosts").host(r.name, { dir = path:match("^(.*)/[^/]*$"), ssh = r.ssh, port = tonumber(r.port), identity = r.identity,
                          known_hosts = r.known_hosts, fwsh = r.fwsh, underlay = r.underlay,
                          lab = lab, record = false, control = false, timeout = 15 })
end

-- fn(h) on each host lab's record names, connected for it and closed after:
-- its row, or {host=, error=} for a host that could not be reached or failed.
local function each_recorded(lab, fn)
  local out = {}
  local list, path = R.recorded(lab)
  for _, r in ipairs(list) do
    local ok, row = pcall(function()
      local h = connect_recorded(lab, r, path)
      local row = fn(h)
      h:close(true)
      row.host = r.name
      return row
    end)
    out[#out + 1] = ok and row or { host = r.name, error = tostring(row) }
  end
  return out
end

--- hosts.down(lab) -> { {host=, links=, netns=, dirs=} or {host=, error=}, ... }:
--  fwsh.down(lab) on every host lab's record names (`fwsh down LAB`)
function R.down(lab)
  return each_recorded(lab, function(h)
    local links, netns, dirs = h.down(lab)
    return { links = links, netns = netns, dirs = dirs }
  end)
end

--- hosts.labs(lab) -> { {host=, links=, netns=} or {host=, error=}, ... }: what
--  lab has on each host its record names (`fwsh labs`)
function R.labs(lab)
  return each_recorded(lab, function(h)
    local row = { links = 0, netns = 0 }
    for _, l in ipairs(h.labs()) do
      if l.name == lab then row.links, row.netns = l.links, l.netns end
    end
    return row
  end)
end

--- hosts.command(word, ...): the hosts' part of `fwsh down LAB...` and
--  `fwsh labs` (main.c runs it before this host's part): one line per host
function R.command(word, ...)
  if word == "down" then
    for _, lab in ipairs({ ... }) do
      if lab:sub(1, 1) ~= "-" then
        for _, r in ipairs(R.down(lab)) do
          if r.error then
            io.stderr:write(string.format("fwsh: down %s on host %s: %s\n", lab, r.host, r.error))
          else
            print(string.format("%s on host %s: removed %d links, %d namespaces, %d directories", lab, r.host,
                                r.links, r.netns, r.dirs))
          end
        end
      end
    end
  elseif word == "labs" then
    for _, lab in ipairs(fwsh.lab_dir_labs("hosts")) do
      for _, r in ipairs(R.labs(lab)) do
        if r.error then
          print(string.format("%-32s host %s: %s", lab, r.host, r.error))
        else
          print(string.format("%-32s %6d %6d  on host %s", lab, r.links, r.netns, r.host))
        end
      end
    end
  end
end

return R
