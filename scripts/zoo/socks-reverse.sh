# Reverse SOCKS: the laptop dials out and becomes a SOCKS5 exit for the far
# end. dante (danted) listens on the laptop's loopback only; socat on the
# laptop connects OUT to the controller (TCP 9000) and splices that
# connection to dante, again after each use; on the controller, socat joins
# each incoming laptop connection with a local listener (127.0.0.1:1080)
# that curl --socks5 uses to browse the laptop's neighbour
# (10.210.1.2:8000). On the wire the accepting side (the controller) sends
# the SOCKS5 greeting and request, the side that connected answers.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt dante-server socat curl python3; }
zoo_setup() {
  vweb $NS_TGT $ZOO_TGT 8000
  cat >"$ZOO_STATE/danted.conf" <<CFG
logoutput: $ZOO_STATE/danted.log
internal: 127.0.0.1 port = 1080
external: $ZOO_LAP2
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
CFG
  zbg zinns $NS_LAP "$(zbin danted)" -f "$ZOO_STATE/danted.conf" -p "$ZOO_STATE/danted.pid"
  zwait_port $NS_LAP 127.0.0.1 1080
  zbg zinns $NS_CTL sh -c "while :; do socat TCP-LISTEN:9000,bind=$ZOO_CTL,reuseaddr TCP-LISTEN:1080,bind=127.0.0.1,reuseaddr; done"
  zwait_port $NS_CTL $ZOO_CTL 9000
}
zoo_session() {
  zbg zinns $NS_LAP sh -c "while :; do socat TCP:$ZOO_CTL:9000,retry=100,interval=0.2 TCP:127.0.0.1:1080; sleep 0.2; done"
  zwait_port $NS_CTL 127.0.0.1 1080
  vbrowse "$ZOO_SECS" zinns $NS_CTL curl --socks5-hostname 127.0.0.1:1080 --retry 3 --retry-connrefused http://$ZOO_TGT:8000/
}
