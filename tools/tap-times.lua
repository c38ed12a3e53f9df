-- tap-times.lua - busted's TAP output, with each spec file's wall time after
-- its cases as a TAP comment ("# 12.3 s spec/x_spec.lua"): test.sh's passes
-- show where their minutes go without a run of their own to measure it.
--   busted -o tools/tap-times.lua ...
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.TAP"(options)
  busted.subscribe({ "file", "end" }, function(file)
    if file.duration then
      io.write(string.format("# %.1f s %s\n", file.duration, file.name))
      io.flush()
    end
    return nil, true
  end)
  return handler
end
