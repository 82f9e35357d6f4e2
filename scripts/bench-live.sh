#!/usr/bin/env bash
# bench-live: the live traffic engine's cost under real load. Two network
# namespaces joined by a veth pair: a "server" running iperf3 -s and a
# "laptop" whose default route goes through the server; the agent runs in
# the laptop namespace with packaging/farmwatch.yaml (all detectors),
# capturing the veth, while iperf3 downloads (-R) at fixed rates. Each phase
# starts a fresh agent, waits for its capture and start-up scan, measures
# the agent's own CPU time (/proc/<pid>/stat utime+stime) over the traffic,
# then stops it and reads the capture's counters from its capture_stopped
# log line. Linux, root, iperf3 and ethtool (Debian packages).
#
# Usage: scripts/bench-live.sh [agent-binary]   (DURATION=15 REPEAT=1 SETTLE=8 PHASES="idle tcp-1G ..."
#        KEEP_LOG=FILE keeps the last agent log)
# Phases: idle, TCP 200 Mbit/s, TCP 1 Gbit/s (offloads on: GRO/TSO
# super-frames), TCP 1 Gbit/s without offloads (1500-byte frames, as a QUIC
# download or video call looks), UDP 50 Mbit/s of 1200-byte datagrams;
# udp-500M (not in the default set): a QUIC-download-sized UDP flow.
set -euo pipefail
bin=$(realpath "${1:-bin/farmwatch-agent}")
duration=${DURATION:-15}
repeat=${REPEAT:-1}
p=${BENCH_PREFIX:-fwbl}
srv=${p}srv lap=${p}lap
work=$(mktemp -d)
for t in iperf3 ethtool ip; do command -v $t >/dev/null || { echo "bench-live: $t is missing (apt-get install iperf3 ethtool iproute2)" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "bench-live: needs root (network namespaces, packet capture)" >&2; exit 1; }

