--- fwsh.nftables - a stateful, per-interface forwarding ruleset for a
-- firewall, as nft(8) text from a Lua table, every value validated.
--
-- nftables.firewall{
--   client = { ifaces = { "eth1", "vc51" }, net = "10.1.0.0/24" },
--   server = { ifaces = { "eth0", "vs52" }, net = "10.0.0.0/24" },
--   sync = { iface = "eth2", port = 3780 },
--   services = { { proto = "tcp", port = 5001 }, { proto = "udp", port = 5000 }, { proto = "icmp" },
--                { proto = "tcp", port = 21, helper = "ftp" } },
-- } -> text for fwsh.nft.run
-- A service with a helper gets a conntrack helper by rule (a `ct helper`
-- object, `ct helper set` on the connection's first packet): the kernel no
-- longer assigns helpers by port by itself (nf_conntrack_helper, off since
-- Linux 4.7, gone since 6.0), and a rule is what a new master applies to a
-- replicated connection too. Its related connections (FTP's data
-- connection) pass as `related`.
-- forward: new connections only from the client network to the services;
-- established/related back; everything else dropped and counted.
-- input: VRRP on the client and server side, conntrackd sync on the sync link.
-- pending = true: the set `pending` (holding tcp when the ruleset is loaded)
-- makes forward drop, never reject, a TCP packet that would open a
-- connection without a SYN (a mid-stream packet the kernel would pick up,
-- nf_conntrack_tcp_loose) and count it in `pending_dropped`; the new master
-- empties the set once `conntrackd -c` has committed its peer's
-- connections (nftables.pending_done), a backup fills it again
-- (nftables.pending_again). Until then a connection this firewall does not
-- know yet is neither picked up half-way (with NAT, under a translation
-- that differs from the old master's: the server resets it) nor answered.
local V = require "fwsh.validate"

local M = {}
local G = "nftables"

-- The kernel's conntrack helpers fwsh knows, and the protocol each follows.
local HELPERS = { ftp = "tcp", tftp = "udp", irc = "tcp", sip = "udp", sane = "tcp", amanda = "udp",
                  ["netbios-ns"] = "udp", snmp = "udp", pptp = "tcp" }
local HELPER_LIST = "ftp, tftp, irc, sip, sane, amanda, netbios-ns, snmp, pptp"

local function ifset(field, list)
  local q = {}
  V.list(G, field, list)
  for i, n in ipairs(list) do q[i] = '"' .. V.name(G, field .. "[" .. i .. "]", n, 15) .. '"' end
  return "{ " .. table.concat(q, ", ") .. " }"
end

function M.firewall(c)
  V.table(G, "the configuration", c)
  for _, part in ipairs({ "client", "server", "sync" }) do V.table(G, part, c[part]) end
  local client, server = ifset("client.ifaces", c.client.ifaces), ifset("server.ifaces", c.server.ifaces)
  local cnet = V.ipv4(G, "client.net", c.client.net, { prefix = true })
  local snet = V.ipv4(G, "server.net", c.server.net, { prefix = true })
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add("flush ruleset")
  add("table inet fwsh {")
  for i, s in ipairs(V.list(G, "services", c.services or {})) do
    if s.helper ~= nil then
      local f = "services[" .. i .. "]"
      if not HELPERS[s.helper] then
        V.name(G, f .. ".helper", tostring(s.helper))
        V.fail(G, "%s.helper %q refused: one of %s", f, tostring(s.helper), HELPER_LIST)
      end
      if s.proto ~= HELPERS[s.helper] then
        V.fail(G, "%s.helper %q refused: it follows %s, not %s", f, s.helper,
                            HELPERS[s.helper], tostring(s.proto))
      end
      add('  ct helper %s-%d { type "%s" protocol %s; l3proto ip; }', s.helper,
          V.int(G, f .. ".port", s.port, 1, 65535), s.helper, s.proto)
    end
  end
  add("  counter forward_dropped { }")
  add("  counter input_dropped { }")
  if c.pending ~= nil and type(c.pending) ~= "boolean" then
    V.fail(G, "pending %s refused: true or false", tostring(c.pending))
  end
  if c.pending then
    add("  counter pending_dropped { }")
    add("  set pending { type inet_proto; elements = { tcp } }")
  end
  add("  chain forward {")
  add("    type filter hook forward priority filter; policy drop;")
  add("    ct state established,related accept")
  if c.pending then
    add("    ct state new meta l4proto @pending tcp flags & (fin | syn | rst | ack) != syn counter name pending_dropped drop")
  end
  for i, s in ipairs(c.services or {}) do
    local f = "services[" .. i .. "]"
    local rule = string.format("    iifname %s oifname %s ip saddr %s ip daddr %s ct state new",
                               client, server, cnet, snet)
    if s.proto == "icmp" then
      add("%s icmp type echo-request accept", rule)
    elseif s.proto == "tcp" or s.proto == "udp" then
      local port = V.int(G, f .. ".port", s.port, 1, 65535)
      local helper = s.helper and string.format(' ct helper set "%s-%d"', s.helper, port) or ""
      add("%s %s dport %d%s accept", rule, s.proto, port, helper)
    else
      V.name(G, f .. ".proto", tostring(s.proto))
      V.fail(G, "%s.proto %q refused: tcp, udp or icmp", f, tostring(s.proto))
    end
  end
  add("    counter name forward_dropped drop")
  add("  }")
  add("  chain input {")
  add("    type filter hook input priority filter; policy drop;")
  add("    iif lo accept")
  add("    ct state established,related accept")
  add("    iifname %s ip protocol vrrp accept", client)
  add("    iifname %s ip protocol vrrp accept", server)
  add("    iifname %s udp dport %d accept", ifset("sync.iface", { c.sync.iface }),
      V.int(G, "sync.port", c.sync.port or 3780, 1, 65535))
  add("    icmp type echo-request accept")
  add("    counter name input_dropped drop")
  add("  }")
  add("  chain output {")
  add("    type filter hook output priority filter; policy accept;")
  add("  }")
  add("}")
  return table.concat(out, "\n") .. "\n"
end

--- nftables.pending_done() -> argv: empties the ruleset's `pending` set
--  (idempotent: flushing an empty set succeeds)
function M.pending_done(binary)
  return { binary or "/usr/sbin/nft", "flush", "set", "inet", "fwsh", "pending" }
end

--- nftables.pending_again(file) -> argv, text: puts tcp back into
--  `pending` (adding an element that is there succeeds); text is what the
--  file must hold (its braces are no plain words for keepalived's command)
function M.pending_again(file, binary)
  return { binary or "/usr/sbin/nft", "-f", V.path(G, "file", file) },
         "add element inet fwsh pending { tcp }\n"
end

-- An IPv4 address (no prefix) as a number; a prefix as (network, mask).
local function ip_number(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)")
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

--- nftables.contains(net, addr) -> whether the IPv4 address addr is in the prefix net
local function contains(net, addr)
  local bits = tonumber(net:match("/(%d+)$"))
  local size = 1 << (32 - bits)
  return ip_number(net) // size == ip_number(addr) // size
end
M.contains = contains

--- nftables.nat{ from = "10.1.0.0/24", out = { "eth0", "vs52" }, to = "10.0.0.254",
--  server_net = "10.0.0.0/24" } -> text: source NAT of what comes from the
--  client network and leaves by the server side to one address of the server
--  network (a virtual IP, so that a failover keeps every translation: the
--  backup has the same address and, by conntrackd, the same connections).
--  Refused: an address outside server_net.
function M.nat(c)
  V.table(G, "the NAT configuration", c)
  local from = V.ipv4(G, "nat.from", c.from, { prefix = true })
  local net = V.ipv4(G, "nat.server_net", c.server_net, { prefix = true })
  local to = V.ipv4(G, "nat.to", c.to, { prefix = false })
  if not contains(net, to) then
    V.fail(G, "nat.to %s refused: not in the server network %s", to, net)
  end
  return table.concat({
    "table ip fwsh_nat {",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    string.format("    oifname %s ip saddr %s snat to %s", ifset("nat.out", c.out), from, to),
    "  }",
    "}",
  }, "\n") .. "\n"
end

return M
