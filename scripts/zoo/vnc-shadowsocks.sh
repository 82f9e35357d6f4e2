# A circumvention proxy in front of the laptop's VNC: shadowsocks-libev's
# ss-server runs on the laptop (port 8388, chacha20-ietf-poly1305) and the
# controller runs ss-tunnel, a local port forward 127.0.0.1:5900 → (through
# the shadowsocks server) → the laptop's 127.0.0.1:5900, where x11vnc
# listens on loopback only; the controller's viewer connects to its own
# 127.0.0.1:5900. Shadowsocks has no reverse mode, so here the connection
# is INBOUND: the controller's ss-tunnel opened it to the laptop's
# ss-server. The wire shows one shadowsocks (AEAD, no plaintext header)
# TCP flow 10.210.0.1 → 10.210.0.2:8388 carrying the screen out and the
# input in.


zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer shadowsocks-libev; }
zoo_setup() {
  local pw
  pw=$(head -c 18 /dev/urandom | base64)
  echo "$pw" >"$ZOO_STATE/ss-password"
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -localhost -rfbport 5900 -forever -shared -nopw -quiet
  zbg zinns $NS_LAP "$(zbin ss-server)" -s 0.0.0.0 -p 8388 -k "$pw" -m chacha20-ietf-poly1305 -u
  zbg zinns $NS_CTL ss-tunnel -s $ZOO_LAP -p 8388 -k "$pw" -m chacha20-ietf-poly1305 -b 127.0.0.1 -l 5900 -L 127.0.0.1:5900
  zwait_port $NS_LAP 127.0.0.1 5900
  zwait_port $NS_LAP $ZOO_LAP 8388
  zwait_port $NS_CTL 127.0.0.1 5900
}
zoo_session() {
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -SecurityTypes None 127.0.0.1::5900
  # The session is up once ss-server holds a connection to x11vnc.
  zwait_cmd 100 zestab $NS_LAP 5900
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  zwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
