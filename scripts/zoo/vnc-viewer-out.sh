# Roles swapped (must stay quiet): the person AT the laptop uses a VNC
# viewer to drive a machine far away. x11vnc serves the remote machine's
# screen (a terminal on it) in the controller's namespace; the laptop's
# xtigervncviewer connects OUT to it, and the person at the laptop types
# and moves the mouse in the viewer: input leaves the laptop, the far
# screen's updates come in. The laptop is the one driving, not driven.
zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer tcpdump ethtool iproute2; }
zoo_setup() {
  local far=$((ZOO_DISPLAY + 1))
  zxvfb $far; zxvfb $((ZOO_DISPLAY + 2))
  DISPLAY=:$far zbg xterm -geometry 100x35+0+0
  zwait_cmd 50 env DISPLAY=:$far xdotool search --class xterm
  zbg zinns $NS_CTL x11vnc -display :$far -rfbport 5900 -listen $ZOO_CTL -forever -shared -nopw -quiet
  zwait_port $NS_CTL $ZOO_CTL 5900
}
zoo_session() {
  local v=$((ZOO_DISPLAY + 2))
  DISPLAY=:$v zbg zinns $NS_LAP "$(zbin xtigervncviewer)" -SecurityTypes None $ZOO_CTL::5900
  zwait_cmd 150 env DISPLAY=:$v xdotool search --class "TigerVNC Viewer"
  zfocus $v "TigerVNC Viewer"
  zdrive $v "$ZOO_SECS"
}
