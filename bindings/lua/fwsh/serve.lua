-- serve.lua - `fwsh --serve`: this host's fwsh, driven by another host's
-- fwsh.host (hosts.lua) over its standard input and output,
-- through ssh. Each request is data (fwsh.rpc): call this function or
-- method with these values, read this field, set that one; the values and
-- objects the calls return stay here and travel as references. The whole
-- session is one transaction (fwsh --serve runs it as a script is run): a
-- close with commit keeps what the session made; a close without, or a
-- connection that ends (the controller killed, its host gone), undoes it.
-- What the code running here prints goes to standard error (main.c moved
-- it there), so it cannot corrupt a reply.
local fwsh = fwsh or require "fwsh"
local rpc = require "fwsh.rpc"

local M = {}

-- What a session reaches besides fwsh's own fields: fwsh's lab libraries
-- (fwsh.*), and this host's files (a lab's configuration and logs live on
-- the host its nodes run on).
local function extras()
  local x = {}
  function x.require(name)
    if type(name) ~= "string" or not (name == "fwsh" or name:match("^fwsh%.[%w_]+$")) then
      error("require: only fwsh and its libraries (fwsh.NAME) are served, not " .. tostring(name), 2)
    end
    return require(name)
  end
  local file = require "fwsh.file"
  function x.read_file(path) return (file.read(path)) end
  -- A session planning here (--dry-run --serve) shows these, and makes nothing.
  local effect = require "fwsh.effect"
  function x.write_file(path, text)
    if effect.planned() then return effect.write(path, text, "wb") end
    return file.write(path, text)
  end
  function x.remove_file(path)
    if effect.planned() then return effect.remove(path) end
    return os.remove(path) ~= nil
  end
  function x.info()
    local f = io.open("/proc/sys/kernel/hostname", "r")
    local name = f and f:read("l")
    if f then f:close() end
    return { hostname = name, lab = fwsh.lab(), version = fwsh.version,
             lab_root = os.getenv("FWSH_LAB_ROOT") or "/tmp" }
  end
  return x
end

--- serve.loop(input, output [, take]): answers requests from input (a file)
--  on output until a close; raises (and so rolls back) on a close without
--  commit or when input ends. take() -> the plan's or explanation's lines
--  the last request made (fwsh --dry-run/--explain --serve), sent with its
--  reply as "lines"
function M.loop(input, output, take)
  local objs, ids, next_id = {}, {}, 1
  local function ref(v)
    local id = ids[v]
    if not id then
      id, next_id = next_id, next_id + 1
      objs[id], ids[v] = v, id
    end
    return id
  end
  local function deref(_, id)
    local v = objs[id]
    if v == nil then error("rpc: no object " .. id .. " on this host (released?)", 0) end
    return v
  end
  local x = extras()
  local root = setmetatable({}, { __index = function(_, k)
    local v = x[k]
    if v ~= nil then return v end
    return fwsh[k]
  end, __name = "fwsh.host" })
  local function send(v)
    local ok, s = pcall(rpc.encode, v, ref)
    if not ok then s = rpc.encode({ ok = false, err = "reply: " .. tostring(s) }) end
    output:write(rpc.frame(s))
    output:flush()
  end
  local function error_value(e)
    if type(e) == "table" and getmetatable(e) == nil then
      local ok = pcall(rpc.encode, e)
      if ok then return e end
    end
    -- the position is this loop's, which tells the other side nothing
    return (tostring(e):gsub("^[^\n]-fwsh/serve%.lua:%d+: ", ""))
  end
  -- The names the controller reached functions by (fwsh.bridge.add, set), for
  -- their argument errors: called here from a table field, a function would
  -- be named after that field ('fn'), which tells the user nothing.
  local names = setmetatable({ [root] = "fwsh" }, { __mode = "k" })
  local function name_error(e, fn)
    if type(e) ~= "string" then return e end
    return (e:gsub("^([^\n]-)bad argument #(%d+) to 'fn'", function(at, n)
      return at .. "bad argument #" .. n .. " to '" .. (names[fn] or "?") .. "'"
    end, 1))
  end
  send({ hello = "fwsh", version = fwsh.version, lab = fwsh.lab(), root = root })
  local read = function(n) return input:read(n) end
  while true do
    local frame = rpc.read(read)
    if not frame then error("fwsh --serve: the controller's connection ended: this host's part is undone", 0) end
    local m = rpc.decode(frame, deref)
    local op = type(m) == "table" and m.op
    if op == "release" then
      for _, id in ipairs(m.ids or {}) do
        if objs[id] ~= nil and id ~= 1 then ids[objs[id]], objs[id] = nil, nil end
      end
    elseif op == "close" then
      send({ ok = true, n = 0 })
      if m.commit then return end
      error("fwsh --serve: the controller closed without commit: this host's part is undone", 0)
    else
      local r = table.pack(pcall(function()
        if op == "call" then
          local args = m.args or { n = 0 }
          return m.fn(table.unpack(args, 1, args.n or #args))
        elseif op == "index" then
          local v = m.obj[m.key]
          if (type(v) == "function" or type(v) == "table") and names[v] == nil and type(m.key) == "string" then
            names[v] = (names[m.obj] and names[m.obj] .. "." or "") .. m.key
            -- a plain table travels as a copy: its functions are called, never indexed
            if type(v) == "table" and getmetatable(v) == nil then
              for k, f in pairs(v) do
                if type(f) == "function" and type(k) == "string" then names[f] = names[f] or names[v] .. "." .. k end
              end
            end
          end
          return v
        elseif op == "newindex" then
          m.obj[m.key] = m.value
          return
        elseif op == "tostring" then
          return tostring(m.obj)
        elseif op == "close_obj" then -- a proxy's <close>: the object's own __close
          local mt = getmetatable(m.obj)
          local c = type(mt) == "table" and mt.__close
          if c then c(m.obj, nil) end
          return
        end
        error("rpc: unknown request " .. tostring(op), 0)
      end))
      local lines = take and take() or ""
      if r[1] then
        local out = { ok = true, n = r.n - 1, lines = lines ~= "" and lines or nil }
        for i = 2, r.n do out[i - 1] = r[i] end
        send(out)
      else
        if op == "call" then r[2] = name_error(r[2], m.fn) end
        send({ ok = false, err = error_value(r[2]), lines = lines ~= "" and lines or nil })
      end
    end
  end
end

return M
