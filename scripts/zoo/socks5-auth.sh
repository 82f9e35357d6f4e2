# The laptop as a SOCKS5 exit with a login: microsocks on the laptop
# (10.210.0.2:1080, username/password sub-negotiation, RFC 1929); the
# controller's curl --socks5 logs in and browses a web site on the laptop's
# neighbour (10.210.1.2:8000) through it.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt microsocks curl python3; }
zoo_setup() {
  vweb $NS_TGT $ZOO_TGT 8000
  zbg zinns $NS_LAP "$(zbin microsocks)" -i $ZOO_LAP -p 1080 -u farm -P s3cret
  zwait_port $NS_LAP $ZOO_LAP 1080
}
zoo_session() {
  vbrowse "$ZOO_SECS" zinns $NS_CTL curl --socks5 farm:s3cret@$ZOO_LAP:1080 http://$ZOO_TGT:8000/
}
