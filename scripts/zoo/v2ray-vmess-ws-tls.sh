# V2Ray (Debian's v2ray) VMess inside WebSocket inside TLS on TCP 443: the
# laptop's v2ray client (SOCKS5 127.0.0.1:1080) carries the person's HTTPS
# browsing to a v2ray server abroad, which opens the site (www.example.org
# on the controller's 127.0.0.2:443). No mux: one outer TLS connection per
# fetch, whose first records after the outer handshake and the WebSocket
# upgrade carry the inner TLS handshake.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt v2ray curl openssl python3; }
zoo_setup() {
  local s="$ZOO_STATE/v2ray" id
  rm -rf "$s"; mkdir -p "$s"
  id=$(cat /proc/sys/kernel/random/uuid)
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=static.example.net" \
    -keyout "$s/key.pem" -out "$s/cert.pem" 2>/dev/null
  cat >"$s/server.json" <<JSON
{"log": {"loglevel": "warning"},
 "inbounds": [{"listen": "$ZOO_CTL", "port": 443, "protocol": "vmess",
   "settings": {"clients": [{"id": "$id", "alterId": 0}]},
   "streamSettings": {"network": "ws", "wsSettings": {"path": "/assets"}, "security": "tls",
     "tlsSettings": {"certificates": [{"certificateFile": "$s/cert.pem", "keyFile": "$s/key.pem"}]}}}],
 "outbounds": [{"protocol": "freedom"}]}
JSON
  cat >"$s/client.json" <<JSON
{"log": {"loglevel": "warning"},
 "inbounds": [{"listen": "127.0.0.1", "port": 1080, "protocol": "socks", "settings": {"udp": false}}],
 "outbounds": [{"protocol": "vmess",
   "settings": {"vnext": [{"address": "$ZOO_CTL", "port": 443, "users": [{"id": "$id", "alterId": 0, "security": "aes-128-gcm"}]}]},
   "streamSettings": {"network": "ws", "wsSettings": {"path": "/assets"}, "security": "tls",
     "tlsSettings": {"serverName": "static.example.net", "allowInsecure": true}}}]}
JSON
  zbg zinns $NS_CTL v2ray -config "$s/server.json"
  zbg zinns $NS_LAP "$(zbin v2ray)" -config "$s/client.json"
  zwait_port $NS_CTL $ZOO_CTL 443
  zwait_port $NS_LAP 127.0.0.1 1080
}
zoo_session() {
  zbrowse "$ZOO_SECS" --socks5 127.0.0.1:1080 --resolve www.example.org:443:127.0.0.2
}
