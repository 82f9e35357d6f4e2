# shellcheck shell=bash
# Shared set-up for the real-software zoo (scripts/zoo.sh): four network
# namespaces and helpers the scenario files (scripts/zoo/<name>.sh) use.
#
#   zctl  10.210.0.1  "the controller abroad" (viewer, RMM server, relay end)
#           │ veth ── zmid: 90 ms each way (tools/netdelay) ── veth
#   zlap  10.210.0.2  "the farm laptop": farmwatch looks at this one
#         10.210.1.1  ──veth── ztgt 10.210.1.2 (a host next to the laptop)
#
# No traffic leaves these namespaces. Names (with the default ZOO_PREFIX=z):
# namespaces $NS_CTL $NS_MID $NS_LAP $NS_TGT; links $IF_CTL, $IF_LAP (the
# laptop towards the controller), $IF_LAP2 and $IF_TGT (the side link).
# Scenarios use these variables, never the literal names.
# Every background process is started with zbg and ended by zoo_down.
set -euo pipefail

ZOO_CTL=10.210.0.1
ZOO_LAP=10.210.0.2
ZOO_LAP2=10.210.1.1
ZOO_TGT=10.210.1.2
# ZOO_PREFIX names the namespaces and links (default z: zctl, z-lap…), so
# that several zoos can run side by side; ZOO_DISPLAY is the first of the
# X display numbers a scenario may use (it takes ZOO_DISPLAY…ZOO_DISPLAY+4).
: "${ZOO_PREFIX:=z}"
: "${ZOO_DISPLAY:=70}"
NS_CTL=${ZOO_PREFIX}ctl NS_MID=${ZOO_PREFIX}mid NS_LAP=${ZOO_PREFIX}lap NS_TGT=${ZOO_PREFIX}tgt
IF_CTL=${ZOO_PREFIX}-ctl IF_LAP=${ZOO_PREFIX}-lap IF_LAP2=${ZOO_PREFIX}-lap2 IF_TGT=${ZOO_PREFIX}-tgt
IF_M1=${ZOO_PREFIX}-m1 IF_M2=${ZOO_PREFIX}-m2
ZOO_NS=("$NS_CTL" "$NS_MID" "$NS_LAP" "$NS_TGT")
# ZOO_STATE holds pids, logs and per-scenario files; ZOO_CACHE holds
# installed software (npm packages, Go-built tools) kept between runs.
: "${ZOO_STATE:=/tmp/farmwatch-zoo-$ZOO_PREFIX}"
: "${ZOO_CACHE:=/var/cache/farmwatch-zoo}"
: "${ZOO_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
mkdir -p "$ZOO_STATE" "$ZOO_CACHE"

zlog() { echo "zoo: $*" >&2; }
# zinns NS CMD...: run CMD inside namespace NS.
zinns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# zbg CMD...: start CMD in the background, logging to $ZOO_STATE/log; its
# pid is recorded for zoo_down.
zbg() { "$@" >>"$ZOO_STATE/log" 2>&1 & echo $! >>"$ZOO_STATE/pids"; }

# zwait_port NS ADDR PORT [TRIES]: wait until a TCP socket listens on
# ADDR:PORT (or on the wildcard address) in NS, 0.1 s a try (default 150).
# It looks at the socket table rather than connecting, so listeners that
# take one connection only (a listening viewer) are not used up.
zwait_port() {
  local n=${4:-150}
  for _ in $(seq "$n"); do
    if zinns "$1" ss -Hltn "( sport = :$3 )" 2>/dev/null | grep -qE "($2|\*|0\.0\.0\.0|\[::\]):$3"; then return 0; fi
    sleep 0.1
  done
  zlog "nothing listens on $2:$3 in $1"; tail -n 40 "$ZOO_STATE/log" >&2; return 1
}

# zwait_cmd TRIES CMD...: retry CMD every 0.2 s until it succeeds.
zwait_cmd() {
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  zlog "timed out waiting for: $*"; return 1
}

