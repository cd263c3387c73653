#!/usr/bin/env bash
# Builds the Raspberry Pi SD-card image from Debian trixie arm64 packages only: build/gantry-<version>-arm64.img
# (and .img.xz unless IMAGE_XZ=0), with the gantry package from `make deb` installed inside. image/README.md says
# what is in it and why. Needs root (mmdebstrap in root mode, chroot), mmdebstrap, qemu-user-static with the
# qemu-aarch64 binfmt entry (on an arm64 machine: not needed), dosfstools, mtools, e2fsprogs, fdisk, xz-utils.
# No loop device and no mount: the FAT partition is filled with mtools, the ext4 one with `mkfs.ext4 -d`.
#
# Environment:
#   IMAGE_SNAPSHOT=20261120T000000Z  snapshot.debian.org timestamp to build from (reproducible inputs); "auto": the
#                                    newest snapshot day if snapshot.debian.org answers; default: the live mirror
#   IMAGE_MIRROR=http://deb.debian.org/debian   the live mirror
#   IMAGE_XZ=0                       no .img.xz
#   IMAGE_REUSE_BASE=1               reuse build/image-work/base.tar (the Debian part) if it exists: a rebuild after
#                                    a change to Gantry or to image/ takes a minute instead of ten
# Run it under `nice` on a shared machine: it uses every core (xz) and qemu-user is CPU-bound.
# Usage: image/build-image.sh [OUT_DIR]   (default: build/)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$src/build}")"
version=$(node -p "require('$src/package.json').version")
deb="$out/gantry_${version}_all.deb"
work="$out/image-work"
img="$out/gantry-${version}-arm64.img"
t0=$(date +%s)
log() { printf '[%4ss] %s\n' $(($(date +%s) - t0)) "$*" >&2; }
# each line of a command's output with the build's clock, to see which phase took the time
stamp() { local l; while IFS= read -r l; do printf '[%4ss] %s\n' $(($(printf '%(%s)T' -1) - t0)) "$l"; done; }
# the 8 packages whose unpack + configure took longest, from dpkg.log (seconds between its consecutive lines)
dpkg_slowest() {
  [[ -f $1 ]] || return 0
  awk '{ split($2, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]; if (NR > 1) { d = s - prev; if (d < 0) d += 86400; cost[last] += d }
         prev = s; last = ($3 == "status") ? $5 : $4; sub(/:.*/, "", last) }
       END { for (p in cost) print cost[p], p }' "$1" | sort -rn | head -n 8 | awk '{ printf "%s %ss, ", $2, $1 }'
}

[[ $EUID -eq 0 ]] || { echo "build-image.sh needs root (mmdebstrap --mode=root, chroot)" >&2; exit 1; }
[[ -f $deb ]] || { echo "no $deb: make deb first" >&2; exit 1; }
for c in mmdebstrap mkfs.vfat mcopy mkfs.ext4 sfdisk xz; do
  command -v $c >/dev/null || { echo "$c is needed: apt-get install mmdebstrap qemu-user-static binfmt-support dosfstools mtools e2fsprogs fdisk xz-utils" >&2; exit 1; }
