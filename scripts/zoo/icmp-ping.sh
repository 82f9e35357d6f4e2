# Negative for the ICMP tunnel rule: ordinary pings from the laptop to the
# far side, iputils (default, -s 1200, -p pattern) and busybox, all with
# their own payload patterns and echoed replies.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt iputils-ping busybox; }
zoo_setup() { :; }
zoo_session() {
  local n=$((ZOO_SECS / 4))
  zinns $NS_LAP ping -c "$n" -i 0.5 $ZOO_CTL >/dev/null || true
  zinns $NS_LAP ping -c "$n" -i 0.5 -s 1200 $ZOO_CTL >/dev/null || true
  zinns $NS_LAP ping -c "$n" -i 0.5 -p 5aa5 $ZOO_CTL >/dev/null || true
  zinns $NS_LAP busybox ping -c "$n" -s 500 $ZOO_CTL >/dev/null || true
}
