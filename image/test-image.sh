#!/usr/bin/env bash
# Boots the built image under qemu-system-aarch64 -M virt (TCG, 512 MB, the image's own kernel and initrd from its
# FAT partition, root on a virtio disk, user-mode networking) with a first-boot file on the FAT partition, and
# checks from the host what a user would see: the boards' DTBs on the FAT partition, Gantry answers, the first-boot
# settings were applied, no failed units, the card-saving settings (noatime, zram, journal in RAM), a USB serial
# printer hot-plugged through the QEMU monitor (backed by the repo's virtual printer on a PTY) is found and
# connected, the memory used with the camera streaming and MQTT on (a broker on the host), a reboot from the API
# comes back with the printer and an uploaded file, a restart of Gantry from the API, a frozen Gantry restarted by
# systemd's watchdog, the unit and rules are the repository's (and systemd-analyze verify/security on the image),
# and a shutdown from the API powers the VM off. Prints timings and the measurements image/README.md reports; writes them to
# build/image-test/results.txt.
# Needs: qemu-system-arm (qemu-system-aarch64), mtools, openssh-client, curl, python3, mosquitto, a built checkout
# (make build).
# Environment: IMAGE (default build/gantry-<version>-arm64.img), IMAGE_TEST_DIR (default build/image-test),
#   BOOT_LIMIT (s, default 900), QEMU_SMP (default 2), KEEP_VM=1 leaves the VM running at the end (ssh command
#   printed). Run it under `nice` on a shared machine (QEMU takes every core it is given).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
version=$(node -p "require('$src/package.json').version")
image=${IMAGE:-$src/build/gantry-${version}-arm64.img}
work=${IMAGE_TEST_DIR:-$src/build/image-test}
# generous: every wait below ends as soon as its condition holds, so the limit only decides when a hang fails
limit=${BOOT_LIMIT:-900}
t0=$(date +%s)
now() { echo $(($(date +%s) - t0)); }
say() { printf '[%4ss] %s\n' "$(now)" "$*"; }
# the reason is printed last, after the console's tail: a CI log often keeps only its last lines
fail() {
  local why="$*"
  echo "--- last console lines:"
  tail -n 30 "$work/console.log" 2>/dev/null | tr -d '\r' || true
  echo "--- FAIL: $why"
  say "FAIL: ${why%%$'\n'*}"
  exit 1
}
for c in qemu-system-aarch64 mcopy ssh ssh-keygen curl python3; do
  command -v $c >/dev/null || { echo "$c is needed: apt-get install qemu-system-arm mtools openssh-client curl python3" >&2; exit 1; }
