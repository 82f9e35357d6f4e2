#!/usr/bin/env bash
# Records the project's own small captures into testdata/pcaps/ from real
# software running in network namespaces this script creates:
#
#   fwctl  10.200.0.1  "the controller abroad"
#            │ veth ── fwmid: 90 ms each way (tools/netdelay; tc netem where available) ── veth
#   fwlap  10.200.0.2  "the farm laptop" (captured here)
#          10.200.1.1  ──veth── fwtgt 10.200.1.2 (the next hop of a relay)
#
# Every capture is taken on the laptop's side (fwlap), except
# vnc-relayed-controller: there fwtgt plays the laptop (x11vnc serves its
# screen), fwlap is a relay a few µs away (socat 10.200.0.2:5901 →
# 10.200.1.2:5900) and the viewer in fwctl sits 180 ms behind it; that
# capture is taken on fwtgt's interface fw-tgt. No traffic leaves these
# namespaces. Needs root and the Debian packages listed in .ci/debian-packages.txt
# (xrdp, freerdp2-x11, x11vnc, tigervnc-viewer, xterm, xdotool, openssh-server,
# socat, wireguard-tools, wireguard-go, openvpn, tcpdump, xvfb, iproute2, ethtool) and Go.
#
# Usage: scripts/record-pcaps.sh [OUTDIR] [SCENARIO...]
set -euo pipefail
out=$(realpath -m "${1:-testdata/pcaps}")
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(rdp vnc vnc-relayed-controller ssh reverse-ssh socat-relay wireguard openvpn benign-download)
mkdir -p "$out"
work=$(mktemp -d /tmp/fw-record.XXXXXX)
pids=()
netdelay="$work/netdelay"
go build -o "$netdelay" ./tools/netdelay

