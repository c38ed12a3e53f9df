-- teardown.lua - removes what bench/build.lua made, as a user of fwsh would:
-- every link of lab "bench", one by one, taps before their bridges.
--
-- usage: fwsh [--netns NS] bench/teardown.lua
fwsh.lab("bench")

local taps, bridges = {}, {}
for _, l in ipairs(fwsh.link.list()) do
  if l:info().lab == "bench" then
    table.insert(l.kind == "bridge" and bridges or taps, l)
  end
end
for _, l in ipairs(taps) do l:delete() end
for _, l in ipairs(bridges) do l:delete() end
