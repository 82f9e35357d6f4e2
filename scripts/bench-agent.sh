#!/usr/bin/env bash
# Measures the running agent's idle footprint: starts `farmwatch-agent run`
# with the default configuration for DURATION seconds and reports peak and
# final RSS and average CPU (% of one core) from /proc. Linux only.
set -euo pipefail
bin=${1:-bin/farmwatch-agent}
duration=${DURATION:-180}
cfg=$(mktemp -d)/farmwatch.yaml
cp packaging/farmwatch.yaml "$cfg"
"$bin" run --config "$cfg" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
hz=$(getconf CLK_TCK)
sleep 5 # start-up scan is not idle
read -r t0 < <(awk '{print $14+$15}' /proc/$pid/stat)
s0=$(date +%s.%N)
peak=0
end=$((SECONDS + duration))
while [ $SECONDS -lt $end ]; do
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 1
done
read -r t1 < <(awk '{print $14+$15}' /proc/$pid/stat)
s1=$(date +%s.%N)
rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN {printf "%.3f", 100*(b-a)/hz/(s1-s0)}')
echo "bench-agent: ${duration}s idle with packaging/farmwatch.yaml"
echo "  rss_final_mib=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k/1024}') rss_peak_mib=$(awk -v k="$peak" 'BEGIN {printf "%.1f", k/1024}') cpu_percent_of_one_core=$cpu"
echo "  targets: rss <= 25 MiB, cpu <= 0.5 %"
