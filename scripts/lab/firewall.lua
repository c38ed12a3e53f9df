-- firewall.lua - the fault-tolerant firewall lab on the seed topology, built,
-- shown (who is master; the client reaches the server through it) and torn
-- down. The lab itself is the library lab/lua/fwsh/firewall.lua.
--
-- usage: fwsh --sandbox scripts/lab/firewall.lua [--master fw-2] [--advert 0.1] [--backend qemu] [--config DIR]
--        fwsh --sandbox scripts/lab/firewall.lua export DIR [options]   (the configuration as plain files)
require("fwsh.firewall").main(...)