# zoo_net builds the namespaces and the 180 ms path between zctl and zlap.
zoo_net() {
  zoo_down_ns
  local ns pair
  for ns in "${ZOO_NS[@]}"; do ip netns add "$ns"; zinns "$ns" ip link set lo up; done
  ip link add $IF_CTL type veth peer name $IF_M1
  ip link add $IF_M2 type veth peer name $IF_LAP
  ip link add $IF_LAP2 type veth peer name $IF_TGT
  ip link set $IF_CTL netns $NS_CTL; ip link set $IF_M1 netns $NS_MID; ip link set $IF_M2 netns $NS_MID
  ip link set $IF_LAP netns $NS_LAP; ip link set $IF_LAP2 netns $NS_LAP; ip link set $IF_TGT netns $NS_TGT
  zinns $NS_CTL ip addr add $ZOO_CTL/24 dev $IF_CTL
  zinns $NS_LAP ip addr add $ZOO_LAP/24 dev $IF_LAP
  zinns $NS_LAP ip addr add $ZOO_LAP2/24 dev $IF_LAP2
  zinns $NS_TGT ip addr add $ZOO_TGT/24 dev $IF_TGT
  for pair in $NS_CTL:$IF_CTL $NS_MID:$IF_M1 $NS_MID:$IF_M2 $NS_LAP:$IF_LAP $NS_LAP:$IF_LAP2 $NS_TGT:$IF_TGT; do
    zinns "${pair%%:*}" ethtool -K "${pair#*:}" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    zinns "${pair%%:*}" ip link set "${pair#*:}" up
  done
  zinns $NS_TGT ip route add default via $ZOO_LAP2
  zinns $NS_CTL ip route add 10.210.1.0/24 via $ZOO_LAP
  zinns $NS_LAP sysctl -qw net.ipv4.ip_forward=1
  znetdelay
  zbg zinns $NS_MID "$ZOO_CACHE/netdelay" -a $IF_M1 -b $IF_M2 -delay 90ms -jitter 5ms
  zwait_cmd 100 zinns $NS_CTL ping -c1 -W1 $ZOO_LAP
}

# znetdelay builds tools/netdelay into $ZOO_CACHE when it is missing or
# older than its source (zoos running side by side take turns).
znetdelay() {
  (
    flock 9
    if [ ! -x "$ZOO_CACHE/netdelay" ] || [ "$ZOO_REPO/tools/netdelay/main.go" -nt "$ZOO_CACHE/netdelay" ]; then
      cd "$ZOO_REPO" && go build -o "$ZOO_CACHE/netdelay.tmp" ./tools/netdelay && mv "$ZOO_CACHE/netdelay.tmp" "$ZOO_CACHE/netdelay"
    fi
  ) 9>"$ZOO_CACHE/.netdelay.lock"
}

# zoo_pids: every process zbg started and every process inside the
# scenario's namespaces (zbg records the subshell that runs `ip netns exec`,
# and a namespace also holds the children daemons fork).
zoo_pids() {
  local ns
  [ -f "$ZOO_STATE/pids" ] && cat "$ZOO_STATE/pids"
  for ns in "${ZOO_NS[@]}"; do ip netns pids "$ns" 2>/dev/null; done
  return 0
}