cleanup() {
  [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null || true
  [ -n "${ipid:-}" ] && kill "$ipid" 2>/dev/null || true
  ip netns del $srv 2>/dev/null || true
  ip netns del $lap 2>/dev/null || true
  [ -n "${KEEP_LOG:-}" ] && cp "$work/log" "$KEEP_LOG" 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
ip netns del $srv 2>/dev/null || true
ip netns del $lap 2>/dev/null || true
ip netns add $srv
ip netns add $lap
ip link add ${p}a netns $lap type veth peer name ${p}b netns $srv
ip -n $lap addr add 10.231.0.2/24 dev ${p}a
ip -n $srv addr add 10.231.0.1/24 dev ${p}b
for n in $lap $srv; do ip -n $n link set lo up; done
ip -n $lap link set ${p}a up
ip -n $srv link set ${p}b up
ip -n $lap route add default via 10.231.0.1
ip netns exec $srv iperf3 -s -D -B 10.231.0.1 --pidfile "$work/iperf.pid" >/dev/null
ipid=$(cat "$work/iperf.pid" 2>/dev/null || true)
for _ in $(seq 50); do ip netns exec $lap bash -c 'exec 3<>/dev/tcp/10.231.0.1/5201' 2>/dev/null && break; sleep 0.1; done

cfg=$work/farmwatch.yaml
sed -e "s/interfaces: \[\]/interfaces: [${p}a]/" packaging/farmwatch.yaml >"$cfg"
hz=$(getconf CLK_TCK)

offloads() { # on|off, both ends
  ip netns exec $lap ethtool -K ${p}a tso "$1" gso "$1" gro "$1" >/dev/null 2>&1 || true
  ip netns exec $srv ethtool -K ${p}b tso "$1" gso "$1" gro "$1" >/dev/null 2>&1 || true
}

# phase NAME OFFLOADS IPERF-ARGS...: one fresh agent, one measurement.
phase() {
  local name=$1 off=$2; shift 2
  offloads "$off"
  ip netns exec $lap "$bin" run --config "$cfg" >"$work/out.jsonl" 2>"$work/log" &
  apid=$!
  for _ in $(seq 300); do grep -q capture_started "$work/log" 2>/dev/null && break; sleep 0.1; done
  sleep "${SETTLE:-8}" # the start-up scan of every detector is not capture cost
  local t0 t1 u0 u1 s0 s1 rate="-"
  read -r t0 u0 < <(awk '{print $14+$15, $14}' /proc/$apid/stat)
  s0=$(date +%s.%N)
  if [ $# -gt 0 ]; then
    rate=$(ip netns exec $lap iperf3 -c 10.231.0.1 -R -t "$duration" -J "$@" 2>/dev/null |
      awk -F: '/"sum_received"/ {r=1} r && /"bits_per_second"/ {gsub(/[ ,]/,"",$2); printf "%.0f", $2/1e6; exit}')
    [ -n "$rate" ] || rate="?"
  else
    sleep "$duration"
  fi
  read -r t1 u1 < <(awk '{print $14+$15, $14}' /proc/$apid/stat)
  s1=$(date +%s.%N)
  local hwm
  hwm=$(awk '/^VmHWM/ {printf "%.1f", $2/1024}' /proc/$apid/status)
  kill -TERM $apid
  wait $apid 2>/dev/null || true
  apid=
  local cpu usr stats
  cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN {printf "%.2f", 100*(b-a)/hz/(s1-s0)}')
  usr=$(awk -v a="$u0" -v b="$u1" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN {printf "%.2f", 100*(b-a)/hz/(s1-s0)}')
  stats=$( (grep capture_stopped "$work/log" || true) | tail -1 |
    sed -n 's/.*"packets":\([0-9]*\).*"kernel_packets":\([0-9]*\).*"kernel_drops":\([0-9]*\).*"kernel_freezes":\([0-9]*\).*"pauses":\([0-9]*\).*/\1 \2 \3 \4 \5/p')
  [ -n "$stats" ] || stats="n/a n/a n/a n/a n/a"
  # The capture thread's own CPU time (its whole run, the idle start-up
  # adds next to nothing) over the traffic window: the least noisy number
  # on a shared machine.
  local thr
  thr=$( (grep capture_stopped "$work/log" || true) | tail -1 | sed -n 's/.*"thread_cpu_s":\([0-9.e+-]*\).*/\1/p')
  [ -n "$thr" ] && thr=$(awk -v c="$thr" -v a="$s0" -v b="$s1" 'BEGIN {printf "%.2f", 100*c/(b-a)}') || thr="n/a"
  # Flows handed to the kernel bypass (absent before it existed).
  local byp
  byp=$( (grep capture_stopped "$work/log" || true) | tail -1 | sed -n 's/.*"bypassed_flows":\([0-9]*\).*/\1/p')
  printf '%-22s %8s %10s %8s %8s %10s %10s %12s %10s %8s %8s %9s\n' "$name" "$rate" "$cpu" "$usr" "$thr" "$hwm" $stats "${byp:--}"
}

echo "bench-live: $bin, ${duration}s per phase, packaging/farmwatch.yaml (all detectors), capture on the laptop's veth"
printf '%-22s %8s %10s %8s %8s %10s %10s %12s %10s %8s %8s %9s\n' phase Mbit/s cpu%core user% thread% peakMiB seen kernel_pkts drops freezes pauses bypassed
phases=${PHASES:-idle tcp-200M tcp-1G tcp-1G-no-offload udp-50M}
for r in $(seq "$repeat"); do
  for ph in $phases; do
    case $ph in
    idle) phase idle on ;;
    tcp-200M) phase tcp-200M on -b 200M ;;
    tcp-1G) phase tcp-1G on -b 1G ;;
    tcp-1G-no-offload) phase tcp-1G-no-offload off -b 1G ;;
    udp-50M) phase udp-50M on -u -b 50M -l 1200 ;;
    udp-500M) phase udp-500M on -u -b 500M -l 1200 ;;
    *) echo "bench-live: unknown phase $ph" >&2; exit 2 ;;
    esac
  done
done
echo "targets: <=1 % of a core at 1 Gbit/s TCP, <=3 % at 1 Gbit/s of 1500-byte frames, peak RSS <=30 MiB, 0 drops at 1 Gbit/s TCP"
