# A tinc 1.0 mesh VPN between the laptop and the controller: tincd on both
# (node names "farm" and "hq", RSA keys, the laptop's node ConnectTo the
# controller's on TCP/UDP 655), a tun device on each (10.99.0.2 laptop,
# 10.99.0.1 controller), and the controller's person typing in a shell on
# the laptop over the VPN. The wire shows the meta connection's plaintext ID
# lines ("0 farm 17") and then encrypted TCP and UDP on 655.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt tinc openssh-client openssh-server; }
vtinc_node() { # NAME NS VPNADDR PEER PEERADDR
  local d="$ZOO_STATE/tinc-$1"
  rm -rf "$d"; mkdir -p "$d/hosts"
  printf 'Name = %s\nDevice = /dev/net/tun\nInterface = %s\nAddressFamily = ipv4\n' "$1" "${ZOO_PREFIX}t$1" >"$d/tinc.conf"
  [ -n "$4" ] && echo "ConnectTo = $4" >>"$d/tinc.conf"
  printf 'Address = %s\nSubnet = %s/32\n' "$5" "$3" >"$d/hosts/$1"
  printf '#!/bin/sh\nip addr add %s/24 dev $INTERFACE\nip link set $INTERFACE up\n' "$3" >"$d/tinc-up"
  chmod +x "$d/tinc-up"
  tincd -c "$d" -K4096 </dev/null >>"$ZOO_STATE/log" 2>&1
}
zoo_setup() {
  vtinc_node hq $NS_CTL 10.99.0.1 "" $ZOO_CTL
  vtinc_node farm $NS_LAP 10.99.0.2 hq $ZOO_LAP
  cp "$ZOO_STATE/tinc-hq/hosts/hq" "$ZOO_STATE/tinc-farm/hosts/hq"
  cp "$ZOO_STATE/tinc-farm/hosts/farm" "$ZOO_STATE/tinc-hq/hosts/farm"
  zsshd $NS_LAP 22
  zbg zinns $NS_CTL tincd -c "$ZOO_STATE/tinc-hq" -D --pidfile="$ZOO_STATE/tinc-hq.pid"
  zwait_port $NS_CTL 0.0.0.0 655
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin tincd)" -c "$ZOO_STATE/tinc-farm" -D --pidfile="$ZOO_STATE/tinc-farm.pid"
  zwait_cmd 100 zinns $NS_CTL ping -c1 -W1 10.99.0.2
  vssh $NS_CTL 10.99.0.2 22 "$ZOO_SECS"
}
