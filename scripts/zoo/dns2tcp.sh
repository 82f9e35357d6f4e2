# dns2tcp, TCP over DNS: dns2tcpd abroad answers for a tunnel domain nobody
# lists (d.tunnel.lan) and forwards the resource "web" to an HTTPS site (the
# controller's 127.0.0.2:443); the laptop's dns2tcpc listens on its
# 127.0.0.1:443 and talks to the server directly on UDP 53 (as through a
# resolver), with TXT queries carrying base64 data. The laptop's person
# browses the site through it.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt dns2tcp curl openssl python3; }
zoo_setup() {
  local s="$ZOO_STATE/dns2tcp"
  rm -rf "$s"; mkdir -p "$s"
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  cat >"$s/server.conf" <<CONF
listen = $ZOO_CTL
port = 53
user = nobody
chroot = /tmp
domain = d.tunnel.lan
resources = web:127.0.0.2:443
CONF
  zbg zinns $NS_CTL dns2tcpd -F -f "$s/server.conf"
  zwait_cmd 100 sh -c "ip netns exec $NS_CTL ss -Hlun | grep -q ':53 '"
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin dns2tcpc)" -z d.tunnel.lan -r web -l 443 $ZOO_CTL
  zwait_port $NS_LAP 127.0.0.1 443
  zbrowse "$ZOO_SECS" --resolve www.example.org:443:127.0.0.1
}
