-- option_rpc.lua ROOT FAKE - run by the fwsh program for options_spec.lua:
-- the option cases of option_cases.lua, called through fwsh.host's RPC on a
-- host that is this one (fwsh --serve, no ssh). One line per case: "case N",
-- "refused" or "accepted", and the error's message on one line.
local root, fake = arg[1], arg[2]
package.path = root .. "/spec/?.lua;" .. package.path
local C = require "option_cases"

-- its state directory (the log, the hosts record) in the fake root, not /tmp
local dir = fake .. "/host"
assert(os.execute("mkdir " .. dir))
local h <close> = fwsh.host("here", { ssh = false, dir = dir })
for i, c in ipairs(C.cases(root, h, fake)) do
  local ok, err = pcall(c.call, c.o)
  print(string.format("case %d\t%s\t%s", i, ok and "accepted" or "refused",
                      (tostring(err):gsub("[\r\n\t]", " "))))
end
