# xray-core's reverse proxy: the laptop runs the "bridge", which dials OUT
# to the "portal" on the controller's side over VLESS inside WebSocket over
# TLS (port 443, path /ws, a self-signed certificate pinned by its SHA-256
# on the bridge). The portal exposes what the bridge routes to — the
# laptop's x11vnc on its loopback — as 127.0.0.1:5900 in the controller's
# namespace, where the controller's viewer connects. The wire shows the
# laptop's outbound TLS connection(s) to 10.210.0.1:443 carrying the screen
# out (mux frames inside VLESS inside WebSocket) and the input in. The
# bridge is started at the start of the session, so that a capture holds
# its TLS handshake.


zoo_install() {
  zapt x11vnc xvfb xterm xdotool tigervnc-viewer openssl
  zgobuild xray github.com/xtls/xray-core/main@v1.260327.0
}
zoo_setup() {
  local x="$ZOO_STATE/xray" id pin
  mkdir -p "$x"
  id=$(cat /proc/sys/kernel/random/uuid)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=portal.example -addext subjectAltName=DNS:portal.example \
    -keyout "$x/portal.key" -out "$x/portal.crt" 2>/dev/null
  pin=$(openssl x509 -in "$x/portal.crt" -noout -fingerprint -sha256 | cut -d= -f2)
  local stream='"network": "ws", "wsSettings": {"path": "/ws"}, "security": "tls"'
  rm -f "$x/portal-access.log"
  cat >"$x/portal.json" <<JSON
{
  "log": {"loglevel": "warning", "access": "$x/portal-access.log"},
  "reverse": {"portals": [{"tag": "portal", "domain": "reverse.portal.example"}]},
  "inbounds": [
    {"tag": "vnc", "listen": "127.0.0.1", "port": 5900, "protocol": "dokodemo-door",
     "settings": {"address": "127.0.0.1", "port": 5900, "network": "tcp"}},
    {"tag": "interconn", "listen": "$ZOO_CTL", "port": 443, "protocol": "vless",
     "settings": {"clients": [{"id": "$id"}], "decryption": "none"},
     "streamSettings": {$stream, "tlsSettings": {"certificates": [{"certificateFile": "$x/portal.crt", "keyFile": "$x/portal.key"}]}}}
  ],
  "routing": {"rules": [
    {"type": "field", "inboundTag": ["vnc"], "outboundTag": "portal"},
    {"type": "field", "inboundTag": ["interconn"], "outboundTag": "portal"}
  ]}
}
JSON
  cat >"$x/bridge.json" <<JSON
{
  "log": {"loglevel": "warning"},
  "reverse": {"bridges": [{"tag": "bridge", "domain": "reverse.portal.example"}]},
  "outbounds": [
    {"tag": "screen", "protocol": "freedom", "settings": {"redirect": "127.0.0.1:5900"}},
    {"tag": "interconn", "protocol": "vless",
     "settings": {"vnext": [{"address": "$ZOO_CTL", "port": 443, "users": [{"id": "$id", "encryption": "none"}]}]},
     "streamSettings": {$stream, "tlsSettings": {"serverName": "portal.example", "pinnedPeerCertSha256": "$pin"}}}
  ],
  "routing": {"rules": [
    {"type": "field", "inboundTag": ["bridge"], "domain": ["full:reverse.portal.example"], "outboundTag": "interconn"},
    {"type": "field", "inboundTag": ["bridge"], "outboundTag": "screen"}
  ]}
}
JSON
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -localhost -rfbport 5900 -forever -shared -nopw -quiet
  zbg zinns $NS_CTL "$ZOO_CACHE/bin/xray" run -c "$x/portal.json"
  zwait_port $NS_LAP 127.0.0.1 5900
  zwait_port $NS_CTL $ZOO_CTL 443
  zwait_port $NS_CTL 127.0.0.1 5900
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin "$ZOO_CACHE/bin/xray")" run -c "$ZOO_STATE/xray/bridge.json"
  # The bridge has registered once the portal logged its connection.
  zwait_cmd 100 grep -q "reverse.portal.example.*interconn -> portal" "$ZOO_STATE/xray/portal-access.log"
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -SecurityTypes None 127.0.0.1::5900
  # The session is up once the bridge holds a connection to x11vnc.
  zwait_cmd 100 zestab $NS_LAP 5900
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  zwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
