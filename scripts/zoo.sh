#!/usr/bin/env bash
# The real-software zoo: remote-control, tunnel and VPN tools installed from
# the registries and run for real in network namespaces (scripts/zoo/lib.sh),
# with the controller 180 ms away from the laptop.
#
# Each scenario is scripts/zoo/<name>.sh and defines:
#   zoo_install   install what it needs once (apt, npm, go build into $ZOO_CACHE)
#   zoo_setup     start servers, agents and tunnels (everything but the person)
#   zoo_session   the person at the controls for about $ZOO_SECS seconds (blocks)
# and may set ZOO_IFACE/ZOO_IFACE_NS (what to capture; default $IF_LAP in $NS_LAP)
# and ZOO_SNAP (the recording's snap length; default 0, whole packets).
#
# Usage:
#   scripts/zoo.sh list
#   scripts/zoo.sh install NAME...
#   scripts/zoo.sh up NAME            net + install + setup, left running
#                                     (ZOO_INSTALLED=1: install ran already)
#   scripts/zoo.sh session NAME       the session (after up)
#   scripts/zoo.sh down               end everything
#   scripts/zoo.sh record OUTDIR NAME...   up, capture + session, down:
#                                     OUTDIR/zoo-NAME.pcap
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=zoo/lib.sh
. "$here/zoo/lib.sh"
: "${ZOO_SECS:=40}"

load() {
  local f="$here/zoo/$1.sh"
  [ -f "$f" ] || { zlog "no scenario $1 ($f)"; exit 2; }
  ZOO_IFACE=$IF_LAP ZOO_IFACE_NS=$NS_LAP ZOO_SNAP=0
  unset -f zoo_install zoo_setup zoo_session 2>/dev/null || true
  # shellcheck source=/dev/null
  . "$f"
}

cmd=${1:-}; shift || true
case "$cmd" in
list) for f in "$here"/zoo/*.sh; do n=$(basename "$f" .sh); [ "$n" = lib ] || echo "$n"; done ;;
install) znetdelay; for n in "$@"; do load "$n"; zoo_install; done ;;
up) load "$1"; [ "${ZOO_INSTALLED:-0}" = 1 ] || zoo_install; : >"$ZOO_STATE/log"; zoo_net; zoo_setup ;;
session) load "$1"; zoo_session ;;
down) zoo_down ;;
record)
  out=$(realpath -m "$1"); shift; mkdir -p "$out"
  for n in "$@"; do
    load "$n"; zoo_install; : >"$ZOO_STATE/log"
    trap zoo_down EXIT
    zoo_net; zoo_setup
    zcapture_start "$ZOO_STATE/$n.pcap" "$ZOO_IFACE" "$ZOO_IFACE_NS"
    zoo_session
    zcapture_stop
    cp "$ZOO_STATE/$n.pcap" "$out/zoo-$n.pcap"
    echo "recorded $out/zoo-$n.pcap ($(stat -c %s "$out/zoo-$n.pcap") bytes)"
    zoo_down; trap - EXIT
  done ;;
*) sed -n '2,22p' "$0"; exit 2 ;;
esac
