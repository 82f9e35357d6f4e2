# TLS inside TLS: stunnel wraps the laptop's HTTPS browsing in a second TLS
# session to a stunnel server abroad on TCP 443, which hands it to the site
# (www.example.org on the controller's 127.0.0.2:443). The laptop's browser
# (curl) talks TLS to its local stunnel (127.0.0.1:443); the wire shows one
# outer TLS session per fetch whose first records after the outer handshake
# carry the inner TLS handshake.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt stunnel4 curl openssl python3; }
zoo_setup() {
  local s="$ZOO_STATE/stunnel"
  rm -rf "$s"; mkdir -p "$s"
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=cdn-edge.example.com" \
    -keyout "$s/key.pem" -out "$s/cert.pem" 2>/dev/null
  cat >"$s/server.conf" <<CONF
foreground = yes
pid =
[tunnel]
accept = $ZOO_CTL:443
connect = 127.0.0.2:443
cert = $s/cert.pem
key = $s/key.pem
CONF
  cat >"$s/client.conf" <<CONF
foreground = yes
pid =
[tunnel]
client = yes
accept = 127.0.0.1:443
connect = $ZOO_CTL:443
sni = cdn-edge.example.com
CONF
  zbg zinns $NS_CTL stunnel4 "$s/server.conf"
  zbg zinns $NS_LAP "$(zbin stunnel4)" "$s/client.conf"
  zwait_port $NS_CTL $ZOO_CTL 443
  zwait_port $NS_LAP 127.0.0.1 443
}
zoo_session() {
  zbrowse "$ZOO_SECS" --resolve www.example.org:443:127.0.0.1
}
