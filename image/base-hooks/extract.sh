#!/bin/sh
# mmdebstrap --extract-hook (image/build-image.sh): runs once the Essential packages are unpacked (natively, by
# mmdebstrap) and before dpkg installs them and then the image's own packages inside the chroot. Four things make
# that install, where dpkg and every maintainer script run under qemu-user, cheaper; customize.sh undoes them, so
# the image holds Debian's files only. (dpkg-divert works here already: mmdebstrap's eatmydata hook does the same.)
set -eu
root=$1

# 1. One initramfs, not one per trigger: the kernel's postinst and then every package that ships an initramfs hook
#    (udev, kmod, firmware, zram...) each ran update-initramfs, a few minutes each under qemu-user. A no-op stands
#    in for it until customize.sh makes the one initramfs the image boots.
chroot "$root" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.real --add /usr/sbin/update-initramfs
printf '#!/bin/sh\n# the image build made this a no-op (image/base-hooks); customize.sh runs the real one once\nexit 0\n' \
  >"$root/usr/sbin/update-initramfs"
chmod 0755 "$root/usr/sbin/update-initramfs"

# 2. No debconf pre-configuration: apt runs apt-extracttemplates on every package before dpkg starts, reading
#    each one under qemu-user (≈ 2 min); with no one to answer, the questions get their defaults when the
#    packages are configured anyway. A file read after debconf's 70debconf, removed by customize.sh.
mkdir -p "$root/etc/apt/apt.conf.d"
printf '#clear DPkg::Pre-Install-Pkgs;\n' >"$root/etc/apt/apt.conf.d/zz-gantry-build"

# 3. No byte-compiling of Python's standard library: python3.13's postinsts compile its ≈ 600 modules one after the
#    other, ≈ 4 min under qemu-user (the longest single step of the build, more on a loaded machine). Python
#    compiles a module when it first imports it, so the image loses nothing that matters: the first-boot script
#    (as root) leaves the .pyc of the few modules it uses, and nothing else on the image runs Python unless the
#    virtual printer is started by hand. py_compile.py (trixie's Python 3.13: other versions are simply not
#    skipped) stands in as a no-op that reads the file list py3compile pipes to it; customize.sh puts it back.
py=/usr/lib/python3.13/py_compile.py
mkdir -p "$root${py%/*}"
chroot "$root" dpkg-divert --quiet --local --rename --divert "$py.real" --add "$py"
cat >"$root$py" <<'STUB'
# the image build skips byte-compiling under qemu-user (image/base-hooks/extract.sh); customize.sh restores this file
import sys
class PyCompileError(Exception):
    pass
def compile(*args, **kwargs):
    return None
if __name__ == "__main__":
    if sys.argv[1:] == ["-"]:
        sys.stdin.read()
    sys.exit(0)
STUB

# 4. dpkg-deb from the build host: dpkg runs `dpkg-deb --fsys-tarfile` for every package, which is mostly xz
#    decompression: ≈ 7 times slower under qemu-user (a 23 MB deb: 12.6 s emulated, 1.8 s native). The host's
#    x86-64 dpkg-deb runs natively inside the arm64 chroot through its own dynamic loader and libraries, copied
#    into a directory of their own (nothing of the host's lands in /usr/lib/<triplet> or /lib64). Its output, a tar
#    stream, does not depend on the architecture that decompressed it.
case "$(uname -m)" in x86_64) ;; *) exit 0 ;; esac
command -v dpkg-deb >/dev/null || exit 0
native=$root/usr/lib/gantry-build-native
mkdir -p "$native"
cp -L "$(command -v dpkg-deb)" "$native/dpkg-deb"
ldd "$(command -v dpkg-deb)" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
  while read -r lib; do cp -L "$lib" "$native/"; done
loader=$(cd "$native" && ls ld-linux-*.so.* | head -n1)
chroot "$root" dpkg-divert --quiet --local --rename --divert /usr/bin/dpkg-deb.arm64 --add /usr/bin/dpkg-deb
# LD_PRELOAD: eatmydata's arm64 library, which the x86-64 loader cannot load (it would only warn)
cat >"$root/usr/bin/dpkg-deb" <<WRAP
#!/bin/sh
# the image build's native dpkg-deb (image/base-hooks/extract.sh); removed by customize.sh
unset LD_PRELOAD
exec /usr/lib/gantry-build-native/$loader --library-path /usr/lib/gantry-build-native /usr/lib/gantry-build-native/dpkg-deb "\$@"
WRAP
chmod 0755 "$root/usr/bin/dpkg-deb"
# it must work before anything depends on it
chroot "$root" dpkg-deb --version >/dev/null
