-- own-images.lua - the lab's two firewalls as VM images of their own, with no
-- fwsh inside, as a user would bring them: for each of fw-1 and fw-2,
-- OUT/NAME/disk.qcow2 (its root: the lab's addresses on eth0, eth1, eth2,
-- forwarding, keepalived with the lab's VRRP: VRIDs 51 and 52, virtual
-- MACs, 100 ms adverts, fw-1 preferred, nopreempt; no conntrackd, no
-- ruleset), vmlinuz and initrd (lab/guest/disk.sh, from the guest image's
-- packages: no download). Then any scenario runs on them:
--
-- usage: fwsh scripts/lab/own-images.lua OUT [GUEST]
--   fwsh --sandbox scripts/lab/scenarios/fw1-dies.lua --backend qemu \
--     --image fw-1=OUT/fw-1/disk.qcow2 --image fw-2=OUT/fw-2/disk.qcow2 \
--     --kernel OUT/fw-1/vmlinuz --initrd OUT/fw-1/initrd \
--     --append "root=/dev/vda console=ttyS0" --ready-line "^ownimage: ready"
local T = require "fwsh.firewall.topology"
local keepalived = require "fwsh.keepalived"
local node = require "fwsh.node"
local errors = require "fwsh.errors"

local out, guest = ...
if not out then errors.raise("own-images", nil, "usage: own-images.lua OUT [GUEST]", 0) end
guest = guest or node.image()

for _, name in ipairs({ "fw-1", "fw-2" }) do
  local a = T.fw[name]
  local dir = out .. "/" .. name
  fwsh.proc.run({ "mkdir", "-p", dir })
  local function instance(side, iface, vip, vmac)
    return { name = side, interface = iface, vrid = T.vrid[side:lower()], priority = name == "fw-1" and 150 or 100,
             advert_int = T.advert_int.qemu, version = 3, vips = { vip }, vmac = vmac, nopreempt = true }
  end
  local conf = dir .. "/keepalived.conf"
  local f = assert(io.open(conf, "w"))
  f:write(keepalived.config{ router_id = name, sync_group = { name = "FW" }, instances = {
    instance("CLIENT", T.side_port.client, T.vip.client .. "/32", T.vmac_link.client),
    instance("SERVER", T.side_port.server, T.vip.server .. "/32", T.vmac_link.server) } })
  f:close()
  local r = fwsh.proc.run({ node.tool("disk.sh"), dir, guest, "eth0=" .. a.eth0, "eth1=" .. a.eth1,
                            "eth2=" .. a.eth2, "keepalived=" .. conf }, { timeout = 600 })
  if not r.ok then errors.raise("own-images", name, r.out .. r.err, 0) end
  io.write(r.out)
end
