#!/usr/bin/env bash
# Installs Gantry on a Debian trixie (or Raspberry Pi OS trixie) system from a checkout: builds the gantry package
# (make deb) and installs it with apt, which brings its dependencies (nodejs 20.19, ffmpeg, polkitd; avahi-daemon
# and python3 recommended). The package's postinst makes the gantry user, the data directory and enables the unit.
# Later updates: the same, or `apt install ./gantry_<version>_all.deb` (image/README.md). Run as root.
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "run as root" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"
apt-get update -qq
# to build: node and npm (Debian trixie's nodejs is 20.19, new enough for serialport 13; bookworm's 18 is not)
apt-get install -y --no-install-recommends nodejs npm make python3 dpkg-dev
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || { echo "Node.js 20 or newer is needed (found $(node --version)); use Debian trixie" >&2; exit 1; }
make -C "$src" build
deb=$("$src/image/build-deb.sh" "$src/build" | tail -n1)
apt-get install -y "$deb"
echo "Gantry installed. API key: sudo jq -r .admin.key /var/lib/gantry/keys.json"
