-- rpc.lua - the wire between fwsh and another host's `fwsh --serve`
-- (fwsh.hosts, fwsh.serve): values as data, never as code. A frame is a
-- 4-byte little-endian length and that many bytes of one encoded value:
--   "0" nil, "f"/"t" false/true, "i" an integer (8 bytes), "d" a float,
--   "s" a string (4-byte length), "T" a table (4-byte count of pairs, then
--   key and value each), "R" an object of the serving side (4-byte id: a
--   table with a metatable, a userdata), "C" a function of the serving side
--   (4-byte id).
-- Decoding never runs anything it reads (no load): a bad frame is an error.
-- A table is sent by value when it has no metatable; one met twice (a cycle,
-- or shared) is refused. A function or an object goes as a reference only
-- from the side that serves it (ref(value) -> id gives the id); the other
-- side's references come back as what they named (deref(kind, id)).
-- ref(value, kind) -> id [, kind]: it may say which kind the value is (a
-- proxy of a remote function is a table here), or nil and why not.
local M = {}

local pack, unpack = string.pack, string.unpack
M.max_frame = 64 * 1024 * 1024
local MAX_DEPTH = 64

--- rpc.encode(value, ref) -> string; ref(value, kind) -> id, or nil and the
-- error to raise, for a function ("C") or an object ("R")
function M.encode(v, ref)
  local out, seen = {}, {}
  local function put(x, depth)
    local t = type(x)
    if x == nil then out[#out + 1] = "0"
    elseif t == "boolean" then out[#out + 1] = x and "t" or "f"
    elseif math.type(x) == "integer" then out[#out + 1] = pack("<c1j", "i", x)
    elseif t == "number" then out[#out + 1] = pack("<c1n", "d", x)
    elseif t == "string" then out[#out + 1] = pack("<c1s4", "s", x)
    elseif t == "table" and getmetatable(x) == nil then
      if seen[x] then error("rpc: a table met twice (a cycle, or shared) cannot be sent", 0) end
      if depth > MAX_DEPTH then error("rpc: a table nested deeper than " .. MAX_DEPTH, 0) end
      seen[x] = true
      local n = 0
      for _ in pairs(x) do n = n + 1 end
      out[#out + 1] = pack("<c1I4", "T", n)
      for k, val in pairs(x) do
        put(k, depth + 1)
        put(val, depth + 1)
      end
    else
      local kind = t == "function" and "C" or "R"
      local id, extra
      if ref then id, extra = ref(x, kind) end
      if not id then error(extra or ("rpc: a " .. t .. " cannot be sent to another host"), 0) end
      out[#out + 1] = pack("<c1I4", (extra == "C" or extra == "R") and extra or kind, id)
    end
  end
  put(v, 0)
  return table.concat(out)
end

--- rpc.decode(s, deref) -> value; deref(kind, id) -> what a reference names
function M.decode(s, deref)
  local pos = 1
  local function need(n)
    if pos + n - 1 > #s then error("rpc: a frame ends early", 0) end
  end
  local function get(depth)
    need(1)
    local tag = s:sub(pos, pos)
    pos = pos + 1
    if tag == "0" then return nil
    elseif tag == "t" then return true
    elseif tag == "f" then return false
    elseif tag == "i" then need(8); local x; x, pos = unpack("<j", s, pos); return x
    elseif tag == "d" then need(8); local x; x, pos = unpack("<n", s, pos); return x
    elseif tag == "s" then
      need(4)
      local n = unpack("<I4", s, pos)
      need(4 + n)
      local x
      x, pos = unpack("<s4", s, pos)
      return x
    elseif tag == "T" then
      if depth > MAX_DEPTH then error("rpc: a table nested deeper than " .. MAX_DEPTH, 0) end
      need(4)
      local n
      n, pos = unpack("<I4", s, pos)
      local t = {}
      for _ = 1, n do
        local k = get(depth + 1)
        if k == nil or k ~= k then error("rpc: a table key that is nil or NaN", 0) end
        t[k] = get(depth + 1)
      end
      return t
    elseif tag == "R" or tag == "C" then
      need(4)
      local id
      id, pos = unpack("<I4", s, pos)
      if not deref then error("rpc: a reference where none may be", 0) end
      return deref(tag, id)
    end
    error(string.format("rpc: unknown tag 0x%02x", tag:byte()), 0)
  end
  local v = get(0)
  if pos ~= #s + 1 then error("rpc: bytes after the value", 0) end
  return v
end

--- rpc.frame(s) -> s with its length before it
function M.frame(s)
  if #s > M.max_frame then error("rpc: a message over " .. M.max_frame .. " bytes", 0) end
  return pack("<s4", s)
end

--- rpc.read(read) -> the frame's bytes, or nil at the end; read(n) -> n bytes or nil
function M.read(read)
  local h = read(4)
  if h == nil or #h < 4 then return nil end
  local n = unpack("<I4", h)
  if n > M.max_frame then error("rpc: a frame of " .. n .. " bytes", 0) end
  if n == 0 then return "" end
  local s = read(n)
  if s == nil or #s < n then error("rpc: the connection ended inside a frame", 0) end
  return s
end

return M