# The namespaces' processes (the X clients: servers, viewers, tunnels) go
# first, the X servers started here after them: an X client whose display
# vanishes first may exit without freeing its shared memory.
cleanup() {
  cleanup_ns
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bg() { "$@" >>"$work/log" 2>&1 & pids+=($!); }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

wait_port() { # ns addr port
  for _ in $(seq 100); do
    if inns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on $2:$3 in $1" >&2; cat "$work/log" >&2; return 1
}

setup_net() {
  cleanup_ns
  for ns in fwctl fwmid fwlap fwtgt; do ip netns add $ns; inns $ns ip link set lo up; done
  ip link add fw-ctl type veth peer name fw-m1
  ip link add fw-m2 type veth peer name fw-lap
  ip link add fw-lap2 type veth peer name fw-tgt
  ip link set fw-ctl netns fwctl; ip link set fw-m1 netns fwmid; ip link set fw-m2 netns fwmid
  ip link set fw-lap netns fwlap; ip link set fw-lap2 netns fwlap; ip link set fw-tgt netns fwtgt
  inns fwctl ip addr add 10.200.0.1/24 dev fw-ctl
  inns fwlap ip addr add 10.200.0.2/24 dev fw-lap
  inns fwlap ip addr add 10.200.1.1/24 dev fw-lap2
  inns fwtgt ip addr add 10.200.1.2/24 dev fw-tgt
  # Frames cross a userspace bridge: no checksum/segmentation offloads, so
  # what the capture shows is what was on the wire.
  for pair in fwctl:fw-ctl fwmid:fw-m1 fwmid:fw-m2 fwlap:fw-lap fwlap:fw-lap2 fwtgt:fw-tgt; do
    inns "${pair%%:*}" ethtool -K "${pair#*:}" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    inns "${pair%%:*}" ip link set "${pair#*:}" up
  done
  inns fwtgt ip route add default via 10.200.1.1
  inns fwlap sysctl -qw net.ipv4.ip_forward=1
  # 90 ms each way (+ up to 5 ms jitter) between the controller and the
  # laptop: a 180 ms round trip, like a controller on another continent.
  # (tc netem where the kernel has it; this kernel lacks sch_netem, so a
  # userspace delay bridge, tools/netdelay, does the same.)
  bg inns fwmid "$netdelay" -a fw-m1 -b fw-m2 -delay 90ms -jitter 5ms
  for _ in $(seq 50); do inns fwctl ping -c1 -W1 10.200.0.2 >/dev/null 2>&1 && break; sleep 0.1; done
}
# cleanup_ns ends every process still inside the namespaces (forked session
# children, daemons) before deleting them, so nothing outlives a recording.
# SIGTERM first (a killed x11vnc leaves its System V shared memory behind).
cleanup_ns() {
  for ns in fwctl fwmid fwlap fwtgt; do
    ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  for _ in $(seq 30); do
    [ -z "$(for ns in fwctl fwmid fwlap fwtgt; do ip netns pids $ns 2>/dev/null; done)" ] && break
    sleep 0.1
  done
  for ns in fwctl fwmid fwlap fwtgt; do
    ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del $ns 2>/dev/null || true
  done
  pkill -9 -f "$work/" 2>/dev/null || true
}

capture_start() { # name iface [namespace, default fwlap]
  cap="$work/$1.pcap"
  inns "${3:-fwlap}" tcpdump -U -n -i "$2" -s 0 -w "$cap" >>"$work/log" 2>&1 &
  cap_pid=$!
  pids+=($cap_pid)
  sleep 0.5
}
capture_stop() { # name
  sleep 0.5
  kill -TERM $cap_pid 2>/dev/null || true
  wait $cap_pid 2>/dev/null || true
  cp "$work/$1.pcap" "$out/$1.pcap"
  echo "recorded $out/$1.pcap ($(stat -c %s "$out/$1.pcap") bytes)"
}

xvfb() { # display
  bg Xvfb ":$1" -screen 0 800x600x24 -nolisten tcp -noreset
  for _ in $(seq 50); do [ -S /tmp/.X11-unix/X$1 ] && return 0; sleep 0.1; done
  echo "Xvfb :$1 did not start" >&2; return 1
}

# Human-paced typing into the focused window of a display.
type_slowly() { # display text
  local d=$1 text=$2 i
  for ((i = 0; i < ${#text}; i++)); do
    DISPLAY=:$d xdotool type --delay 0 -- "${text:i:1}" 2>/dev/null || true
    sleep 0.$((RANDOM % 3 + 2))
  done
}

sshd_in() { # ns port dir
  local ns=$1 port=$2 d=$3
  mkdir -p /run/sshd "$d"
  [ -f "$d/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
  [ -f "$d/userkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/userkey"
  cp "$d/userkey.pub" "$d/authorized_keys"
  cat >"$d/sshd_config.$ns" <<CFG
Port $port
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
StrictModes no
UsePAM no
PidFile $d/sshd.$ns.pid
AllowTcpForwarding yes
GatewayPorts no
CFG
  bg inns "$ns" /usr/sbin/sshd -D -e -f "$d/sshd_config.$ns"
}
sshopts() { echo "-i $work/ssh/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"; }

# Types shell commands one key at a time into an interactive ssh, at a
# human pace: 150–450 ms between keys and a 0.7–1.6 s pause to read each
# command's output (the OFF periods stepping-stone detection keys on).
interactive_ssh() { # ns target [extra ssh args...]
  local ns=$1 target=$2; shift 2
  { sleep 1.5
    for cmd in "ls /" "uname -a" "cat /etc/hostname" "id" "ls /tmp" "date" "echo done" "exit"; do
      for ((i = 0; i < ${#cmd}; i++)); do printf '%s' "${cmd:i:1}"; sleep 0.$((RANDOM % 31 + 15)); done
      printf '\r'; sleep $((RANDOM % 2)).$((RANDOM % 6 + 7))
    done
  } | inns "$ns" ssh -tt $(sshopts) "$@" "root@$target" >>"$work/log" 2>&1 || true
}

rec_rdp() {
  xvfb 91
  bg inns fwlap xrdp --nodaemon --port 3389
  wait_port fwlap 10.200.0.2 3389
  capture_start rdp-xrdp-freerdp fw-lap
  DISPLAY=:91 bg inns fwctl xfreerdp /v:10.200.0.2:3389 /u:farmuser /p:x /cert:ignore /size:640x480 /sec:tls +clipboard
  sleep 6
  # Click into the login form and type: the server answers with screen updates.
  DISPLAY=:91 xdotool mousemove 320 240 click 1 2>/dev/null || true
  type_slowly 91 "farmuser"
  DISPLAY=:91 xdotool key Tab 2>/dev/null || true
  type_slowly 91 "hunter2"
  sleep 2
  capture_stop rdp-xrdp-freerdp
  pkill -f "xfreerdp /v:10.200.0.2" || true
}

rec_vnc() {
  xvfb 92; xvfb 93
  DISPLAY=:92 bg xterm -geometry 80x24+0+0
  bg inns fwlap x11vnc -display :92 -rfbport 5900 -forever -shared -nopw -quiet
  wait_port fwlap 10.200.0.2 5900
  capture_start vnc-x11vnc-tigervnc fw-lap
  DISPLAY=:93 bg inns fwctl xtigervncviewer -SecurityTypes None 10.200.0.2::5900
  sleep 4
  DISPLAY=:93 xdotool mousemove 200 150 click 1 2>/dev/null || true
  type_slowly 93 "echo typed by the controller"
  DISPLAY=:93 xdotool key Return 2>/dev/null || true
  for x in 100 180 260 340; do DISPLAY=:93 xdotool mousemove $x 200 2>/dev/null || true; sleep 0.3; done
  sleep 2
  capture_stop vnc-x11vnc-tigervnc
}

# The laptop (fwtgt) is controlled through a relay next to it (fwlap): the
# TCP peer of the laptop's VNC server is a few µs away, the person at the
# viewer 180 ms. Input as in rec_vnc, with the viewer focused first so that
# the keys reach the xterm and every echo is a screen update.
rec_vnc_relayed_controller() {
  xvfb 94; xvfb 95
  DISPLAY=:94 bg xterm -geometry 60x12+0+0
  bg inns fwtgt x11vnc -display :94 -rfbport 5900 -forever -shared -nopw -quiet
  wait_port fwtgt 10.200.1.2 5900
  bg inns fwlap socat TCP-LISTEN:5901,fork,reuseaddr TCP:10.200.1.2:5900
  wait_port fwlap 10.200.0.2 5901
  sleep 0.5 # the relay's connection for the probe is over before capture starts
  capture_start vnc-relayed-controller fw-tgt fwtgt
  DISPLAY=:95 bg inns fwctl xtigervncviewer -SecurityTypes None 10.200.0.2::5901
  sleep 4
  DISPLAY=:95 xdotool mousemove 200 150 click 1 2>/dev/null || true
  DISPLAY=:95 timeout 5 xdotool search --sync --limit 1 --class "TigerVNC Viewer" windowfocus 2>/dev/null || true
  type_slowly 95 "echo typed by the controller"
  DISPLAY=:95 xdotool key Return 2>/dev/null || true
  for x in 100 180 260 340; do DISPLAY=:95 xdotool mousemove $x 200 2>/dev/null || true; sleep 0.3; done
  sleep 2
  capture_stop vnc-relayed-controller
}

rec_ssh() {
  sshd_in fwlap 22 "$work/ssh"
  wait_port fwlap 10.200.0.2 22
  capture_start ssh-interactive fw-lap
  interactive_ssh fwctl 10.200.0.2
  capture_stop ssh-interactive
}

rec_reverse_ssh() {
  sshd_in fwctl 22 "$work/ssh"
  sshd_in fwlap 22 "$work/ssh"
  wait_port fwlap 10.200.0.1 22
  capture_start ssh-reverse-tunnel fw-lap
  # The laptop dials out and exposes its own sshd on the controller's side…
  bg inns fwlap ssh -N $(sshopts) -o ExitOnForwardFailure=yes -R 2222:127.0.0.1:22 root@10.200.0.1
  wait_port fwctl 127.0.0.1 2222
  # …and the controller types into the laptop through it.
  interactive_ssh fwctl 127.0.0.1 -p 2222
  capture_stop ssh-reverse-tunnel
}

rec_socat_relay() {
  sshd_in fwtgt 22 "$work/ssh"
  wait_port fwlap 10.200.1.2 22
  bg inns fwlap socat TCP-LISTEN:4444,fork,reuseaddr TCP:10.200.1.2:22
  wait_port fwctl 10.200.0.2 4444
  capture_start socat-relay any
  interactive_ssh fwctl 10.200.0.2 -p 4444
  capture_stop socat-relay
}

rec_wireguard() {
  local k1 k2
  k1=$(wg genkey); k2=$(wg genkey)
  # The kernel module where there is one; wireguard-go (userspace, same
  # protocol on the wire) on kernels without it. Interface names differ per
  # namespace because wireguard-go's control sockets share /var/run/wireguard.
  for pair in fwctl:wgc0 fwlap:wgl0; do
    local ns=${pair%%:*} dev=${pair#*:}
    rm -f "/var/run/wireguard/$dev.sock"
    if ! inns $ns ip link add $dev type wireguard 2>/dev/null; then
      WG_PROCESS_FOREGROUND=1 WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 bg inns $ns wireguard-go $dev
      for _ in $(seq 50); do inns $ns ip link show $dev >/dev/null 2>&1 && break; sleep 0.1; done
    fi
  done
  inns fwctl wg set wgc0 listen-port 51820 private-key <(echo "$k1") peer "$(echo "$k2" | wg pubkey)" allowed-ips 10.201.0.2/32 endpoint 10.200.0.2:51820
  inns fwlap wg set wgl0 listen-port 51820 private-key <(echo "$k2") peer "$(echo "$k1" | wg pubkey)" allowed-ips 10.201.0.1/32 endpoint 10.200.0.1:51820
  inns fwctl ip addr add 10.201.0.1/24 dev wgc0; inns fwlap ip addr add 10.201.0.2/24 dev wgl0
  inns fwctl ip link set wgc0 up; inns fwlap ip link set wgl0 up
  sshd_in fwlap 22 "$work/ssh"
  capture_start wireguard fw-lap
  inns fwlap ping -c 3 -i 0.3 10.201.0.1 >>"$work/log" 2>&1 || true
  interactive_ssh fwctl 10.201.0.2
  capture_stop wireguard
  inns fwctl ip link del wgc0 2>/dev/null || true; inns fwlap ip link del wgl0 2>/dev/null || true
}

rec_openvpn() {
  local d="$work/ovpn"
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=farmwatch-test-ca" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  for n in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" -keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null
    printf 'extendedKeyUsage=%s\n' "$([ $n = server ] && echo serverAuth || echo clientAuth)" >"$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 -extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null
  done
  bg inns fwctl openvpn --mode server --tls-server --proto udp --port 1194 --dev tun --topology subnet --server 10.202.0.0 255.255.255.0 \
    --ca "$d/ca.crt" --cert "$d/server.crt" --key "$d/server.key" --dh none --verb 1
  sleep 1
  capture_start openvpn-udp fw-lap
  bg inns fwlap openvpn --client --proto udp --remote 10.200.0.1 1194 --dev tun --nobind \
    --ca "$d/ca.crt" --cert "$d/client.crt" --key "$d/client.key" --verb 1
  for _ in $(seq 60); do inns fwlap ip addr show tun0 2>/dev/null | grep -q 10.202 && break; sleep 0.2; done
  inns fwlap ping -c 5 -i 0.3 10.202.0.1 >>"$work/log" 2>&1 || true
  capture_stop openvpn-udp
}

rec_benign_download() {
  dd if=/dev/urandom of="$work/blob.bin" bs=64k count=4 status=none
  (cd "$work" && bg inns fwctl python3 -m http.server 8080 --bind 10.200.0.1)
  wait_port fwlap 10.200.0.1 8080
  capture_start benign-download fw-lap
  inns fwlap curl -s -o /dev/null http://10.200.0.1:8080/blob.bin
  inns fwlap curl -s -o /dev/null -A "Mozilla/5.0" http://10.200.0.1:8080/
  capture_stop benign-download
}

for s in "${scenarios[@]}"; do
  setup_net
  echo "== $s"
  "rec_${s//-/_}"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  cleanup_ns
  pids=()
done
