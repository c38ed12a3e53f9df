-- netns.lua - the netns node backend: the node is a named network
-- namespace; each port is a veth whose host end carries the tap name
-- (net11, ...) and is a port of the bridge, and whose node end is the
-- port's name (eth0, ...) inside. The methods node.lua calls through
-- node.impl; what they do is node.lua's to document.
local fwsh = fwsh or require "fwsh"
local C = require "fwsh.node.common"

local B = {}

function B.exec(self, fn, ...)
  return fwsh.netns.run(self.name, fn, ...)
end

function B.qmp(self)
  require("fwsh.errors").raise("node", self.name, "qmp needs the qemu backend", 3)
end

function B.launch(self)
  fwsh.netns.add(self.name)
  self.is_up = true -- from here on, down() has something to remove
  self.made = { links = {} } -- only what is listed here, by identity
  self.made.netns = fwsh.netns.id(self.name)
  self:exec(function()
    for _, s in ipairs(self.sysctls) do C.sysctl(s[1], s[2]) end
  end)
  for _, p in ipairs(self.ports) do
    local l = fwsh.veth.add(p.tap, p.name, { netns = self.name })
    self.made.links[#self.made.links + 1] = C.made(l)
    fwsh.port.attach(p.bridge, p.tap)
  end
  self:exec(function()
    fwsh.link.get("lo"):up()
    for _, p in ipairs(self.ports) do
      local l = fwsh.link.get(p.name)
      l:up()
      if p.address then fwsh.addr.add(l, p.address) end
    end
    for _, r in ipairs(self.routes) do fwsh.route.add{ dst = r.dst, via = r.via } end
  end)
  if self.setup then self.setup(self) end
  for _, name in ipairs(self.order) do self:start_daemon(name) end
end

function B.ready() end

function B.sysctl(self, path, value)
  self:exec(function() C.sysctl(path, value) end)
end

function B.nft(self, text)
  self:exec(function() fwsh.nft.run(text) end)
end

function B.tool(_, name) return C.tool(name) end

function B.run(self, argv, opts)
  return fwsh.proc.run(argv, { netns = self.name, timeout = opts.timeout, stdin = opts.stdin })
end

function B.wait_run(self, argv, timeout)
  return (fwsh.wait{ run = argv, netns = self.name, timeout = timeout or 10 })
end

function B.wait_link(self, name, o)
  return (fwsh.wait{ link = name, exists = o.carrier == nil or nil, carrier = o.carrier,
                     netns = self.name, timeout = o.timeout or 10 })
end

function B.spawn(self, argv, opts)
  return fwsh.proc.spawn(argv, { netns = self.name, stdout = opts.stdout, stderr = opts.stderr,
                                 realtime = opts.realtime })
end

function B.stop(self, sig, o)
  for _, name in ipairs(self.order) do
    local d = self.daemons[name]
    if d.proc and d.proc:running() then d.proc:kill(sig) end
  end
  for _, name in ipairs(self.order) do
    local d = self.daemons[name]
    if d.proc then d.proc:stop(1); d.proc = nil end
  end
  if not (o and o.keep_links) then
    for _, p in ipairs(self.ports) do fwsh.link.get(p.tap):down() end
  end
end

-- What a hung machine does on its links, which stay up: nothing. Every
-- frame in or out of the namespace is dropped, ARP included (a kernel that
-- still answered ARP for a virtual IP would pull its MAC back).
local HANG = [[
table inet fwsh_hang {
  chain rx { type filter hook prerouting priority -500; policy drop; counter; }
  chain tx { type filter hook output priority -500; policy drop; }
}
table arp fwsh_hang {
  chain rx { type filter hook input priority -500; policy drop; }
  chain tx { type filter hook output priority -500; policy drop; }
}
]]

function B.hang(self)
  self:stop{ keep_links = true }
  self:exec(function() fwsh.nft.run(HANG) end)
  self.hung = true
end

function B.start(self)
  if self.hung then
    self:exec(function() fwsh.nft.run("delete table inet fwsh_hang\ndelete table arp fwsh_hang") end)
    self.hung = nil
  end
  if self.reset then self.reset(self) end
  for _, p in ipairs(self.ports) do fwsh.link.get(p.tap):up() end
  for _, name in ipairs(self.order) do self:start_daemon(name) end
end

function B.impair(self, port, o)
  self:exec(function() fwsh.link.impair(port, o) end)
end

function B.set_link(_, p, up)
  local l = fwsh.link.get(p.tap)
  if up then l:up() else l:down() end
end

function B.signal_all(self, sig)
  for _, p in ipairs(self.procs) do if p:running() then p:kill(sig) end end
end

function B.reap(self, try)
  for i = #self.procs, 1, -1 do
    local p = self.procs[i]
    try(p.stop, p, 1)
  end
end

return B