# zoo_down_ns ends every process inside the namespaces and deletes them.
zoo_down_ns() {
  local ns
  for ns in "${ZOO_NS[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

# zoo_down ends everything zbg started, then the namespaces, in order:
# - SIGTERM to everything but the X servers, and up to 3 s to go: a program
#   killed outright leaves its System V shared memory behind (x11vnc: 27
#   segments), and once the machine's 4096 are used up every X client that
#   asks for MIT-SHM fails;
# - then the X servers (an X client whose display vanishes first exits
#   without freeing its segments);
# - SIGKILL for whatever is still there;
# - last, the segments those programs created and left behind are removed
#   (zshm_sweep): even stopped in that order, xpra's server exits without
#   freeing its 2 in about one stop in six.
zoo_down() {
  local pids clients="" all p
  pids=$(zoo_pids | sort -u | tr '\n' ' ')
  all=$pids
  if [ -n "$pids" ]; then
    for p in $pids; do
      case "$(cat "/proc/$p/comm" 2>/dev/null)" in
        X*) ;; # X servers go in the second round
        *) clients="$clients $p" ;;
      esac
    done
    # shellcheck disable=SC2086
    [ -n "$clients" ] && { kill $clients 2>/dev/null || true; }
    zwait_gone 15 "$clients"
    # Daemons may have forked more clients meanwhile.
    pids=$(zoo_pids | sort -u | tr '\n' ' ')
    all="$all $pids"
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    zwait_gone 15 "$pids"
    pids=$(zoo_pids | sort -u | tr '\n' ' ')
    all="$all $pids"
    # shellcheck disable=SC2086
    [ -n "$pids" ] && { kill -9 $pids 2>/dev/null || true; }
    # SIGKILL is asynchronous: wait until they are gone (≤ 2 s).
    zwait_gone 10 "$pids"
  fi
  rm -f "$ZOO_STATE/pids"
  zoo_down_ns
  zshm_sweep "$all"
  rm -rf "/opt/zoo-$ZOO_PREFIX"
}

# zshm_sweep "PID…": remove the System V shared memory segments that one of
# PIDs created, that nobody has attached and whose creator is gone (what a
# program that exited without cleaning up left behind; nothing of another
# program's), and log how many.
zshm_sweep() {
  local pids=" $1 " id cpid nattch n=0
  [ -r /proc/sysvipc/shm ] || return 0
  while read -r id cpid nattch; do
    case "$pids" in *" $cpid "*) ;; *) continue ;; esac
    [ "$nattch" = 0 ] || continue
    kill -0 "$cpid" 2>/dev/null && continue
    ipcrm -m "$id" 2>/dev/null && n=$((n + 1))
  done < <(awk 'NR > 1 { print $2, $5, $7 }' /proc/sysvipc/shm)
  if [ "$n" -gt 0 ]; then
    echo "zoo: removed $n System V shared memory segment(s) left by the scenario's programs" >>"$ZOO_STATE/log"
  fi
  return 0
}

# zwait_gone N "PID…": wait up to N × 0.2 s until none of the pids runs.
zwait_gone() {
  local n=$1 p alive
  for _ in $(seq "$n"); do
    alive=0
    for p in $2; do kill -0 "$p" 2>/dev/null && { alive=1; break; }; done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  return 0
}

# zxvfb N: an X display :N (800x600) for servers and viewers.
# - -noreset: the server does not reset when its last client (the check
#   below) leaves, so the client started next meets it as checked.
# - A server of an earlier scenario on :N that is still exiting would
#   unlink the new server's socket as it goes, so it is waited for first;
#   any X server on :N counts (also xpra's, whose command line puts the
#   display last).
# - The display is up when an X client can talk to it and the server
#   started here still runs (not when its socket exists); otherwise it is
#   started again, up to 3 times.
zxvfb() {
  local try pid
  for try in 1 2 3; do
    zwait_cmd 50 bash -c "! pgrep -f 'Xvf[b].* :$1( |\$)' >/dev/null"
    rm -f "/tmp/.X11-unix/X$1" "/tmp/.X$1-lock"
    Xvfb ":$1" -screen 0 800x600x24 -nolisten tcp -noreset >>"$ZOO_STATE/log" 2>&1 &
    pid=$!
    echo "$pid" >>"$ZOO_STATE/pids"
    if zwait_cmd 100 env DISPLAY=":$1" xdotool getdisplaygeometry && kill -0 "$pid" 2>/dev/null; then
      return 0
    fi
    zlog "Xvfb :$1 (try $try) is not serving the display; starting it again"
    kill -9 "$pid" 2>/dev/null || true
  done
  return 1
}

