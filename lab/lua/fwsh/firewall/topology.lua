-- topology.lua - the firewall lab's facts, each stated once: its networks,
-- bridges, the firewalls' and the client's ports (address, tap, bridge),
-- the virtual IPs with their VRIDs and virtual MACs, the ports its traffic
-- uses. Everything else (the build, the daemons' configurations, the
-- experiments, the conntrackd ignore list) derives from these tables.
local keepalived = require "fwsh.keepalived"

local T = {}

-- br0 grounds the host: its address is the server's
T.net = { server = "10.0.0.0/24", client = "10.1.0.0/24", sync = "10.2.0.0/24" }
T.server = "10.0.0.1"
T.bridges = { "br0", "br1", "br2" }
T.grounded = { br0 = T.server .. "/24" }

-- VRRP's advert interval by default, seconds (firewall.build's advert_int,
-- --advert): the backup takes over after three missed adverts and a skew of
-- (256 - priority) / 256 of one, 36 ms with 10 ms adverts and priority 100.
-- A VM under TCG keeps 100 ms (about 340 ms).
T.advert_int = { netns = 0.01, qemu = 0.1 }
-- ... and for a lab declared to carry flows connections: above 30,000, 100 ms
-- on namespace nodes too. At 100,000 the 2 cores here carry 100,000 packets
-- a second through both firewalls, and with 10 ms adverts the starved
-- backup took over and gave back 335 times in one run (each time a commit,
-- up to 23 s long, and its cache emptied after it); with 100 ms, once.
function T.advert_for(backend, flows)
  backend = backend or "netns"
  if backend == "netns" and flows and flows > 30000 then return 0.1 end
  return T.advert_int[backend]
end
T.probe_port, T.stream_port, T.sync_port, T.ftp_port = 5000, 5001, 3780, 21
-- fwsh-flows (lab:flows_start): one server process per port, from the first
-- port on (a process holds at most ~15,000 connections: the hard descriptor
-- limit here is 20,000), so 8 ports carry 120,000; the client's extra
-- addresses, from two /26 of its network: plain ones, and those that
-- firewall.build{nat="half"} translates (so that both halves cross the
-- same firewalls in the same run)
T.flows_port, T.flows_ports = 5002, 8
T.flows_src = { plain = "10.1.0.64/26", nat = "10.1.0.192/26" }
T.vni = 4200 -- br0, br1, br2 stretched across hosts: VNI 4200, 4201, 4202

-- one VRRP instance per side: its virtual IP, VRID, the firewall port it
-- lives on and the name of keepalived's virtual MAC link there
T.vrid = { client = 51, server = 52 }
T.vip = { client = "10.1.0.1", server = "10.0.0.254" }
T.vmac = { client = keepalived.vmac(T.vrid.client), server = keepalived.vmac(T.vrid.server) }
T.vmac_link = { client = "vc51", server = "vs52" }
T.side_port = { client = "eth1", server = "eth0" }

-- a firewall's ports: eth0 on br0 (server side), eth1 on br1 (client
-- side), eth2 on br2 (conntrackd's sync link); the tap is the host's end
T.port_bridge = { eth0 = "br0", eth1 = "br1", eth2 = "br2" }
T.fw = {
  ["fw-1"] = { eth0 = "10.0.0.2/24", eth1 = "10.1.0.2/24", eth2 = "10.2.0.1/24",
               taps = { eth0 = "net01", eth1 = "net11", eth2 = "net21" }, peer = "fw-2" },
  ["fw-2"] = { eth0 = "10.0.0.3/24", eth1 = "10.1.0.3/24", eth2 = "10.2.0.2/24",
               taps = { eth0 = "net02", eth1 = "net12", eth2 = "net22" }, peer = "fw-1" },
}
T.client = { port = "eth0", bridge = "br1", tap = "net13", address = "10.1.0.10/24" }

--- topology.host(cidr) -> the address without its prefix length
function T.host(cidr) return (cidr:match("^[^/]+")) end

--- topology.taps() -> { {tap, bridge}, ... }: every port's host end, with its bridge
function T.taps()
  local list = {}
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    for _, port in ipairs({ "eth0", "eth1", "eth2" }) do
      list[#list + 1] = { T.fw[name].taps[port], T.port_bridge[port] }
    end
  end
  list[#list + 1] = { T.client.tap, T.client.bridge }
  table.sort(list, function(a, b) return a[1] < b[1] end)
  return list
end

--- topology.own_addresses() -> the firewalls' own addresses and the
--  virtual IPs: what conntrackd does not replicate
function T.own_addresses()
  local list = {}
  for _, name in ipairs({ "fw-1", "fw-2" }) do
    for _, port in ipairs({ "eth2", "eth0", "eth1" }) do list[#list + 1] = T.host(T.fw[name][port]) end
  end
  list[#list + 1] = T.vip.client
  list[#list + 1] = T.vip.server
  return list
end

return T
