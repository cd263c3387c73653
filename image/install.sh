#!/usr/bin/env bash
# Installs Gantry on a Debian trixie (or Raspberry Pi OS trixie) system: the service user, the code under
# /opt/gantry, the systemd unit and the udev rules. Run from a built checkout (`make build`) as root.
# Debian trixie's nodejs (20.19) is new enough for serialport 13; bookworm's 18 is not.
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "run as root" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"
# ffmpeg: the camera and timelapses; avahi-daemon: slicers and Home Assistant find Gantry by mDNS
# polkitd: reboot, shutdown and restart from the page (image/polkit/50-gantry.rules; sudo cannot work under the
# unit's NoNewPrivileges)
apt-get install -y --no-install-recommends nodejs python3 ffmpeg avahi-daemon polkitd
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || { echo "Node.js 20 or newer is needed (found $(node --version)); use Debian trixie" >&2; exit 1; }
id gantry >/dev/null 2>&1 || useradd --system --home /var/lib/gantry --shell /usr/sbin/nologin --user-group gantry
usermod -a -G dialout,video gantry
install -d -o root -g root /opt/gantry
[[ -f "$src/public/js/app.js" ]] || { echo "build first: make build" >&2; exit 1; }
cp -r "$src/dist" "$src/node_modules" "$src/bin" "$src/package.json" "$src/README.md" /opt/gantry/
ln -sf /opt/gantry/bin/gantry /usr/local/bin/gantry
[[ -d "$src/public" ]] && cp -r "$src/public" /opt/gantry/
# the mDNS announcement: avahi reads this file; Gantry keeps its name, port and UUID current
install -d /etc/avahi/services
[[ -e /etc/avahi/services/gantry.service ]] || install -m 0644 -o gantry -g gantry /dev/null /etc/avahi/services/gantry.service
install -m 0644 "$src/systemd/gantry.service" /etc/systemd/system/gantry.service
install -m 0644 "$src/udev/99-gantry.rules" /etc/udev/rules.d/99-gantry.rules
install -d -m 0755 /etc/polkit-1/rules.d
install -m 0644 "$src/image/polkit/50-gantry.rules" /etc/polkit-1/rules.d/50-gantry.rules
udevadm control --reload-rules || true
systemctl daemon-reload
systemctl enable --now gantry.service
echo "Gantry installed. API key: sudo jq -r .admin.key /var/lib/gantry/keys.json"