# ztype DISPLAY TEXT [END]: type TEXT into the focused window at a human
# pace (200–400 ms between keys), stopping early once $SECONDS reaches END.
ztype() {
  local d=$1 text=$2 end=${3:-} i
  for ((i = 0; i < ${#text}; i++)); do
    [ -n "$end" ] && [ $SECONDS -ge "$end" ] && return 0
    DISPLAY=:$d xdotool type --delay 0 -- "${text:i:1}" 2>/dev/null || true
    sleep 0.$((RANDOM % 3 + 2))
  done
}

# zdrive DISPLAY SECONDS: a person at the controls of a viewer window on
# DISPLAY for SECONDS: clicks, typed commands and mouse moves, at a human
# pace; it stops when the time is up, even mid-command. The viewer must be
# focused (zfocus).
zdrive() {
  local d=$1 end=$((SECONDS + $2)) x
  while [ $SECONDS -lt $end ]; do
    ztype "$d" "echo remote $RANDOM" $end
    DISPLAY=:$d xdotool key Return 2>/dev/null || true
    for x in 120 200 280 360 440; do
      [ $SECONDS -lt $end ] || return 0
      DISPLAY=:$d xdotool mousemove $x $((150 + RANDOM % 200)) 2>/dev/null || true; sleep 0.$((RANDOM % 3 + 1))
    done
    [ $SECONDS -lt $end ] || return 0
    sleep 0.$((RANDOM % 5 + 5))
  done
}

# zfocus DISPLAY CLASS: focus the first window of CLASS on DISPLAY and
# click into it.
zfocus() {
  DISPLAY=:$1 timeout 10 xdotool search --sync --limit 1 --class "$2" windowactivate --sync 2>/dev/null ||
    DISPLAY=:$1 timeout 5 xdotool search --limit 1 --class "$2" windowfocus 2>/dev/null || true
  DISPLAY=:$1 xdotool mousemove 300 200 click 1 2>/dev/null || true
}

# zxterm DISPLAY: an xterm on DISPLAY, so typed keys change the screen.
zxterm() { DISPLAY=:$1 zbg xterm -geometry 70x20+0+0; sleep 0.5; }

# zsshd NS PORT: an sshd in NS on PORT with a key in $ZOO_STATE/ssh
# (root login by key only). zsshopts gives the client's options.
zsshd() {
  local ns=$1 port=$2 d="$ZOO_STATE/ssh"
  mkdir -p /run/sshd "$d"
  [ -f "$d/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
  [ -f "$d/userkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/userkey"
  cp "$d/userkey.pub" "$d/authorized_keys"
  cat >"$d/sshd_config.$ns.$port" <<CFG
Port $port
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
StrictModes no
UsePAM no
PidFile $d/sshd.$ns.$port.pid
AllowTcpForwarding yes
GatewayPorts no
CFG
  zbg zinns "$ns" /usr/sbin/sshd -D -e -f "$d/sshd_config.$ns.$port"
}
zsshopts() { echo "-i $ZOO_STATE/ssh/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"; }

# zcapture_start FILE IFACE [NS]: record IFACE in NS (default $NS_LAP) to FILE.
zcapture_start() {
  zinns "${3:-$NS_LAP}" tcpdump -U -n -i "$2" -s "${ZOO_SNAP:-0}" -w "$1" >>"$ZOO_STATE/log" 2>&1 &
  echo $! >"$ZOO_STATE/capture.pid"
  zwait_cmd 50 test -s "$1"
}
zcapture_stop() {
  [ -f "$ZOO_STATE/capture.pid" ] || return 0
  sleep 0.5
  kill -TERM "$(cat "$ZOO_STATE/capture.pid")" 2>/dev/null || true
  while kill -0 "$(cat "$ZOO_STATE/capture.pid")" 2>/dev/null; do sleep 0.1; done
  rm -f "$ZOO_STATE/capture.pid"
}

# zapt PACKAGE...: install the Debian packages that are missing (as root),
# saying which; nothing when all are installed.
zapt() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  zlog "installing Debian packages: ${missing[*]}"
  if [ ! -f "$ZOO_CACHE/.apt-updated" ]; then apt-get update -qq >/dev/null && touch "$ZOO_CACHE/.apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# znpm DIR PACKAGE@VERSION...: install npm packages into $ZOO_CACHE/DIR once.
znpm() {
  local d="$ZOO_CACHE/$1"; shift
  [ -f "$d/.done-$(echo "$*" | tr ' /@' '_')" ] && return 0
  mkdir -p "$d"
  zlog "npm install into $d: $*"
  (cd "$d" && npm install --no-audit --no-fund --loglevel=error "$@" >/dev/null)
  touch "$d/.done-$(echo "$*" | tr ' /@' '_')"
}

# zgobuild NAME MODULE/PKG@VERSION: build a Go tool from the module proxy
# into $ZOO_CACHE/bin/NAME once (GOFLAGS from the caller apply).
zgobuild() {
  local name=$1 pkg=$2
  [ -x "$ZOO_CACHE/bin/$name" ] && return 0
  mkdir -p "$ZOO_CACHE/bin"
  zlog "go build $pkg → $ZOO_CACHE/bin/$name"
  GOBIN="$ZOO_CACHE/gobin-$name" go install "$pkg"
  mv "$ZOO_CACHE/gobin-$name"/* "$ZOO_CACHE/bin/$name"; rmdir "$ZOO_CACHE/gobin-$name"
}

# zbin PROGRAM: the executable a scenario runs for a tool on the laptop: its
# real path, or, with ZOO_RENAME=1, a copy renamed and moved out of the
# package's folders (/opt/zoo-$ZOO_PREFIX/<bland name>), as a farm hides a
# tool. farmwatch must still name it by content (markers, PE/Mach-O
# identity, Go build info), never by file name.
zbin() {
  local p
  p=$(command -v "$1" 2>/dev/null || echo "$1")
  if [ "${ZOO_RENAME:-0}" != 1 ]; then echo "$p"; return; fi
  local d="/opt/zoo-$ZOO_PREFIX" n
  n="syshelper-$(basename "$p" | md5sum | cut -c1-6)"
  mkdir -p "$d"
  cp -f "$p" "$d/$n" && chmod 755 "$d/$n"
  echo "$d/$n"
}

# zterm DISPLAY: a terminal filling the laptop's screen (so typed keys stay
# in it wherever the pointer goes). zwork DISPLAY SECONDS: a person at a
# viewer on DISPLAY works in that terminal: commands typed at a human pace
# whose output scrolls the screen, a pause to read, mouse moves; it stops
# when the time is up, even mid-command.
zterm() {
  local try
  for try in 1 2 3; do
    DISPLAY=:$1 zbg xterm -geometry 132x45+0+0
    zwait_cmd 50 env DISPLAY=:$1 xdotool search --class xterm && return 0
    # The terminal could not open the display (seen once in ~40 zoo runs,
    # right after the display answered): try again, bringing the display
    # back if it is gone.
    zlog "no xterm on :$1 (try $try)"
    env DISPLAY=:$1 xdotool getdisplaygeometry >/dev/null 2>&1 || zxvfb "$1" || return 1
  done
  return 1
}
zwork() {
  local d=$1 end=$((SECONDS + $2)) i=0 x
  local cmds=("ls -l /usr/bin | head -40" "df -h" "ps aux | head -30" "ls -la /etc | tail -35" "free -m" "head -40 /etc/services" "uname -a" "env | sort | head -30")
  while [ $SECONDS -lt $end ]; do
    ztype "$d" "${cmds[i % ${#cmds[@]}]}" $end; i=$((i + 1))
    DISPLAY=:$d xdotool key Return 2>/dev/null || true
    for x in 120 260 400 540; do
      [ $SECONDS -lt $end ] || return 0
      DISPLAY=:$d xdotool mousemove $x $((150 + RANDOM % 300)) 2>/dev/null || true; sleep 0.$((RANDOM % 3 + 1))
    done
    [ $SECONDS -lt $end ] || return 0
    sleep 1.$((RANDOM % 8))
  done
}

# zestab NS PORT: an established TCP connection with local or remote PORT in NS.
zestab() { zinns "$1" ss -Htn state established "( sport = :$2 or dport = :$2 )" | grep -q .; }
