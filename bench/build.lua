-- build.lua - the N x T workload (bench/README.md) written as a user would: N bridges
-- br000.. (up, grounding: the default), each with T taps t000-0.. attached.
--
-- usage: fwsh [--netns NS] bench/build.lua [N [T [transaction|batch]]]
--   transaction   build it all inside one fwsh.transaction (all or nothing)
--   batch         build it all inside one fwsh.batch (made at its end, each
--                 kind of request in a run of its own)
local N = tonumber(arg[1] or 100)
local T = tonumber(arg[2] or 4)
local mode = arg[3] or "plain"
assert(N and T and (mode == "plain" or mode == "transaction" or mode == "batch"),
       "usage: build.lua [N [T [transaction|batch]]]")

fwsh.lab("bench")

local function build()
  for i = 0, N - 1 do
    local br = fwsh.bridge.add(string.format("br%03d", i))
    for k = 0, T - 1 do
      fwsh.tap.add(string.format("t%03d-%d", i, k), { bridge = br })
    end
  end
end

if mode == "transaction" then
  fwsh.transaction(build)
elseif mode == "batch" then
  fwsh.batch(build)
else
  build()
end
