#!/usr/bin/env bash
# Builds gantry_<version>_all.deb from a built checkout (make build): /opt/gantry (dist/src, public/, production
# node_modules), the systemd unit, the udev rule and the polkit rule, with maintainer scripts from image/deb/.
# Architecture "all": the one native part, serialport's binding, ships its prebuilt glibc builds for armv6/armv7
# (armhf), arm64 and x64 and loads the one that fits (node-gyp-build), so one package serves every Pi and a PC.
# Usage: image/build-deb.sh [OUT_DIR]   (default: build/)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$src/build}")"
version=$(node -p "require('$src/package.json').version")
[[ -f "$src/public/js/app.js" && -f "$src/dist/src/cli.js" ]] || { echo "build first: make build" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "dpkg-deb is needed (apt-get install dpkg)" >&2; exit 1; }

stage="$out/gantry_${version}_all"
rm -rf "$stage"
opt="$stage/opt/gantry"
install -d "$opt" "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/systemd/system" "$stage/usr/lib/modules-load.d" "$stage/usr/lib/udev/rules.d" "$stage/usr/share/polkit-1/rules.d"

# the code: the server's compiled sources only (not the tests or benchmarks), the command, the page as built
install -d "$opt/dist"
cp -r "$src/dist/src" "$opt/dist/src"
cp -r "$src/bin" "$src/package.json" "$src/package-lock.json" "$src/README.md" "$src/SECURITY.md" "$opt/"
cp -r "$src/public" "$opt/public"
# the page's TypeScript (bundled into js/app.js) and anything else the build does not make stays out
rm -rf "$opt/public/src" "$opt/public/vendor"

# production dependencies exactly as locked; no install scripts (serialport's only checks for its prebuilds)
(cd "$opt" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# only Linux glibc builds of the binding: Debian on a Pi (armhf, arm64) or a PC (x64)
prebuilds="$opt/node_modules/@serialport/bindings-cpp/prebuilds"
find "$prebuilds" -mindepth 1 -maxdepth 1 ! -name 'linux-arm' ! -name 'linux-arm64' ! -name 'linux-x64' -exec rm -rf {} +
find "$prebuilds" -name '*.musl.node' -delete
rm -f "$opt/package-lock.json" "$opt/node_modules/.package-lock.json"

ln -s /opt/gantry/bin/gantry "$stage/usr/bin/gantry"
install -m 0644 "$src/systemd/gantry.service" "$stage/usr/lib/systemd/system/gantry.service"
install -m 0644 "$src/systemd/modules-load.conf" "$stage/usr/lib/modules-load.d/gantry.conf"
install -m 0644 "$src/udev/99-gantry.rules" "$stage/usr/lib/udev/rules.d/99-gantry.rules"
install -m 0644 "$src/image/polkit/50-gantry.rules" "$stage/usr/share/polkit-1/rules.d/50-gantry.rules"
for s in postinst prerm postrm; do install -m 0755 "$src/image/deb/$s" "$stage/DEBIAN/$s"; done

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: gantry
Version: $version
Architecture: all
Maintainer: Gantry <gantry@localhost>
Installed-Size: $size
Depends: nodejs (>= 20.19), ffmpeg, polkitd, systemd, passwd, udev
Recommends: avahi-daemon, avahi-utils, python3
Section: misc
Priority: optional
Homepage: http://gantry.local/
Description: lean 3D-printer host, compatible with the OctoPrint API
 Gantry drives a 3D printer over USB serial from a Raspberry Pi and answers the
 part of OctoPrint's REST API and push socket that slicers, phone apps, Home
 Assistant and print-farm managers use. Runs as the gantry system user under a
 hardened systemd unit; data lives in /var/lib/gantry. python3 is only needed
 for the built-in virtual printer, avahi-daemon for gantry.local (avahi-utils: one mDNS name per printer).
EOF
# files owned by root, whoever builds it; the data directory is made by postinst, owned by gantry
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/gantry_${version}_all.deb" >/dev/null
rm -rf "$stage"
echo "$out/gantry_${version}_all.deb"