done
if [[ $(uname -m) != aarch64 ]]; then
  [[ -d /proc/sys/fs/binfmt_misc && -e /proc/sys/fs/binfmt_misc/status ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || update-binfmts --enable qemu-aarch64 || true
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || { echo "no qemu-aarch64 binfmt entry: apt-get install qemu-user-static binfmt-support" >&2; exit 1; }
fi

# ---- the Debian packages: everything but Gantry itself. Only Debian trixie, main and non-free-firmware (the Pi's
# boot firmware and its Wi-Fi chip's firmware are there)
packages=(
  # boot: the Pi firmware (its hooks put the kernel, initrd, DTBs, config.txt and cmdline.txt on the FAT partition)
  raspi-firmware linux-image-arm64 initramfs-tools firmware-brcm80211 wireless-regdb
  # the system
  systemd-sysv udev kmod dbus polkitd iproute2 iputils-ping procps less netbase tzdata e2fsprogs dosfstools fdisk
  cloud-guest-utils systemd-zram-generator systemd-timesyncd
  # network: systemd-networkd (part of systemd) + resolved, wpa_supplicant for Wi-Fi, avahi for gantry.local
  systemd-resolved wpasupplicant avahi-daemon avahi-utils libnss-mdns openssh-server ca-certificates
  # what Gantry uses
  nodejs ffmpeg python3
)
mirror=${IMAGE_MIRROR:-http://deb.debian.org/debian}
if [[ ${IMAGE_SNAPSHOT:-} = auto ]]; then
  # the newest day snapshot.debian.org has, if it answers. Not the default: it is slow and rate-limited, and a
  # CI run must not fail because of it; the package list in the image records the versions either way
  IMAGE_SNAPSHOT=$(date -u -d yesterday +%Y%m%dT000000Z)
  curl -fsS -m 15 -o /dev/null "http://snapshot.debian.org/archive/debian/$IMAGE_SNAPSHOT/dists/trixie/Release" 2>/dev/null ||
    IMAGE_SNAPSHOT=''
fi
if [[ -n ${IMAGE_SNAPSHOT:-} ]]; then
  mirror="http://snapshot.debian.org/archive/debian/$IMAGE_SNAPSHOT"
  secmirror="http://snapshot.debian.org/archive/debian-security/$IMAGE_SNAPSHOT"
  log "packages from the snapshot $IMAGE_SNAPSHOT"
else
  secmirror="${mirror%/debian}/debian-security"
  log "packages from the live mirror $mirror (the list in the image records the versions)"
fi
sources="deb [check-valid-until=no] $mirror trixie main non-free-firmware
deb [check-valid-until=no] $mirror trixie-updates main non-free-firmware
deb [check-valid-until=no] $secmirror trixie-security main non-free-firmware"

mkdir -p "$work"
base="$work/base.tar"
# what makes the base: the package list, the sources and the recipe (these lines and the hooks)
key=$(cat <(printf '%s\n' "${packages[@]}" "$sources") "$src/image/base-hooks/"* <(sed -n '/^# ---- base recipe/,/^# ---- end of the base recipe/p' "$0") |
  sha256sum | cut -c1-16)
if [[ ${IMAGE_REUSE_BASE:-0} = 1 && -f $base && $(cat "$work/base.key" 2>/dev/null) = "$key" ]]; then
  log "reusing $base"
else
  log "mmdebstrap: Debian trixie arm64 (${#packages[@]} packages and their dependencies)"
  rm -f "$base" "$work/base.key"
  # ---- base recipe. Where the time goes (image/README.md "Build time"): every dpkg run and maintainer script of
  # the arm64 packages runs under qemu-user. So: no fsync (force-unsafe-io + eatmydata: the tarball is the
  # product, not the disk), no docs, man pages, translations (less to unpack and write; copyright files stay),
  # dpkg-deb native and one initramfs (image/base-hooks say how), apt (the downloads) native as mmdebstrap runs it.
  # The raspi-firmware hooks write to /boot/firmware (the FAT partition later), the kernel's to /boot.
  IMAGE_DPKG_LOG="$work/dpkg.log" mmdebstrap --mode=root --variant=apt --architectures=arm64 \
    --components=main,non-free-firmware \
    --include="$(IFS=,; echo "${packages[*]}")" \
    --aptopt='Acquire::Retries "5"' --aptopt='Acquire::http::Timeout "60"' \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
    --setup-hook='mkdir -p "$1/boot/firmware"' \
    --hook-dir="$src/image/base-hooks" \
    trixie "$base" - <<<"$sources" 2>&1 | stamp >&2
  # ---- end of the base recipe
  echo "$key" >"$work/base.key"
  log "base done; dpkg's slowest steps: $(dpkg_slowest "$work/dpkg.log")"
fi

# ---- Gantry and the appliance's configuration, on an unpacked copy of the base
root="$work/rootfs"
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" --xattrs --xattrs-include="*" --numeric-owner -xf "$base"
log "installing $(basename "$deb") and the appliance's configuration"
cp "$deb" "$root/tmp/gantry.deb"
# postinst makes the user, data dir, avahi file, enables the unit (symlinks only: works in a chroot)
for d in proc sys dev; do mount --bind /$d "$root/$d"; done
trap 'for d in dev sys proc; do umount "$root/$d" 2>/dev/null || true; done' EXIT
chroot "$root" dpkg -i /tmp/gantry.deb >&2
rm -f "$root/tmp/gantry.deb"
cp -a "$src/image/rootfs/." "$root/"
install -m 0755 "$src/image/firstboot/gantry-firstboot" "$root/usr/lib/gantry/gantry-firstboot" 2>/dev/null ||
  { install -d "$root/usr/lib/gantry" && install -m 0755 "$src/image/firstboot/gantry-firstboot" "$root/usr/lib/gantry/gantry-firstboot"; }
install -m 0644 "$src/image/firstboot/gantry-firstboot.service" "$root/usr/lib/systemd/system/gantry-firstboot.service"
# wpa_supplicant for wlan0 when the chip appears (its drop-in in image/rootfs waits for a configuration)
install -d "$root/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants"
ln -sf /usr/lib/systemd/system/wpa_supplicant@.service \
  "$root/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants/wpa_supplicant@wlan0.service"
echo gantry >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgantry\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/machine-id" # made at first boot (and with it ConditionFirstBoot)
rm -f "$root/var/lib/dbus/machine-id"
chroot "$root" systemctl enable gantry-firstboot.service systemd-networkd.service systemd-resolved.service \
  systemd-timesyncd.service avahi-daemon.service >&2
chroot "$root" systemctl disable ssh.service >&2 2>/dev/null || true
chroot "$root" systemctl mask ssh.socket >&2 2>/dev/null || true
# Debian's default: root locked (no password); SSH with the first-boot file's key is the way in
chroot "$root" passwd -l root >/dev/null
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
# the root partition by its label (the card may be mmcblk0 or, on a USB boot, sda); the console on the screen
# (not the GPIO UART: a printer may be wired to it); no cma= (its 64M default made Pi 4s unbootable: the device
# tree's own CMA size is used on every model)
sed -i -e 's/^#\?ROOTPART=.*/ROOTPART=LABEL=gantry-root/' -e 's/^#\?CONSOLES=.*/CONSOLES="tty1"/' -e 's/^#\?CMA=.*/CMA=0/' \
  "$root/etc/default/raspi-firmware"
grep -q '^CMA=' "$root/etc/default/raspi-firmware" || echo CMA=0 >>"$root/etc/default/raspi-firmware"
# the raspi-firmware hook, once more now that everything is installed: kernel, initrd, DTBs, config.txt, cmdline.txt
kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
chroot "$root" env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$kver" >&2
# the record of what went in
install -d "$root/usr/share/gantry"
{
  echo "# gantry $version arm64 image, built $(date -u +%FT%TZ) from: ${IMAGE_SNAPSHOT:+snapshot.debian.org $IMAGE_SNAPSHOT}${IMAGE_SNAPSHOT:-$mirror (live)}"
  chroot "$root" dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n'
} >"$root/usr/share/gantry/image-packages.txt"
cp "$root/usr/share/gantry/image-packages.txt" "$out/gantry-${version}-arm64.packages.txt"
for d in dev sys proc; do umount "$root/$d"; done
trap - EXIT
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"* "$root/var/log/"*.log "$root/tmp/"*

# /etc and /var are as new as /usr: without this, the first boot ran ldconfig.service and the journal catalog
# rebuild (ConditionNeedsUpdate), over a minute under emulation, for caches the package installs already made
for d in etc var; do
  printf '# This file was created by the Gantry image build (as systemd-update-done would).\nTIMESTAMP_NSEC=%s\n' \
    "$(stat -c %.9Y "$root/usr" | tr -d .)" >"$root/$d/.updated"
  touch -r "$root/usr" "$root/$d/.updated"
done

# ---- the partitions: FAT (the firmware, kernel, first-boot file) and ext4 root, each made as a file and put in place
boot_mb=256
fat="$work/boot.vfat"
rm -f "$fat"
mkfs.vfat -C -F 32 -n GANTRYBOOT "$fat" $((boot_mb * 1024)) >/dev/null
cp "$src/image/gantry-firstboot.txt" "$root/boot/firmware/gantry-firstboot.example.txt"
mcopy -s -p -i "$fat" "$root/boot/firmware/"* ::
rm -rf "${root:?}/boot/firmware/"*
used_mb=$(du -sm --apparent-size "$root" | cut -f1)
root_mb=$((used_mb * 115 / 100 + 300)) # room for the journal, inodes and a first update; grows to the card at first boot
ext="$work/root.ext4"
rm -f "$ext"
mkfs.ext4 -q -F -L gantry-root -E root_owner=0:0 -d "$root" "$ext" "${root_mb}M"
log "root filesystem: ${used_mb} MB of files in ${root_mb} MB"

rm -f "$img"
total_mb=$((1 + boot_mb + root_mb))
truncate -s "${total_mb}M" "$img"
sfdisk -q "$img" <<EOF
label: dos
label-id: 0x4a3d5e01
start=1MiB, size=${boot_mb}MiB, type=c, bootable
start=$((1 + boot_mb))MiB, type=83
EOF
dd if="$fat" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$ext" of="$img" bs=1M seek=$((1 + boot_mb)) conv=notrunc,sparse status=none
rm -f "$fat" "$ext"
log "$img: $((total_mb)) MB"
if [[ ${IMAGE_XZ:-1} != 0 ]]; then
  rm -f "$img.xz"
  xz -T0 -6 -k "$img"
  log "$img.xz: $(($(stat -c %s "$img.xz") / 1024 / 1024)) MB"
fi
echo "$img"
