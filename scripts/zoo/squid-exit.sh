# The laptop as an HTTP proxy exit for someone abroad: squid on the laptop
# (10.210.0.2:3128, no cache, every client allowed), the controller's curl
# browses a web site on the laptop's neighbour (10.210.1.2:8000) through it,
# by forward proxying (GET http://10.210.1.2:8000/… in absolute form, no
# CONNECT) and through CONNECT tunnels (curl -p), HTTP/1.1 and HTTP/1.0.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt squid curl python3; }
zoo_setup() {
  vweb $NS_TGT $ZOO_TGT 8000
  cat >"$ZOO_STATE/squid.conf" <<CFG
http_port $ZOO_LAP:3128
http_access allow all
cache deny all
access_log none
cache_log $ZOO_STATE/squid-cache.log
pid_filename $ZOO_STATE/squid.pid
coredump_dir $ZOO_STATE
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
CFG
  chown proxy "$ZOO_STATE" 2>/dev/null || true
  zbg zinns $NS_LAP "$(zbin squid)" -N -f "$ZOO_STATE/squid.conf"
  zwait_port $NS_LAP $ZOO_LAP 3128
}
zoo_session() {
  local t=$((ZOO_SECS / 3))
  vbrowse $t zinns $NS_CTL curl -x http://$ZOO_LAP:3128 http://$ZOO_TGT:8000/
  vbrowse $t zinns $NS_CTL curl -p -x http://$ZOO_LAP:3128 http://$ZOO_TGT:8000/
  vbrowse $t zinns $NS_CTL curl --proxy1.0 $ZOO_LAP:3128 http://$ZOO_TGT:8000/
}
