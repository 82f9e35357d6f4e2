# The laptop's traffic leaves through a circumvention proxy, and a reverse
# VNC session rides it: shadowsocks-libev's ss-local runs on the laptop
# (SOCKS5 on 127.0.0.1:1080) with its server (ss-server, port 8388,
# chacha20-ietf-poly1305) on the controller's side; x11vnc on the laptop
# connects OUT to the controller's listening viewer through that SOCKS5
# proxy (`x11vnc -connect 127.0.0.1:5500 -proxy socks5://127.0.0.1:1080`).
# The wire shows one outbound shadowsocks (AEAD, no plaintext header) TCP
# flow 10.210.0.2 → 10.210.0.1:8388, opened by ss-local on the laptop,
# carrying the screen out and the input in. (vnc-shadowsocks is the inbound
# arrangement: ss-server on the laptop.)


zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer shadowsocks-libev; }
zoo_setup() {
  local pw
  pw=$(head -c 18 /dev/urandom | base64)
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_CTL ss-server -s $ZOO_CTL -p 8388 -k "$pw" -m chacha20-ietf-poly1305 -u
  zbg zinns $NS_LAP "$(zbin ss-local)" -s $ZOO_CTL -p 8388 -k "$pw" -m chacha20-ietf-poly1305 -b 127.0.0.1 -l 1080
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -listen 5500 -SecurityTypes None
  zwait_port $NS_CTL $ZOO_CTL 8388
  zwait_port $NS_LAP 127.0.0.1 1080
  zwait_port $NS_CTL 127.0.0.1 5500
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -connect 127.0.0.1:5500 -proxy socks5://127.0.0.1:1080 -forever -shared -nopw -quiet
  # The session is up once ss-server holds the connection to the viewer.
  zwait_cmd 100 zestab $NS_CTL 5500
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  zwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