done
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[[ -x $mosquitto ]] || { echo "mosquitto is needed: apt-get install mosquitto" >&2; exit 1; }
[[ -f $image ]] || { echo "no $image: make image first" >&2; exit 1; }
[[ -f $src/dist/src/cli.js ]] || { echo "build first: make build" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() {
  if [[ ${KEEP_VM:-0} != 1 ]]; then
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  fi
}
trap cleanup EXIT

# ---- the disk: a copy of the image, 1 GB larger (the first boot grows the root partition into it)
disk=$work/disk.img
cp --sparse=always "$image" "$disk"
truncate -s +1G "$disk"
img_mb=$(($(stat -c %s "$image") / 1024 / 1024))
fat="$disk@@1M"
# the kernel and initrd the Pi firmware would load (config.txt names them), and its command line
cfg=$(mtype -i "$fat" ::config.txt | tr -d '\r')
kernel=$(sed -n 's/^kernel=//p' <<<"$cfg" | tail -n1)
initrd=$(sed -n 's/^initramfs[[:space:]]\+\([^[:space:]]*\).*/\1/p' <<<"$cfg" | tail -n1)
[[ -n $kernel && -n $initrd ]] || fail "config.txt names no kernel/initramfs: $cfg"
mcopy -n -i "$fat" "::$kernel" "$work/vmlinuz"
mcopy -n -i "$fat" "::$initrd" "$work/initrd"
cmdline=$(mtype -i "$fat" ::cmdline.txt | tr -d '\r\n')
say "image $(basename "$image") ($img_mb MB); kernel $kernel; cmdline: $cmdline"
# the device trees the Pi firmware picks by board (mainline names): Zero 2 W, 3, 4, 5
fatdir=$(mdir -b -i "$fat" ::)
for dtb in bcm2837-rpi-zero-2-w.dtb bcm2837-rpi-3-b.dtb bcm2837-rpi-3-b-plus.dtb bcm2711-rpi-4-b.dtb bcm2712-rpi-5-b.dtb; do
  grep -q "/$dtb\$" <<<"$fatdir" || fail "no $dtb on the FAT partition"
done
say "OK  DTBs for the Pi Zero 2 W, 3, 3 B+, 4 and 5 on the FAT partition"

# ---- the first-boot file: every kind of setting, one deliberate mistake (reported, the rest applied)
ssh-keygen -q -t ed25519 -N '' -C gantry-image-test -f "$work/id"
api_key=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
admin_pass=test-password-$RANDOM
wifi_pass=wifi-secret-$RANDOM
cat >"$work/gantry-firstboot.txt" <<EOF
# written by image/test-image.sh
hostname=gantry-test
wifi_ssid=Test Network
wifi_password="$wifi_pass"
wifi_country=de
timezone=Europe/Berlin
ssh_authorized_key=$(cat "$work/id.pub")
admin_user=maker
admin_password=$admin_pass
api_key=$api_key
printer_colour=blue
EOF
sed -i 's/$/\r/' "$work/gantry-firstboot.txt" # as Notepad saves it
mcopy -i "$fat" "$work/gantry-firstboot.txt" ::gantry-firstboot.txt

# ---- the virtual printer on a PTY: the USB serial adapter's other end
node "$src/dist/src/cli.js" virtual-printer --link "$work/printer" >"$work/printer.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -e $work/printer ]] && break; sleep 0.2; done
[[ -e $work/printer ]] || fail "the virtual printer made no PTY: $(cat "$work/printer.log")"

# ---- the VM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port)
ssh_port=$(free_port)
base="http://127.0.0.1:$http_port"
mon=$work/monitor.sock
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "${QEMU_SMP:-2}" -m 512 \
  -kernel "$work/vmlinuz" -initrd "$work/initrd" -append "$cmdline console=ttyAMA0" \
  -drive if=none,file="$disk",format=raw,id=hd,cache=unsafe -device virtio-blk-pci,drive=hd \
  -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$http_port-:80,hostfwd=tcp:127.0.0.1:$ssh_port-:22 -device virtio-net-pci,netdev=n0 \
  -device virtio-rng-pci -device qemu-xhci,id=xhci \
  -monitor unix:"$mon",server,nowait -serial file:"$work/console.log" -display none 2>"$work/qemu.log" &
qpid=$!
pids+=($qpid)
monitor() { python3 - "$mon" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
def read():
    buf = b''
    try:
        while not buf.endswith(b'(qemu) '): buf += s.recv(4096)
    except socket.timeout: pass
    return buf.decode(errors='replace')
read(); s.sendall((sys.argv[2] + '\n').encode()); out = read()
print('\n'.join(l for l in out.splitlines()[1:] if not l.startswith('(qemu)')))
PY
}
# ssh's own failures (exit 255: no connection, a handshake that timed out) are retried: under TCG on a busy host the
# emulated key exchange alone can take many seconds. The remote command's exit status passes through as it is
sshvm_once() { ssh -q -i "$work/id" -p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=60 -o BatchMode=yes root@127.0.0.1 "$@"; }
sshvm() {
  local rc
  for try in 1 2 3 4; do
    rc=0
    sshvm_once "$@" || rc=$?
    ((rc == 255)) || return $rc
    echo "(ssh could not reach the VM, try $try)" >&2
    sleep 5
  done
  return 255
}
api() { curl -sS -m 20 -H "X-Api-Key: $api_key" "$@"; }
wait_version() { # $1: limit in s; prints the seconds it took; 2: qemu exited (it runs in $(...): fail's words would
  # land in the variable, so the caller says why)
  local start=$(date +%s)
  while (($(date +%s) - start < $1)); do
    kill -0 "$qpid" 2>/dev/null || return 2
    if curl -fsS -m 5 -H "X-Api-Key: $api_key" -o /dev/null "$base/api/version" 2>/dev/null; then echo $(($(date +%s) - start)); return 0; fi
    sleep 2
  done
  return 1
}

# ---- 1. boot to /api/version
boot_s=$(wait_version "$limit") || {
  (($? == 2)) && fail "qemu exited: $(cat "$work/qemu.log")"
  fail "/api/version did not answer within $limit s"
}
say "OK  first boot: /api/version answers after $boot_s s (limit $limit s)"
api -f -m 10 "$base/api/version"; echo

# ---- 2. first-boot settings
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$base/api/version")
[[ $code = 401 || $code = 403 ]] || fail "GET /api/version without a key answered $code, not 401/403"
api -f -o /dev/null "$base/api/connection" || fail "the first-boot file's API key is refused"
say "OK  the first-boot API key works (and no key is refused: $code)"
login=$(curl -sS -m 20 -H 'Content-Type: application/json' -d "{\"user\":\"maker\",\"pass\":\"$admin_pass\"}" "$base/api/login")
grep -q '"name":"maker"' <<<"$login" || fail "login as maker with the first-boot password: $login"
say "OK  the first-boot admin account logs in"
for _ in $(seq 30); do sshvm_once true && break; sleep 2; done
sshvm true || fail "ssh with the first-boot key"
say "OK  ssh with the first-boot key"
[[ $(sshvm hostname) = gantry-test ]] || fail "hostname is $(sshvm hostname)"
say "OK  hostname gantry-test"
[[ $(sshvm cat /etc/timezone) = Europe/Berlin ]] || fail "time zone: $(sshvm cat /etc/timezone)"
sshvm grep -q '^country=DE' /etc/wpa_supplicant/wpa_supplicant-wlan0.conf || fail "no Wi-Fi configuration"
sshvm "! grep -rq '$wifi_pass' /etc/wpa_supplicant/" || fail "the Wi-Fi passphrase is stored in clear"
say "OK  time zone, Wi-Fi configuration (pre-computed key, country DE)"
fblog=$(sshvm cat /boot/firmware/gantry-firstboot.log)
echo "$fblog" | sed 's/^/      log: /'
grep -q 'unknown setting "printer_colour"' <<<"$fblog" || fail "the mistake is not in gantry-firstboot.log"
sshvm '[ ! -e /boot/firmware/gantry-firstboot.txt ]' || fail "gantry-firstboot.txt is still there"
sshvm "! grep -rqF -e '$wifi_pass' -e '$admin_pass' -e '$api_key' /boot/firmware/" || fail "a secret is still on the FAT partition"
say "OK  gantry-firstboot.log reports the bad line; the file is gone and no secret is left on the FAT partition"
# the same mistake on the page: the script's record in the data directory, read by Gantry
api -f -o "$work/system.json" "$base/api/gantry/system" || fail "GET /api/gantry/system"
python3 - "$work/system.json" <<'PY' || fail "firstBoot on /api/gantry/system: $(cat "$work/system.json")"
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text)["firstBoot"]
assert any('unknown setting "printer_colour"' in e for e in r["errors"]), r
assert any(a.startswith("hostname: gantry-test") for a in r["applied"]), r
assert "wifi-secret-" not in text and "test-password-" not in text, "a secret in the record"
print("      firstBoot: %d applied; errors: %s" % (len(r["applied"]), r["errors"]))
PY
say "OK  /api/gantry/system reports the first-boot file's mistake (firstBoot.errors)"
failed=$(sshvm systemctl is-failed gantry.service gantry-firstboot.service || true)
[[ $(tr '\n' ' ' <<<"$failed") = "active active " ]] || fail "systemctl is-failed gantry gantry-firstboot: $failed"
all_failed=$(sshvm systemctl --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')
[[ -z ${all_failed// /} ]] || fail "failed units: $all_failed"
say "OK  gantry.service and gantry-firstboot.service active; no failed unit at all"
root_kb=$(sshvm df -k --output=size / | tail -n1 | tr -d ' ')
((root_kb > (img_mb - 257) * 1024 + 512 * 1024)) || fail "the root filesystem did not grow: $root_kb KB"
opts=$(sshvm 'findmnt -no OPTIONS /')
grep -qw noatime <<<"$opts" || fail "/ is mounted without noatime: $opts"
swaps=$(sshvm "swapon --raw --noheadings --show=NAME,SIZE | tr '\n' ' '" || true)
[[ $swaps =~ ^/dev/zram[0-9]+\ [^\ ]+\ *$ ]] || fail "swap is not zram alone: '$swaps'"
journal=$(sshvm 'journalctl --header | grep -m1 "File path"' | awk '{print $3}' || true)
[[ $journal == /run/log/journal/* ]] || fail "the journal is not in RAM: $journal"
say "OK  root grown to $((root_kb / 1024)) MB; mounted noatime; swap on zram only ($swaps); journal in RAM ($journal)"
sshvm 'systemctl is-active avahi-daemon >/dev/null' || fail "avahi-daemon is not active"
# what a phone or a slicer on the LAN finds: resolved over mDNS by avahi's own tools on the VM (the VM's network
# is QEMU's user mode, with no second host on it: this is the announcement as avahi publishes it, not a LAN)
mdns=''
for _ in $(seq 20); do
  mdns=$(sshvm "avahi-browse -rtp _octoprint._tcp 2>/dev/null | grep '^='" || true)
  grep -q ';gantry-test\.local;.*;80;' <<<"$mdns" && grep -q '"path=/"' <<<"$mdns" && break
  sleep 3
done
grep -q ';gantry-test\.local;.*;80;' <<<"$mdns" || fail "_octoprint._tcp not resolved over mDNS: $mdns"
grep -q '"path=/"' <<<"$mdns" || fail "_octoprint._tcp without TXT path=/: $mdns"
host_ip=$(sshvm "avahi-resolve -4 -n gantry-test.local" | awk '{print $2}' || true)
[[ -n $host_ip ]] || fail "gantry-test.local does not resolve over mDNS"
say "OK  mDNS: gantry-test.local is $host_ip, _octoprint._tcp on port 80 with path=/ ($(grep -c '' <<<"$mdns") record(s))"

# ---- 3. a USB serial printer, hot-plugged
t=$(date +%s)
monitor "chardev-add serial,id=printer,path=$work/printer"
monitor "device_add usb-serial,chardev=printer,id=usbprinter,bus=xhci.0"
state=''
for _ in $(seq 90); do
  state=$(api "$base/api/connection" | python3 -c 'import json,sys; c=json.load(sys.stdin)["current"]; print(c["state"], c.get("port"))' 2>/dev/null || true)
  [[ $state == Operational* ]] && break
  sleep 2
done
[[ $state == Operational* ]] || fail "the hot-plugged printer: connection state $state; $(sshvm 'ls /dev/ttyUSB* 2>&1; journalctl -u gantry -n 20 --no-pager')"
say "OK  hot-plugged USB serial printer connected after $(($(date +%s) - t)) s: $state"

# ---- 4. measurements (idle: a few seconds after connecting)
sleep 10
pid=$(sshvm systemctl show -p MainPID --value gantry.service)
rss=$(sshvm "awk '/VmRSS/{print \$2}' /proc/$pid/status")
used=$(sshvm "free -k | awk '/^Mem:/{print \$3}'")
total=$(sshvm "free -k | awk '/^Mem:/{print \$2}'")
disk_used=$(sshvm "df -k --output=used / | tail -n1" | tr -d ' ')
say "measured: Gantry idle RSS $((rss / 1024)) MB; system used $((used / 1024)) of $((total / 1024)) MB; root used $((disk_used / 1024)) MB"

# ---- 4b. the same with MQTT on (a broker on the host: 10.0.2.2 from the VM) and the camera streaming to a viewer
mqtt_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mqtt_port" >"$work/mosquitto.conf"
"$mosquitto" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
# Home Assistant's view: the printer's discovery config, retained, once Gantry is connected
node -e '
const mqtt = require(process.argv[1]);
const c = mqtt.connect(process.argv[2], { reconnectPeriod: 1000 });
const give = setTimeout(() => { console.error("no Home Assistant discovery within 300 s"); process.exit(1); }, 300000);
c.on("connect", () => c.subscribe("homeassistant/#"));
c.on("message", (t, m) => { if (t.endsWith("/config") && m.length) { console.log(t); clearTimeout(give); c.end(); } });
' "$src/node_modules/mqtt" "mqtt://127.0.0.1:$mqtt_port" >"$work/discovery.txt" 2>&1 &
discovery_pid=$!
pids+=($discovery_pid)
api -f -o /dev/null -H 'Content-Type: application/json' -X POST "$base/api/settings" \
  -d "{\"gantry\":{\"camera\":{\"source\":\"testsrc\"},\"mqtt\":{\"url\":\"mqtt://10.0.2.2:$mqtt_port\"}}}" || fail "POST /api/settings (camera testsrc, MQTT)"
wait "$discovery_pid" || fail "MQTT: $(cat "$work/discovery.txt"); broker: $(tail -n 5 "$work/mosquitto.log"); $(sshvm 'journalctl -u gantry -n 20 --no-pager' || true)"
say "OK  MQTT on: Home Assistant discovery received ($(head -n1 "$work/discovery.txt"))"
# no time limit: the viewer watches until it is killed below (ffmpeg stops 5 s after the last viewer leaves)
curl -sS -H "X-Api-Key: $api_key" -o "$work/stream.mjpeg" "$base/webcam/?action=stream" 2>/dev/null &
viewer=$!
pids+=($viewer)
jpegs() { python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(b"\xff\xd8\xff"))' "$work/stream.mjpeg" 2>/dev/null || echo 0; }
for _ in $(seq 60); do
  (($(jpegs) >= 3)) && break
  sleep 1
done
frames=$(jpegs)
((frames >= 3)) || fail "the camera stream sent $frames frames; $(sshvm 'journalctl -u gantry -n 20 --no-pager')"
sleep 10 # settled, still streaming
kill -0 "$viewer" 2>/dev/null || fail "the camera viewer stopped before the measurement"
rss_on=$(sshvm "awk '/VmRSS/{print \$2}' /proc/$pid/status")
used_on=$(sshvm "free -k | awk '/^Mem:/{print \$3}'")
ffmpeg_kb=$(sshvm "ps -C ffmpeg -o rss= | awk '{s+=\$1} END {print s+0}'")
kill "$viewer" 2>/dev/null || true
((ffmpeg_kb > 0)) || fail "no ffmpeg running while the camera streams"
say "measured with MQTT on and the camera streaming: Gantry RSS $((rss_on / 1024)) MB, ffmpeg $((ffmpeg_kb / 1024)) MB; system used $((used_on / 1024)) of $((total / 1024)) MB"
((used_on < 200 * 1024)) || fail "the system uses $((used_on / 1024)) MB with camera and MQTT on (goal: under 200)"

# ---- 5. an upload, a reboot from the API, the file still there
printf 'G28\nG1 X10 Y10 F3000\nM117 image test\n' >"$work/survivor.gcode"
api -f -o /dev/null -F "file=@$work/survivor.gcode" "$base/api/files/local" || fail "upload"
uuid=$(api "$base/api/settings" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("plugins",{}).get("discovery",{}).get("upnpUuid",""))' 2>/dev/null || true)
boot_id=$(sshvm cat /proc/sys/kernel/random/boot_id)
t=$(date +%s)
api -f -o /dev/null -X POST "$base/api/system/commands/core/reboot" || fail "POST /api/system/commands/core/reboot"
# back = Gantry answers on a new boot (a new boot_id over ssh): the old system may answer for a while as it stops
while :; do
  sleep 5
  (($(date +%s) - t < limit)) || fail "not back within $limit s after the reboot"
  kill -0 "$qpid" 2>/dev/null || fail "qemu exited: $(cat "$work/qemu.log")"
  curl -fsS -m 5 -H "X-Api-Key: $api_key" -o /dev/null "$base/api/version" 2>/dev/null || continue
  nb=$(sshvm cat /proc/sys/kernel/random/boot_id 2>/dev/null) || continue
  [[ -n $nb && $nb != "$boot_id" ]] && break
done
reboot_s=$(($(date +%s) - t))
say "OK  reboot from the API: back after $reboot_s s"
api -f "$base/api/files/local/survivor.gcode" >/dev/null || fail "the uploaded file is gone after the reboot"
cmp -s <(api -f "$base/downloads/files/local/survivor.gcode") "$work/survivor.gcode" && same=" (same bytes)" || same=''
uuid2=$(api "$base/api/settings" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("plugins",{}).get("discovery",{}).get("upnpUuid",""))' 2>/dev/null || true)
[[ -n $uuid ]] || fail "no install UUID (plugins.discovery.upnpUuid) in the settings"
[[ $uuid = "$uuid2" ]] || fail "the install's UUID changed over the reboot: $uuid -> $uuid2"
# the first-boot unit does not run again (no new file): inactive, never failed
failed=$(sshvm systemctl is-failed gantry.service gantry-firstboot.service || true)
[[ $(tr '\n' ' ' <<<"$failed") = "active inactive " ]] || fail "after the reboot: systemctl is-failed gantry gantry-firstboot: $failed"
say "OK  the uploaded file survived the reboot$same; UUID ${uuid:-?} kept; units clean"
state=''
for _ in $(seq 60); do
  state=$(api "$base/api/connection" | python3 -c 'import json,sys; c=json.load(sys.stdin)["current"]; print(c["state"], c.get("port"))' 2>/dev/null || true)
  [[ $state == Operational* ]] && break
  sleep 2
done
[[ $state == Operational* ]] || fail "after the reboot the printer is not connected again: $state"
say "OK  after the reboot the printer is connected again: $state"

# ---- 6. restart Gantry from the API (systemd starts it again: a new process), then shut down from the API
# A new Gantry is up when systemd has its READY=1 (active/running) under a main PID other than OLD, and the API
# answers with that PID still the main one. Checking only that the API answers and the PID changed raced: the old
# process may answer while it stops, and ssh then reads the PID of a new one still starting (TCG: tens of seconds),
# so the next step froze a Gantry that had not started, which systemd's start timeout then ended, not its watchdog.
# Sets new_pid; WHAT names the wait in the failure.
wait_new_gantry() {
  local old=$1 what=$2 t=$(date +%s) st='' before after
  # one ssh call a look (each costs seconds under TCG): "MainPID ActiveState SubState"
  local look='echo $(systemctl show -p MainPID --value gantry.service) $(systemctl show -p ActiveState --value gantry.service) $(systemctl show -p SubState --value gantry.service)'
  while :; do
    sleep 2
    (($(date +%s) - t < limit)) || fail "$what: no new Gantry within $limit s (systemd: MainPID ActiveState SubState = ${st:-?})"
    st=$(sshvm "$look" 2>/dev/null) || continue
    read -r before _ <<<"$st"
    [[ $st == *" active running" && -n $before && $before != 0 && $before != "$old" ]] || continue
    curl -fsS -m 5 -H "X-Api-Key: $api_key" -o /dev/null "$base/api/version" 2>/dev/null || continue
    after=$(sshvm "$look" 2>/dev/null) || continue
    [[ $after = "$st" ]] && break
  done
  new_pid=$before
}
pid=$(sshvm systemctl show -p MainPID --value gantry.service)
t=$(date +%s)
api -f -o /dev/null -X POST "$base/api/system/commands/core/restart" || fail "POST /api/system/commands/core/restart"
wait_new_gantry "$pid" "restart from the API"
pid2=$new_pid
say "OK  restart from the API: a new Gantry (pid $pid -> $pid2) is up and answers after $(($(date +%s) - t)) s"

# ---- 7. a stuck event loop: Gantry frozen (SIGSTOP) stops its watchdog pings; systemd kills and restarts it
restarts=$(sshvm systemctl show -p NRestarts --value gantry.service)
t=$(date +%s)
sshvm kill -STOP "$pid2" || fail "kill -STOP $pid2 on the VM"
wait_new_gantry "$pid2" "a frozen Gantry (WatchdogSec)"
pid3=$new_pid
restarts2=$(sshvm systemctl show -p NRestarts --value gantry.service)
((restarts2 > restarts)) || fail "NRestarts did not grow ($restarts -> $restarts2)"
sshvm "journalctl -u gantry.service --no-pager -n 200" >"$work/watchdog-journal.txt" 2>&1 || true
grep -qi 'watchdog' "$work/watchdog-journal.txt" || fail "no watchdog timeout in the journal: $(tail -n 30 "$work/watchdog-journal.txt")"
say "OK  a frozen Gantry: systemd's watchdog killed it and started a new one (pid $pid3) after $(($(date +%s) - t)) s"

# ---- 8. the unit, udev and polkit rules on the image are the repository's, and the unit as systemd 257 judges it
for f in systemd/gantry.service:/usr/lib/systemd/system/gantry.service udev/99-gantry.rules:/usr/lib/udev/rules.d/99-gantry.rules image/polkit/50-gantry.rules:/usr/share/polkit-1/rules.d/50-gantry.rules; do
  ours=$(sha256sum "$src/${f%%:*}" | cut -d' ' -f1)
  theirs=$(sshvm sha256sum "${f#*:}" | cut -d' ' -f1 || true)
  [[ $ours = "$theirs" ]] || fail "${f#*:} on the image is not the repository's ${f%%:*}"
done
sshvm systemd-analyze verify gantry.service >"$work/verify.txt" 2>&1 || fail "systemd-analyze verify on the image: $(cat "$work/verify.txt")"
exposure=$(sshvm "systemd-analyze security --no-pager gantry.service | tail -n1")
score=$(grep -o '[0-9]\+\.[0-9]' <<<"$exposure" | head -n1 || true)
[[ -n $score ]] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)" "$score" || fail "systemd-analyze security on the image: $exposure"
say "OK  the unit, udev and polkit rules are the repository's; systemd-analyze verify clean; security on the image's systemd: $exposure"
if [[ ${KEEP_VM:-0} != 1 ]]; then
  t=$(date +%s)
  api -f -o /dev/null -X POST "$base/api/system/commands/core/shutdown" || fail "POST /api/system/commands/core/shutdown"
  while kill -0 "$qpid" 2>/dev/null; do
    (($(date +%s) - t < limit)) || fail "the VM did not power off within $limit s after a shutdown"
    sleep 2
  done
  say "OK  shutdown from the API: the VM powered off after $(($(date +%s) - t)) s"
fi

xz_mb=''
[[ -f $image.xz ]] && xz_mb=$(($(stat -c %s "$image.xz") / 1024 / 1024))
{
  echo "image: ${img_mb} MB raw${xz_mb:+, ${xz_mb} MB .xz}; root used on the booted system: $((disk_used / 1024)) MB"
  echo "first boot to /api/version (TCG, -smp ${QEMU_SMP:-2}, 512 MB): ${boot_s} s; reboot from the API to /api/version: ${reboot_s} s"
  echo "Gantry idle RSS (printer connected): $((rss / 1024)) MB; system memory used: $((used / 1024)) of $((total / 1024)) MB"
  echo "with MQTT on and the camera streaming (testsrc 640x480): Gantry $((rss_on / 1024)) MB, ffmpeg $((ffmpeg_kb / 1024)) MB; system memory used: $((used_on / 1024)) of $((total / 1024)) MB"
  echo "image test total: $(now) s"
} | tee "$work/results.txt"
say "PASS"
if [[ ${KEEP_VM:-0} = 1 ]]; then
  echo "VM left running (pid $qpid): ssh -i $work/id -p $ssh_port root@127.0.0.1; $base"
fi
