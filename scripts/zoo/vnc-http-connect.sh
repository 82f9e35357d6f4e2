# The laptop's VNC server reaches a listening viewer through an HTTP proxy:
# x11vnc -connect … -proxy http://… sends `CONNECT viewer:443` to tinyproxy
# on the controller's side, then speaks RFB's server part inside the
# tunnel. The wire shows an outbound proxy connection from the laptop; the
# controlled side opened it.
zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer tinyproxy; }
zoo_setup() {
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zxterm $((ZOO_DISPLAY + 1))
  cat >"$ZOO_STATE/tinyproxy.conf" <<CFG
Port 3128
Listen $ZOO_CTL
Timeout 600
LogLevel Error
MaxClients 10
Allow $ZOO_LAP
ConnectPort 443
PidFile "$ZOO_STATE/tinyproxy.pid"
CFG
  zbg zinns $NS_CTL tinyproxy -d -c "$ZOO_STATE/tinyproxy.conf"
  # The viewer listens on 443 on the controller's loopback-side address.
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -listen 443 -SecurityTypes None
  zwait_port $NS_CTL $ZOO_CTL 3128
  zwait_port $NS_CTL $ZOO_CTL 443
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -connect 127.0.0.1:443 -proxy http://$ZOO_CTL:3128 -forever -shared -nopw -quiet
  # The session is up once tinyproxy holds the tunnel to the viewer.
  zwait_cmd 100 zestab $NS_CTL 443
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  zdrive $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
