-- console_spec.lua - `fwsh console LAB NODE`: a command, or a shell, inside a
-- lab's namespace node, found by the lab's tag; refused for a node the lab
-- does not have, with the reason, and nothing changed.
local H = require "helper"

describe("fwsh console", function()
  local lab = "cons-spec"
  local node = string.format("fwsh-spec-cons-%d", math.random(1, 1e9))

  local function with_node(fn)
    local out, ok = H.fwsh_cmd({ "--lab", lab, "-e", string.format("fwsh.netns.add(%q)", node) }, { stderr = true })
    assert(ok, out)
    local res = table.pack(pcall(fn))
    H.fwsh_cmd({ "down", lab })
    H.run({ "ip", "netns", "delete", node })
    if not res[1] then error(res[2], 0) end
  end

  it("runs a command inside a namespace node of the lab, and reads its answer", function()
    with_node(function()
      -- the node's own lo, with the lab's tag: read from inside the namespace
      local out, ok = H.fwsh_cmd({ "console", lab, node, "--", "ip", "-o", "link", "show", "lo" }, { stderr = true })
      assert(ok, out)
      assert.truthy(out:find("alias fwsh:" .. lab, 1, true), out)
      -- its exit status is the command's
      local _, _, code = H.fwsh_cmd({ "console", lab, node, "--", "sh", "-c", "exit 7" })
      assert.are.equal(7, code)
      -- a shell, fed from a pipe, inside the namespace
      out = H.fwsh_cmd({ "console", lab, node }, { stdin = "ip -o link show | wc -l\n" })
      assert.are.equal("1", out:match("%d+"))
    end)
  end)

  it("refuses a node the lab does not have, saying why, and changes nothing", function()
    with_node(function()
      local before = H.netns_names()
      local out, ok, code = H.fwsh_cmd({ "console", lab, "no-such-node", "--", "true" }, { stderr = true })
      assert.falsy(ok)
      assert.are.equal(1, code)
      assert.truthy(out:find("lab " .. lab .. " has no node no-such-node (no namespace and no VM of that name here)", 1, true), out)
      out = H.fwsh_cmd({ "console", "other-lab", node, "--", "true" }, { stderr = true })
      assert.truthy(out:find("that namespace is another lab's", 1, true), out)
      out = H.fwsh_cmd({ "console", "a;b", node, "--", "true" }, { stderr = true })
      assert.truthy(out:find("fwsh console: lab a;b:", 1, true), out)
      out = H.fwsh_cmd({ "console", lab, "../x", "--", "true" }, { stderr = true })
      assert.truthy(out:find("fwsh console: node ../x:", 1, true), out)
      out, ok, code = H.fwsh_cmd({ "console", lab }, { stderr = true })
      assert.are.equal(2, code)
      assert.truthy(out:find("usage: fwsh console LAB NODE", 1, true), out)
      assert.are.same(before, H.netns_names())
    end)
  end)
  it("a VM node: a command through its agent, its serial console, its display", function()
    local img, why = H.guest_image()
    if not img then pending(why) return end
    local script, log = os.tmpname(), os.tmpname()
    H.write_file(script, [[
      local node = require "fwsh.node"
      local dir = fwsh.lab_dir()
      local n = node.new{ name = "vmc", backend = "qemu", dir = dir, qemu = { accel = "tcg", display = "vnc" } }
      local s = node.new{ name = "vms", backend = "qemu", dir = dir, qemu = { accel = "tcg", display = "spice" } }
      n:launch()
      s:launch()
      n:ready()
      s:ready()
      print("up")
      io.stdout:flush()
      fwsh.wait{ fn = function() return false end, timeout = 600 }
    ]])
    local p = H.fwsh.proc.spawn({ "env", "-u", "LD_PRELOAD", H.build .. "/fwsh", "--lab", "vmcons", script },
                                { stdout = log })
    local ok, err = pcall(function()
      H.fwsh.wait{ fn = function() return (H.read_file(log) or ""):find("up\n", 1, true) ~= nil end,
                   interval = 0.1, timeout = 240 }
      -- through the agent: the VM's own answer and exit status
      local out, cok = H.fwsh_cmd({ "console", "vmcons", "vmc", "--", "cat", "/proc/sys/kernel/hostname" },
                                  { stderr = true })
      assert(cok, out)
      assert.are.equal("vmc\n", out)
      local _, _, code = H.fwsh_cmd({ "console", "vmcons", "vmc", "--", "sh", "-c", "exit 5" })
      assert.are.equal(5, code)
      -- the serial console: a shell on ttyS0 computes what was typed
      out = H.fwsh_cmd({ "console", "vmcons", "vmc" }, { stdin = "echo MARK-$((6*7))\n" })
      assert.truthy(out:find("MARK-42", 1, true), out)
      -- the display: a VNC server at the address printed, on 127.0.0.1 only
      -- (its RFB greeting read there), with a shell on the screen's tty1
      out, cok = H.fwsh_cmd({ "console", "vmcons", "vmc", "--display" }, { stderr = true })
      assert(cok, out)
      local port = out:match("^vnc://127%.0%.0%.1:(%d+)\n$")
      assert.truthy(port, out)
      local greeting = H.run({ "timeout", "5", "bash", "-c",
                               "exec 3<>/dev/tcp/127.0.0.1/" .. port .. "; head -c 12 <&3" })
      assert.truthy(greeting:match("^RFB %d%d%d%.%d%d%d\n$"), greeting)
      out = H.fwsh_cmd({ "console", "vmcons", "vmc", "--", "sh", "-c",
                         "for p in /proc/[0-9]*; do readlink $p/fd/0; done" })
      assert.truthy(out:find("/dev/tty1\n", 1, true), out)
      -- SPICE: on a unix socket in the lab's directory, where qemu listens
      out, cok = H.fwsh_cmd({ "console", "vmcons", "vms", "--display" }, { stderr = true })
      assert(cok, out)
      local sock = out:match("^spice%+unix://(/%S+%.spice)\n$")
      assert.truthy(sock, out)
      assert.truthy(H.run({ "ss", "-xlnH" }):find(sock, 1, true), sock)
      -- a node without a display says so
      out, cok = H.fwsh_cmd({ "console", "vmcons", "nodisplay", "--display" }, { stderr = true })
      assert.is_not_true(cok)
      assert.truthy(out:find("no display", 1, true), out)
    end)
    p:kill("TERM")
    pcall(p.wait, p, 30)
    p:stop(1)
    H.fwsh_cmd({ "down", "vmcons" })
    os.remove(script)
    os.remove(log)
    if not ok then error(err, 0) end
  end)
end)
