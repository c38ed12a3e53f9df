-- boot_spec.lua - fwsh.boot against temporary roots: the files are read back
-- with plain io, byte for byte; nothing outside the temporary roots is touched.
local H = require "helper"
local fwsh = H.fwsh

local MODULES = { "br_netfilter", "nf_conntrack_bridge" }

local read = H.read_file

local write = H.write_file

local function sh(cmd)
  local out, ok = H.run({ "sh", "-c", cmd })
  assert(ok, cmd)
  return (out:gsub("\n$", ""))
end

local function count(hay, needle)
  local n, i = 0, 1
  while true do
    local a, b = hay:find(needle, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

local function lines(text)
  local out = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

-- Debian 12's /etc/default/grub, with a few options of our own.
local DEBIAN_GRUB = [[
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=tty0  console=ttyS0,115200n8 net.ifnames=0"

# Uncomment to enable BadRAM filtering, modify to suit your needs
#GRUB_BADRAM="0x01234567,0xfefefefe,0x89abcdef,0xefefefef"

# Uncomment to disable graphical terminal
#GRUB_TERMINAL=console
]]

describe("fwsh.boot", function()
  local tmp, n = nil, 0

  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    sh("mkdir " .. H.quote(tmp))
  end)

  teardown(function()
    if tmp then H.run({ "rm", "-rf", tmp }) end
  end)

  -- A fresh root with /etc/default/grub holding text (none if nil).
  local function new_root(text)
    n = n + 1
    local root = tmp .. "/root" .. n
    sh("mkdir -p " .. H.quote(root .. "/etc/default"))
    if text then write(root .. "/etc/default/grub", text) end
    return root
  end

  local function grub(root) return read(root .. "/etc/default/grub") end
  local function conf(root) return read(root .. "/etc/modules-load.d/fwsh.conf") end

  it("persists twice: each module once in both files, every other byte as it was", function()
    local root = new_root(DEBIAN_GRUB)
    local r1 = fwsh.boot.persist(MODULES, { root = root })
    assert.is_true(r1.grub.changed)
    assert.are.same(MODULES, r1.grub.added)
    assert.are.same(MODULES, r1.modules_load.added)
    assert.are.equal(root .. "/etc/default/grub", r1.grub.path)
    local once, conf_once = grub(root), conf(root)
    local inode = sh("stat -c %i " .. H.quote(root .. "/etc/default/grub"))

    local r2 = fwsh.boot.persist(MODULES, { root = root })
    assert.is_false(r2.grub.changed)
    assert.is_false(r2.modules_load.changed)
    assert.are.same({}, r2.grub.added)
    assert.are.same(MODULES, r2.grub.present)
    assert.are.same(MODULES, r2.modules_load.present)
    -- Not even rewritten the second time.
    assert.are.equal(inode, sh("stat -c %i " .. H.quote(root .. "/etc/default/grub")))
    assert.are.equal(once, grub(root))
    assert.are.equal(conf_once, conf(root))

    local text = grub(root)
    for _, m in ipairs(MODULES) do
      assert.are.equal(1, count(text, m), m .. " in grub")
      assert.are.equal(1, count(conf(root), "\n" .. m .. "\n"), m .. " in fwsh.conf")
    end
    -- Every line but GRUB_CMDLINE_LINUX's is the same, byte for byte.
    local before, after = lines(DEBIAN_GRUB), lines(text)
    assert.are.equal(#before, #after)
    for i = 1, #before do
      if before[i]:match("^GRUB_CMDLINE_LINUX=") then
        assert.are.equal(
          'GRUB_CMDLINE_LINUX="console=tty0  console=ttyS0,115200n8 net.ifnames=0 ' ..
          'rd.driver.pre=br_netfilter,nf_conntrack_bridge"', after[i])
      else
        assert.are.equal(before[i], after[i])
      end
    end
    -- modules-load.d(5): one module a line, comments allowed.
    local listed = {}
    for l in conf(root):gmatch("[^\n]+") do
      if not l:match("^#") then listed[#listed + 1] = l end
    end
    assert.are.same(MODULES, listed)
    -- The grub file's old bytes are kept beside it.
    assert.are.equal(DEBIAN_GRUB, read(root .. "/etc/default/grub.bak"))
  end)

  it("remove restores the original bytes and takes its own files away", function()
    local root = new_root(DEBIAN_GRUB)
    fwsh.boot.persist(MODULES, { root = root })
    fwsh.boot.persist(MODULES, { root = root })
    local r = fwsh.boot.remove(nil, { root = root })
    assert.is_true(r.grub.changed)
    assert.are.same(MODULES, r.grub.removed)
    assert.are.same(MODULES, r.modules_load.removed)
    assert.are.equal(DEBIAN_GRUB, grub(root))
    assert.is_nil(conf(root))
    assert.is_nil(read(root .. "/var/lib/fwsh/grub-cmdline"))
    -- Removing again changes nothing.
    local again = fwsh.boot.remove({ root = root })
    assert.is_false(again.grub.changed)
    assert.is_false(again.modules_load.changed)
    assert.are.equal(DEBIAN_GRUB, grub(root))
  end)

  -- Each shape of the assignment: persist, persist, remove gives it back exactly.
  local shapes = {
    ["an empty quoted value"] = { 'GRUB_CMDLINE_LINUX=""\n',
      'GRUB_CMDLINE_LINUX="rd.driver.pre=br_netfilter,nf_conntrack_bridge"\n' },
    ["an existing rd.driver.pre list"] = { 'GRUB_CMDLINE_LINUX="rd.driver.pre=virtio_blk  quiet"\n',
      'GRUB_CMDLINE_LINUX="rd.driver.pre=virtio_blk,br_netfilter,nf_conntrack_bridge  quiet"\n' },
    ["single quotes and a comment"] = { "GRUB_CMDLINE_LINUX='a b'  # keep\n",
      "GRUB_CMDLINE_LINUX='a b rd.driver.pre=br_netfilter,nf_conntrack_bridge'  # keep\n" },
    ["a plain word"] = { "GRUB_CMDLINE_LINUX=quiet\n",
      'GRUB_CMDLINE_LINUX="quiet rd.driver.pre=br_netfilter,nf_conntrack_bridge"\n' },
    ["an empty plain value, no final newline"] = { "GRUB_CMDLINE_LINUX=\nX=1",
      "GRUB_CMDLINE_LINUX=rd.driver.pre=br_netfilter,nf_conntrack_bridge\nX=1" },
    ["no assignment at all, no final newline"] = { "GRUB_TIMEOUT=5\nGRUB_TIMEOUT_STYLE=menu",
      'GRUB_TIMEOUT=5\nGRUB_TIMEOUT_STYLE=menu\nGRUB_CMDLINE_LINUX="rd.driver.pre=br_netfilter,nf_conntrack_bridge"\n' },
    ["a value over two lines, then an export that extends it"] = {
      'GRUB_CMDLINE_LINUX="a\n  b"\nexport GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x=\\"y\\""\n',
      'GRUB_CMDLINE_LINUX="a\n  b"\nexport GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x=\\"y\\" ' ..
      'rd.driver.pre=br_netfilter,nf_conntrack_bridge"\n' },
  }
  for what, t in pairs(shapes) do
    it("edits " .. what .. " in place and undoes it exactly", function()
      local root = new_root(t[1])
      fwsh.boot.persist(MODULES, { root = root, modules_load = false })
      fwsh.boot.persist(MODULES, { root = root, modules_load = false })
      assert.are.equal(t[2], grub(root))
      assert.is_nil(conf(root))
      fwsh.boot.remove(MODULES, { root = root, modules_load = false })
      assert.are.equal(t[1], grub(root))
    end)
  end

  it("leaves a module that was there before fwsh, also on remove", function()
    local orig = 'GRUB_CMDLINE_LINUX="quiet rd.driver.pre=br-netfilter"\n'
    local root = new_root(orig)
    local r = fwsh.boot.persist(MODULES, { root = root })
    assert.are.same({ "br_netfilter" }, r.grub.present)   -- '-' and '_' are one
    assert.are.same({ "nf_conntrack_bridge" }, r.grub.added)
    assert.are.equal('GRUB_CMDLINE_LINUX="quiet rd.driver.pre=br-netfilter,nf_conntrack_bridge"\n', grub(root))
    local st = fwsh.boot.status{ root = root }
    assert.are.same({ "br-netfilter", "nf_conntrack_bridge" }, st.grub.modules)
    assert.are.same({ "nf_conntrack_bridge" }, st.grub.fwsh)
    assert.are.same(MODULES, st.modules_load.modules)
    r = fwsh.boot.remove(MODULES, { root = root })
    assert.are.same({ "nf_conntrack_bridge" }, r.grub.removed)
    assert.are.same({ "br_netfilter" }, r.grub.kept)
    assert.are.equal(orig, grub(root))
  end)

  it("removes one module of two, and then the other", function()
    local root = new_root(DEBIAN_GRUB)
    fwsh.boot.persist(MODULES, { root = root })
    fwsh.boot.remove("nf_conntrack_bridge", { root = root })
    assert.are.equal(1, count(grub(root), "rd.driver.pre=br_netfilter\""))
    assert.are.equal(0, count(grub(root), "nf_conntrack_bridge"))
    assert.are.equal(0, count(conf(root), "nf_conntrack_bridge"))
    assert.are.equal(1, count(conf(root), "\nbr_netfilter\n"))
    fwsh.boot.remove("br_netfilter", { root = root })
    assert.are.equal(DEBIAN_GRUB, grub(root))
    assert.is_nil(conf(root))
  end)

  it("keeps a module the user added to fwsh's rd.driver.pre list", function()
    local root = new_root('GRUB_CMDLINE_LINUX="quiet"\n')
    fwsh.boot.persist(MODULES, { root = root })
    -- Someone appends to the list fwsh made.
    write(root .. "/etc/default/grub", 'GRUB_CMDLINE_LINUX="quiet rd.driver.pre=br_netfilter,nf_conntrack_bridge,virtio_net"\n')
    fwsh.boot.remove(nil, { root = root })
    assert.are.equal('GRUB_CMDLINE_LINUX="quiet rd.driver.pre=virtio_net"\n', grub(root))
  end)

  it("keeps the grub file's mode and writes through a temporary file", function()
    local root = new_root(DEBIAN_GRUB)
    sh("chmod 600 " .. H.quote(root .. "/etc/default/grub"))
    fwsh.boot.persist(MODULES, { root = root })
    assert.are.equal("600", sh("stat -c %a " .. H.quote(root .. "/etc/default/grub")))
    -- Nothing is left beside it but the file and its .bak.
    assert.are.equal("grub grub.bak", sh("ls -A " .. H.quote(root .. "/etc/default") .. " | tr '\\n' ' ' | sed 's/ $//'"))
  end)

  it("resolves paths inside the root, as in a mounted image", function()
    local root = new_root(nil)
    sh("rmdir " .. H.quote(root .. "/etc/default"))
    sh("mkdir -p " .. H.quote(root .. "/image-etc-default"))
    -- An absolute link, as images have them: it means ROOT/image-etc-default.
    sh("ln -s /image-etc-default " .. H.quote(root .. "/etc/default"))
    write(root .. "/image-etc-default/grub", DEBIAN_GRUB)
    fwsh.boot.persist(MODULES, { root = root, modules_load = false })
    assert.are.equal(1, count(read(root .. "/image-etc-default/grub"), "rd.driver.pre=br_netfilter,nf_conntrack_bridge"))
  end)

  it("refuses a grub file that is a symbolic link", function()
    local root = new_root(nil)
    write(root .. "/etc/default/real", DEBIAN_GRUB)
    sh("ln -s real " .. H.quote(root .. "/etc/default/grub"))
    H.raises(function() fwsh.boot.persist(MODULES, { root = root, modules_load = false }) end,
             "boot.persist " .. root, "is a symbolic link")
    assert.are.equal(DEBIAN_GRUB, read(root .. "/etc/default/real"))
  end)

  it("says so when there is no /etc/default/grub, and does modules-load.d alone", function()
    local root = new_root(nil)
    local err = H.raises(function() fwsh.boot.persist(MODULES, { root = root, modules_load = false }) end,
                         "boot.persist " .. root .. ": No such file or directory: no " .. root ..
                         "/etc/default/grub: not a system that boots with GRUB")
    assert.are.equal("ENOENT", err.code)
    local r = fwsh.boot.persist(MODULES, { root = root, grub = false })
    assert.is_nil(r.grub)
    assert.are.same(MODULES, r.modules_load.added)
    local st = fwsh.boot.status{ root = root }
    assert.is_false(st.grub.exists)
    assert.is_true(st.modules_load.exists)
  end)

  it("persists all or nothing: without a grub file, modules-load.d is not written either", function()
    local root = new_root(nil)
    H.raises(function() fwsh.boot.persist(MODULES, { root = root }) end,
             "no " .. root .. "/etc/default/grub: not a system that boots with GRUB")
    assert.is_nil(conf(root))
    assert.is_falsy(select(2, H.run({ "test", "-e", root .. "/etc/modules-load.d" })))
  end)

  it("persists all or nothing: modules-load.d is put back when grub fails after it", function()
    local glued = 'GRUB_CMDLINE_LINUX="a"b\n'
    local mine = "# mine\nloop\n"
    local root = new_root(glued)
    sh("mkdir -p " .. H.quote(root .. "/etc/modules-load.d"))
    write(root .. "/etc/modules-load.d/fwsh.conf", mine)
    H.raises(function() fwsh.boot.persist(MODULES, { root = root }) end, "not one quoted string or plain word")
    assert.are.equal(mine, conf(root))
    assert.are.equal(glued, grub(root))
    local fresh = new_root(glued)
    H.raises(function() fwsh.boot.persist(MODULES, { root = fresh }) end, "not one quoted string or plain word")
    assert.is_nil(conf(fresh))
    assert.is_falsy(select(2, H.run({ "test", "-e", fresh .. "/etc/modules-load.d" })))
  end)

  it("removes fwsh.conf only while it holds nothing but what fwsh wrote", function()
    local root = new_root(nil)
    fwsh.boot.persist(MODULES, { root = root, grub = false })
    write(root .. "/etc/modules-load.d/fwsh.conf", conf(root) .. "# the admin's note\n")
    local r = fwsh.boot.remove(nil, { root = root, grub = false })
    assert.are.same(MODULES, r.modules_load.removed)
    local left = conf(root)
    assert.truthy(left and left:find("# the admin's note", 1, true), left)
    assert.is_nil(left:find("br_netfilter", 1, true))
    -- and once that is gone too, the file is fwsh's again, and goes
    write(root .. "/etc/modules-load.d/fwsh.conf", (left:gsub("# the admin's note\n", "")) .. "loop\n")
    fwsh.boot.remove({ "loop" }, { root = root, grub = false })
    assert.is_nil(conf(root))
  end)

  it("refuses what it cannot edit safely, and bad names, changing nothing", function()
    local glued = 'GRUB_CMDLINE_LINUX="a"b\n'
    local root = new_root(glued)
    H.raises(function() fwsh.boot.persist(MODULES, { root = root, modules_load = false }) end,
             "not one quoted string or plain word")
    assert.are.equal(glued, grub(root))
    H.raises(function() fwsh.boot.persist({ "br_netfilter", "a,b" }, { root = root }) end,
             "'a,b' is not a module name")
    assert.is_nil(conf(root))
    H.raises(function() fwsh.boot.persist(MODULES, { root = "relative" }) end, "not an absolute path")
    H.raises(function() fwsh.boot.persist(MODULES, { rot = "/" }) end, "unknown option 'rot'")
    H.raises(function() fwsh.boot.persist(7) end, "bad argument #1")
    H.raises(function() fwsh.boot.persist(MODULES, { root = root, grub = false, modules_load = false }) end,
             "nothing to do")
  end)

  describe("regenerate", function()
    it("runs update-grub chrooted into the root and reports its output and status", function()
      local root = new_root(nil)
      sh("mkdir -p " .. H.quote(root .. "/usr/sbin") .. " " .. H.quote(root .. "/boot/grub"))
      write(tmp .. "/fake-update-grub.c", [[
#include <stdio.h>
int main(int argc, char **argv) {
        FILE *f = fopen("/boot/grub/grub.cfg", "w");
        if (!f) { perror("/boot/grub/grub.cfg"); return 1; }
        fprintf(f, "# written by %s\n", argv[0]);
        fclose(f);
        fprintf(stderr, "Generating grub configuration file ...\n");
        return 0;
}
]])
      sh("gcc -static -o " .. H.quote(root .. "/usr/sbin/update-grub") .. " " .. H.quote(tmp .. "/fake-update-grub.c"))
      local ok, rep = fwsh.boot.regenerate{ root = root }
      assert.is_true(ok)
      assert.are.equal(0, rep.status)
      assert.are.equal("update-grub", rep.command)
      assert.are.equal("Generating grub configuration file ...\n", rep.output)
      -- It ran inside the root: the file is the root's, not the host's.
      assert.are.equal("# written by update-grub\n", read(root .. "/boot/grub/grub.cfg"))
    end)

    it("reports a failing tool's exit status and output without raising", function()
      local ok, rep = fwsh.boot.regenerate{ command = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3" } }
      assert.is_false(ok)
      assert.are.equal(3, rep.status)
      assert.are.equal("out\nerr\n", rep.output)
      ok, rep = fwsh.boot.regenerate{ command = { "/bin/sh", "-c", "kill -9 $$" } }
      assert.is_false(ok)
      assert.are.equal(9, rep.signal)
      assert.is_nil(rep.status)
    end)

    it("raises when there is no tool to run", function()
      local root = new_root(nil)
      H.raises(function() fwsh.boot.regenerate{ root = root } end,
               "boot.regenerate " .. root .. ": No such file or directory: no update-grub or grub-mkconfig")
      H.raises(function() fwsh.boot.regenerate{ command = { "/nonexistent/tool" } } end,
               "cannot run /nonexistent/tool: No such file or directory")
      H.raises(function() fwsh.boot.regenerate{ command = {} } end, "an empty command")
    end)
  end)
end)
