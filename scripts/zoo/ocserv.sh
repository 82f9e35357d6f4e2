# An SSL VPN in the AnyConnect protocol: ocserv (OpenConnect server) on the
# controller's side (TCP and UDP 443, a self-signed certificate, password
# login), openconnect on the laptop logs in over TLS, gets 192.168.79.x and
# moves the tunnel to DTLS on UDP 443; the laptop then browses a web site
# on the far side of the VPN (192.168.79.1:8000). Everything after the TLS
# handshakes is encrypted: the CONNECT /CSCOSSLC/tunnel opening is not
# visible; what shows is DTLS on UDP 443 beside TLS on TCP 443 to the same
# server.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt ocserv openconnect vpnc-scripts openssl python3 curl; }
zoo_setup() {
  local d="$ZOO_STATE/ocserv"
  mkdir -p "$d"
  [ -f "$d/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=vpn.hq.example" \
    -keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1
  printf 'farmpass\nfarmpass\n' | ocpasswd -c "$d/passwd" farm
  cat >"$d/ocserv.conf" <<CFG
auth = "plain[passwd=$d/passwd]"
listen-host = $ZOO_CTL
tcp-port = 443
udp-port = 443
run-as-user = nobody
run-as-group = nogroup
socket-file = $d/ocserv.sock
server-cert = $d/cert.pem
server-key = $d/key.pem
isolate-workers = false
max-clients = 4
max-same-clients = 4
keepalive = 30
dpd = 60
mobile-dpd = 60
try-mtu-discovery = false
cert-user-oid = 0.9.2342.19200300.100.1.1
tls-priorities = "NORMAL:%SERVER_PRECEDENCE"
auth-timeout = 240
pid-file = $d/ocserv.pid
device = ${ZOO_PREFIX}vpns
ipv4-network = 192.168.79.0
ipv4-netmask = 255.255.255.0
route = 192.168.79.0/255.255.255.0
predictable-ips = true
cisco-client-compat = true
dtls-legacy = true
CFG
  zbg zinns $NS_CTL ocserv -f -c "$d/ocserv.conf"
  zwait_port $NS_CTL $ZOO_CTL 443
  mkdir -p "$ZOO_STATE/www"
  vweb $NS_CTL 0.0.0.0 8000
}
zoo_session() {
  local pin
  pin=$(openssl x509 -in "$ZOO_STATE/ocserv/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
  echo farmpass | zbg zinns $NS_LAP "$(zbin openconnect)" --user=farm --passwd-on-stdin --non-inter \
    --servercert "pin-sha256:$pin" --interface "${ZOO_PREFIX}tun0" https://$ZOO_CTL/
  zwait_cmd 100 zinns $NS_LAP ping -c1 -W1 192.168.79.1
  vbrowse "$ZOO_SECS" zinns $NS_LAP curl http://192.168.79.1:8000/
}
