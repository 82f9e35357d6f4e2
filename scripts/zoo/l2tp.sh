# An L2TP VPN from the laptop to a server abroad, as far as this machine
# allows: xl2tpd on both sides (LNS on the controller, LAC on the laptop,
# UDP 1701, no IPsec). The kernel here has no L2TP and no PPP
# (CONFIG_L2TP and CONFIG_PPP unset), so xl2tpd runs its userspace mode and
# the tunnel's control connection (SCCRQ/SCCRP/SCCCN, HELLO, and the
# session set-up) is real, while the pppd it starts for the session cannot
# run, so no PPP traffic follows.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt xl2tpd; }
zoo_setup() {
  mkdir -p /var/run/xl2tpd
  cat >"$ZOO_STATE/lns.conf" <<CFG
[global]
listen-addr = $ZOO_CTL
port = 1701
[lns default]
ip range = 192.168.78.2-192.168.78.20
local ip = 192.168.78.1
require authentication = no
hostname = hq-lns
length bit = yes
CFG
  cat >"$ZOO_STATE/lac.conf" <<CFG
[global]
listen-addr = $ZOO_LAP
port = 1701
[lac hq]
lns = $ZOO_CTL
require authentication = no
hostname = farm-lac
length bit = yes
autodial = yes
redial = yes
redial timeout = 5
CFG
  zbg zinns $NS_CTL xl2tpd -D -c "$ZOO_STATE/lns.conf" -p "$ZOO_STATE/lns.pid" -C "$ZOO_STATE/lns.control"
  sleep 1
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin xl2tpd)" -D -c "$ZOO_STATE/lac.conf" -p "$ZOO_STATE/lac.pid" -C "$ZOO_STATE/lac.control"
  sleep "$ZOO_SECS"
}
