-- build_options.lua - firewall.build's options: the keys it takes (stated
-- once: build refuses any other, and the scenario runner hands build only
-- these out of everything its command line holds) and the checks of their
-- values, made before anything is built.
local conntrackd = require "fwsh.conntrackd"
local T = require "fwsh.firewall.topology"
local errors = require "fwsh.errors"

local M = {}

-- (see firewall.build for what each does)
M.KEYS = { "master", "advert_int", "version", "preempt", "backend", "tcp_loose", "nat", "nat_to", "ftp",
           "display", "cable", "config", "map", "flows", "fix", "hosts", "qemu",
           "image", "kernel", "initrd", "append", "ready_line", "ready_port", "ready_timeout", "keep" }

--- build_options.pick(o) -> a new table of o's options that firewall.build
--  takes (M.KEYS), the rest (a scenario's --reps, --plot, its own) left out
function M.pick(o)
  local out = {}
  for _, k in ipairs(M.KEYS) do out[k] = o[k] end
  return out
end

-- Raises firewall.build's error for key, naming the line that called build.
local function bad(key, why) errors.raise("firewall.build", key, why, 4) end

--- build_options.check(o) -> backend ("netns" or "qemu"): raises an fwsh
--  error (op firewall.build, the option, why) for an unknown option or a
--  value build cannot take, naming the line that called build
function M.check(o)
  errors.keys("firewall.build", nil, o, M.KEYS, 3)
  if o.master and not T.fw[o.master] then bad(o.master, "master is fw-1 or fw-2") end
  if o.nat ~= nil and o.nat ~= true and o.nat ~= false and o.nat ~= "half" then
    bad("nat", "nat is true (the client network), \"half\" (the flows' NAT addresses) or false")
  end
  if o.display ~= nil and (o.backend ~= "qemu" or (o.display ~= "vnc" and o.display ~= "spice")) then
    bad("display", "display is \"vnc\" or \"spice\", with the qemu backend")
  end
  if o.cable ~= nil and ((o.backend or (o.image and "qemu")) ~= "qemu" or (o.cable ~= "qmp" and o.cable ~= "tap")) then
    bad("cable", "cable is \"qmp\" or \"tap\", with the qemu backend")
  end
  if o.ftp ~= nil and o.ftp ~= "rule" and o.ftp ~= "none" then
    bad("ftp", "ftp is \"rule\" (a ct helper by rule) or \"none\" (no helper)")
  end
  if o.hosts ~= nil and (o.backend or "netns") ~= "netns" then
    bad("hosts", "a lab across hosts has netns nodes (qemu on hosts: not yet)")
  end
  if o.hosts ~= nil and o.ftp then bad("ftp", "not yet on a lab across hosts") end
  if o.config ~= nil then
    for _, k in ipairs({ "advert_int", "version", "ftp", "preempt", "nat_to", "fix", "flows" }) do
      if o[k] ~= nil then bad(k, "comes from the configuration given (config)") end
    end
    if o.hosts ~= nil or o.image ~= nil or (o.backend or "netns") ~= "netns" then
      bad("config", "a configuration of your own runs on namespace nodes, on one host (not yet: qemu, hosts)")
    end
  end
  if o.keep ~= nil and (type(o.keep) ~= "string" or o.keep == "" or o.keep:find("\0", 1, true)) then
    bad("keep", "keep is a directory (made if missing) the lab's files are copied to when it closes")
  end
  -- (a firewall's own VM image makes the lab's nodes VMs: firewall.image)
  local backend = o.backend or (o.image ~= nil and "qemu") or "netns"
  if o.fix ~= nil and o.fix ~= "on" and o.fix ~= "off" then bad("fix", "fix is \"on\" (the default) or \"off\"") end
  -- the gate needs fwsh-notify to open it, which a VM's image does not have
  if o.fix == "on" and backend ~= "netns" then
    bad("fix", "fix = \"on\" needs the netns backend (fwsh-notify is not in the VM image)")
  end
  if o.flows ~= nil then
    if math.type(o.flows) ~= "integer" or o.flows < 1 or o.flows > conntrackd.max_flows then
      bad("flows", string.format("flows is a count of connections, 1 to %d", conntrackd.max_flows))
    end
    -- A namespace cannot raise nf_conntrack_max: it is the host's (read-only
    -- outside the initial namespace), so a table that cannot fit is refused
    -- here, not found full in the middle of a run.
    local f = backend == "netns" and io.open("/proc/sys/net/netfilter/nf_conntrack_max", "r")
    local max = f and tonumber(f:read("l"))
    if f then f:close() end
    if max and max < 2 * o.flows then
      bad("flows", string.format(
        "%d connections need nf_conntrack_max >= %d (twice, for those opened while others close); the host's is %d",
        o.flows, 2 * o.flows, max))
    end
  end
  return backend
end

return M
