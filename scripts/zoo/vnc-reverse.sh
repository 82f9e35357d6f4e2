# x11vnc on the laptop connects OUT to a TigerVNC viewer listening on the
# controller's side (`vncviewer -listen`, x11vnc -connect): the controlled
# host opened the connection and speaks RFB's server part as TCP client.
zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer tcpdump ethtool iproute2; }
zoo_setup() {
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zxterm $((ZOO_DISPLAY + 1))
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -listen 5500 -SecurityTypes None
  zwait_port $NS_CTL $ZOO_CTL 5500
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -connect $ZOO_CTL:5500 -forever -shared -nopw -quiet
  # The session is up once the viewer holds x11vnc's connection.
  zwait_cmd 100 zestab $NS_CTL 5500
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  zdrive $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
