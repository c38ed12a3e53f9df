--- fwsh.blocks - the brace-block syntax keepalived.conf(5) and
-- conntrackd.conf(5) share, read into statements with their line numbers,
-- so that what a reader of either cannot find is named with its place.
--
-- blocks.parse(text, file [, {comments = "#!"}]) -> statements:
--   { { words = { "vrrp_instance", "CLIENT" }, line = 4, block = { ... }, close = 17 }, ... }
-- A word is a run of non-blank characters or a "double-quoted string" (the
-- quotes taken off); '{' opens the block of the statement before it (on its
-- line, or alone on the next), '}' closes it; comments run from one of the
-- comment characters to the end of the line. Raises (op: the reader, object
-- FILE:LINE) on a '}' with nothing open, an unclosed '{' or quote.
-- blocks.find(statements, key) -> the first statement whose first word is key
-- blocks.all(statements, key) -> every such statement, in order
local errors = require "fwsh.errors"

local M = {}

local function words_of(line, comments, fail)
  local out, i, n = {}, 1, #line
  while i <= n do
    local c = line:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif comments:find(c, 1, true) then
      break
    elseif c == "{" or c == "}" then
      out[#out + 1] = { brace = c }
      i = i + 1
    elseif c == '"' then
      local j = line:find('"', i + 1, true)
      if not j then fail("a quote is not closed") end
      out[#out + 1] = line:sub(i + 1, j - 1)
      i = j + 1
    else
      local j = i
      while j <= n and not line:sub(j, j):match("[%s{}\"]") do j = j + 1 end
      out[#out + 1] = line:sub(i, j - 1)
      i = j
    end
  end
  return out
end

function M.parse(text, file, o)
  local op = (o and o.op) or "blocks.parse"
  local comments = (o and o.comments) or "#"
  local top = {}
  local stack = { { list = top } }
  local lineno = 0
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local function fail(why) errors.raise(op, file .. ":" .. lineno, why, 0) end
    local cur -- the statement this line started
    for _, w in ipairs(words_of(line, comments, fail)) do
      local list = stack[#stack].list
      if type(w) == "string" then
        if not cur then
          cur = { words = {}, line = lineno }
          list[#list + 1] = cur
        end
        cur.words[#cur.words + 1] = w
      elseif w.brace == "{" then
        local owner = cur or list[#list]
        if not owner or owner.block then fail("a '{' with no statement before it") end
        owner.block = {}
        stack[#stack + 1] = { list = owner.block, owner = owner }
        cur = nil
      else
        if #stack == 1 then fail("a '}' with no block open") end
        stack[#stack].owner.close = lineno
        stack[#stack] = nil
        cur = nil
      end
    end
  end
  if #stack > 1 then
    local owner = stack[#stack].owner
    errors.raise(op, file .. ":" .. owner.line, "the block of '" .. table.concat(owner.words, " ")
                                                 .. "' is not closed", 0)
  end
  return top
end

function M.all(list, key)
  local out = {}
  for _, s in ipairs(list or {}) do
    if s.words[1] and s.words[1]:lower() == key:lower() then out[#out + 1] = s end
  end
  return out
end

function M.find(list, key)
  return M.all(list, key)[1]
end

return M
