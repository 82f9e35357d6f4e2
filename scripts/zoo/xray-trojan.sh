# Trojan (xray-core's implementation) on TCP 443: the laptop's xray client
# (SOCKS5 127.0.0.1:1080) carries the person's HTTPS browsing inside a TLS
# session to an xray Trojan server abroad, which opens the site
# (www.example.org on the controller's 127.0.0.2:443). Trojan is built to
# look like an HTTPS server; no mux: one outer TLS session per fetch.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() {
  zapt curl openssl python3
  zgobuild xray github.com/xtls/xray-core/main@v1.260327.0
}
zoo_setup() {
  local s="$ZOO_STATE/trojan" pw
  rm -rf "$s"; mkdir -p "$s"
  pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=shop.example.com" \
    -addext subjectAltName=DNS:shop.example.com -keyout "$s/key.pem" -out "$s/cert.pem" 2>/dev/null
  cat >"$s/server.json" <<JSON
{"log": {"loglevel": "warning"},
 "inbounds": [{"listen": "$ZOO_CTL", "port": 443, "protocol": "trojan",
   "settings": {"clients": [{"password": "$pw"}]},
   "streamSettings": {"network": "tcp", "security": "tls",
     "tlsSettings": {"certificates": [{"certificateFile": "$s/cert.pem", "keyFile": "$s/key.pem"}]}}}],
 "outbounds": [{"protocol": "freedom"}]}
JSON
  cat >"$s/client.json" <<JSON
{"log": {"loglevel": "warning"},
 "inbounds": [{"listen": "127.0.0.1", "port": 1080, "protocol": "socks", "settings": {"udp": false}}],
 "outbounds": [{"protocol": "trojan",
   "settings": {"servers": [{"address": "$ZOO_CTL", "port": 443, "password": "$pw"}]},
   "streamSettings": {"network": "tcp", "security": "tls",
     "tlsSettings": {"serverName": "shop.example.com", "pinnedPeerCertSha256": "$(openssl x509 -in "$s/cert.pem" -outform der | sha256sum | cut -d' ' -f1)"}}}]}
JSON
  zbg zinns $NS_CTL "$(zbin "$ZOO_CACHE/bin/xray")" run -c "$s/server.json"
  zbg zinns $NS_LAP "$(zbin "$ZOO_CACHE/bin/xray")" run -c "$s/client.json"
  zwait_port $NS_CTL $ZOO_CTL 443
  zwait_port $NS_LAP 127.0.0.1 1080
}
zoo_session() {
  zbrowse "$ZOO_SECS" --socks5 127.0.0.1:1080 --resolve www.example.org:443:127.0.0.2
}
