#!/bin/sh
# mmdebstrap --customize-hook (image/build-image.sh): undoes extract.sh, makes the one initramfs, and leaves
# nothing of the build's shortcuts in the image.
set -eu
root=$1

if [ -d "$root/usr/lib/gantry-build-native" ]; then
  rm -f "$root/usr/bin/dpkg-deb"
  chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/bin/dpkg-deb
  rm -rf "$root/usr/lib/gantry-build-native"
fi
rm -f "$root/etc/apt/apt.conf.d/zz-gantry-build"
py=/usr/lib/python3.13/py_compile.py
if [ -n "$(chroot "$root" dpkg-divert --listpackage "$py")" ]; then
  rm -f "$root$py"
  chroot "$root" dpkg-divert --quiet --local --rename --remove "$py"
fi
rm -f "$root/usr/sbin/update-initramfs"
chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
chroot "$root" update-initramfs -c -k "$kver"

# --dpkgopt=force-unsafe-io is for the build only: an `apt upgrade` on the Pi must not lose files to a power cut
sed -i '/^force-unsafe-io$/d' "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
# the per-package log, for the build's timing report (mmdebstrap removes it from the image)
[ -z "${IMAGE_DPKG_LOG:-}" ] || cp "$root/var/log/dpkg.log" "$IMAGE_DPKG_LOG"
# made per device at first boot
rm -f "$root"/etc/ssh/ssh_host_*
# the downloaded packages (what `apt-get clean` does, without starting apt under qemu-user)
rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
