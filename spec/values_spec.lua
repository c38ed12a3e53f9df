-- values_spec.lua - a value keeps its meaning or is refused: a number the
-- kernel would keep as another (an impairment below netem's unit became "no
-- impairment", a rate of 100 bit/s read back 96, a bridge time of 1e-300 s
-- became 0), an MTU of -1, an unusable FWSH_LAB_ROOT (it fell back to /tmp),
-- a zero byte in the REPL's input (the line was dropped), a link name that is
-- not UTF-8 in JSON (the document was invalid). Each case reads the kernel or
-- the file system back with tc, ip and ls.
local H = require "helper"
local fwsh = H.fwsh
local json = require "dkjson"

local function root_qdisc(dev)
  for _, q in ipairs(json.decode((H.run({ "tc", "-j", "qdisc", "show", "dev", dev }))) or {}) do
    if q.root then return q end
  end
end

local function qdiscs(dev)
  return (H.run({ "tc", "qdisc", "show", "dev", dev }))
end

describe("values", function()
  it("an impairment below the kernel's unit, or a rate it cannot keep, is refused", H.ns(function()
    H.run({ "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb" })
    local va = fwsh.link.get("va")
    local before = qdiscs("va")
    for _, c in ipairs({
      { { rate = 0.4 }, "field 'rate'", "whole number of bytes" },
      { { rate = 1e-300 }, "field 'rate'", "whole number of bytes" },
      { { rate = -0.0 }, "field 'rate'" },
      { { rate = 100 }, "field 'rate'", "multiple of 8" },
      { { rate = "100bit" }, "field 'rate'", "multiple of 8" },
      { { rate = " 8000" }, "field 'rate'", "is not a rate" },
      { { rate = "0x1000" }, "field 'rate'", "is not a rate" },
      { { rate = "inf" }, "field 'rate'" },
      { { rate = "nan" }, "field 'rate'" },
      { { delay = 1e-300 }, "field 'delay'", "below the kernel's unit" },
      { { delay = "0.0001ms" }, "field 'delay'", "below the kernel's unit" },
      { { loss = 1e-300 }, "field 'loss'", "below the kernel's unit" },
      { { loss = -0.0 }, "field 'loss'" },
    }) do
      H.raises(function() va:impair(c[1]) end, table.unpack(c, 2))
      assert.are.equal(before, qdiscs("va"))
    end
    -- what can be kept is kept, and reads back the same
    va:impair{ rate = 1000 }
    assert.are.equal(125, root_qdisc("va").options.rate) -- tc -j: bytes per second
    assert.are.same({ rate = 1000 }, va:impair())
    -- a bad value leaves the impairment as it was, not removed
    H.raises(function() va:impair{ rate = 0.4 } end, "field 'rate'")
    assert.are.equal(125, root_qdisc("va").options.rate)
  end))

  it("a bridge time that is not whole hundredths is refused, not rounded to 0", H.ns(function(ns)
    for _, c in ipairs({ { forward_delay = 1e-300 }, { ageing_time = 1e-300 }, { forward_delay = 0.125 } }) do
      H.raises(function() fwsh.bridge.add("br1", c) end, "hundredths")
      assert.is_nil(H.link(ns, "br1"))
    end
    fwsh.bridge.add("br1", { forward_delay = 2.5, ageing_time = 0.1 })
    local d = H.link(ns, "br1").linkinfo.info_data
    assert.are.equal(250, d.forward_delay)
    assert.are.equal(10, d.ageing_time)
    H.raises(function() fwsh.link.get("br1"):set{ ageing_time = 1e-300 } end, "hundredths")
    assert.are.equal(10, H.link(ns, "br1").linkinfo.info_data.ageing_time)
  end))

  it("vxlan.add{mtu = -1} is refused, not taken for the default", H.ns(function(ns)
    H.raises(function() fwsh.vxlan.add("vx0", { id = 42, mtu = -1 }) end, "field 'mtu'", "out of range")
    assert.is_nil(H.link(ns, "vx0"))
  end))

  it("an unusable FWSH_LAB_ROOT is an error, not /tmp", function()
    local dir = assert(H.run({ "mktemp", "-d" })):gsub("\n$", "")
    local lab = string.format("vals%d", math.random(1, 1e6))
    local function tmp_dirs()
      return (H.run({ "sh", "-c", "ls -d /tmp/fwsh-" .. lab .. ".* 2>/dev/null" }))
    end
    for _, root in ipairs({ "relative", "/" .. ("x"):rep(300), dir .. "/a*" }) do
      local out, ok = H.fwsh_cmd({ "--lab", lab, "-e", "print(fwsh.lab_dir())" },
                                 { prefix = { "env", "FWSH_LAB_ROOT=" .. root }, stderr = true })
      local left = tmp_dirs()
      H.run({ "sh", "-c", "rm -rf /tmp/fwsh-" .. lab .. ".*" }) -- what a fallback would leave
      assert.falsy(ok, out)
      assert.truthy(out:find("FWSH_LAB_ROOT", 1, true), out)
      assert.are.equal("", left)
    end
    -- an absolute one is used
    local out, ok = H.fwsh_cmd({ "--lab", lab, "-e", "print(fwsh.lab_dir()); fwsh.down()" },
                               { prefix = { "env", "FWSH_LAB_ROOT=" .. dir }, stderr = true })
    assert.truthy(ok, out)
    assert.truthy(out:find(dir .. "/fwsh-" .. lab .. ".", 1, true), out)
    H.run({ "rm", "-r", "--one-file-system", dir })
  end)

  it("a zero byte in the REPL's input is an error, not the end of the line", function()
    local file = os.tmpname()
    H.write_file(file, "print('one')\n\0print('two')\nprint('three')\n")
    local out = H.run({ "sh", "-c", H.quote(H.build .. "/fwsh") .. " < " .. H.quote(file) .. " 2>&1" })
    os.remove(file)
    assert.truthy(out:find("one\n", 1, true), out)
    assert.truthy(out:find("stdin:1: unexpected symbol", 1, true), out)
    assert.falsy(out:find("two", 1, true), out)
    assert.truthy(out:find("three\n", 1, true), out)
  end)

  it("show --json is valid UTF-8 with a link named by bytes that are not", H.ns(function(ns)
    local br, port = "\255b", "\254x"
    H.run({ "ip", "link", "add", br, "type", "bridge" })
    H.run({ "ip", "link", "add", port, "type", "veth", "peer", "name", "pp" })
    H.run({ "ip", "link", "set", port, "master", br })
    H.run({ "ip", "link", "add", "br\u{e9}", "type", "bridge" }) -- UTF-8 already: kept as it is
    assert.truthy(H.link(ns, br) and H.link(ns, "br\u{e9}"))
    local out, ok = H.fwsh_in(ns, { "show", "--json" })
    assert.truthy(ok, out)
    assert.truthy(utf8.len(out), "not UTF-8: " .. out)
    local doc = assert(json.decode(out))
    local names = {}
    for _, b in ipairs(doc.bridges) do
      names[b.name] = b
    end
    -- each byte that is not UTF-8 is the code point of its value
    assert.truthy(names["\u{ff}b"], out)
    assert.are.equal("\u{fe}x", names["\u{ff}b"].ports[1].name)
    assert.truthy(names["br\u{e9}"], out)
    local jq, jq_ok = H.run({ "sh", "-c", "printf '%s' " .. H.quote(out) .. " | jq -r '.bridges[].name'" })
    assert.truthy(jq_ok, jq)
    -- and fwsh.show{json=true} is the same document
    assert.are.equal(out, fwsh.show{ json = true, print = false })
  end))
end)
