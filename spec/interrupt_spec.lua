-- interrupt_spec.lua - SIGINT and SIGTERM end a call blocked in C at once
-- (fwsh.wait, fwsh.proc.run, proc:wait, proc:stop), not when it would have
-- returned: the script unwinds (its transaction rolls back) and fwsh exits
-- 128 + the signal. Each run is a --sandbox fwsh signalled 0.5 s in.
local H = require "helper"

-- Runs `fwsh --sandbox -e script`, sends sig after 0.5 s: exit code, ms to exit after it.
local function interrupted(script, sig)
  local out = H.run({ "sh", "-c", [[
    "$1" --sandbox -e "$2" >/dev/null 2>&1 & pid=$!
    sleep 0.5
    t0=$(date +%s%N)
    kill -"$3" $pid
    wait $pid; rc=$?
    echo $rc $(( ($(date +%s%N) - t0) / 1000000 ))]], "sh", H.build .. "/fwsh", script, sig })
  local rc, ms = out:match("(%d+) (%d+)")
  return tonumber(rc), tonumber(ms)
end

describe("a signal during a blocking call", function()
  local cases = {
    { "fwsh.wait on a link", [[fwsh.wait{ link = "nope0", timeout = 30 }]] },
    { "fwsh.wait on a command", [[fwsh.wait{ run = { "false" }, timeout = 30, interval = 10 }]] },
    { "fwsh.proc.run", [[fwsh.proc.run{ "sleep", "60" }]] },
    { "proc:wait", [[local p = fwsh.proc.spawn{ "sleep", "60" } p:wait()]] },
    { "proc:stop on one that ignores SIGTERM", [[
      local p = fwsh.proc.spawn{ "sh", "-c", "trap '' TERM; while :; do sleep 1; done" }
      fwsh.proc.run{ "sleep", "0.1" }
      p:stop(30)]] },
  }
  for _, c in ipairs(cases) do
    for _, sig in ipairs({ "INT", "TERM" }) do
      it("SIG" .. sig .. " ends " .. c[1] .. " at once", function()
        local rc, ms = interrupted(c[2], sig)
        assert.are.equal(sig == "INT" and 130 or 143, rc)
        assert.truthy(ms < 1000, "exited " .. tostring(ms) .. " ms after the signal")
      end)
    end
  end

  it("rolls back the transaction it interrupts", H.ns(function(ns)
    local out = H.run({ "sh", "-c", [[
      "$1" --netns "$2" -e 'fwsh.transaction(function() fwsh.bridge.add("zz0") fwsh.proc.run{"sleep","60"} end)' \
        >/dev/null 2>&1 & pid=$!
      sleep 0.5; kill -INT $pid; wait $pid; echo $?]], "sh", H.build .. "/fwsh", ns })
    assert.are.equal("130", out:match("%d+"))
    assert.is_nil(H.link(ns, "zz0"))
  end))
end)
