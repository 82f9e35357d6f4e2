# The laptop exposes its own VNC server on the controller's side through a
# reverse SSH tunnel kept up by autossh: `autossh -M 0 -N -R 5900:…:5900`
# on the laptop dials OUT to an sshd in the controller's namespace; the
# controller's viewer connects to 127.0.0.1:5900 there and sshd forwards
# the session back down the tunnel to x11vnc (listening on the laptop's
# loopback only). The wire shows one outbound SSH connection from the
# laptop carrying the laptop's screen out and the controller's input in.
# The tunnel is opened at the start of the session so that a capture holds
# the SSH handshake.
zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer autossh openssh-client openssh-server; }
zoo_setup() {
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -localhost -rfbport 5900 -forever -shared -nopw -quiet
  zsshd $NS_CTL 22
  zwait_port $NS_LAP 127.0.0.1 5900
  zwait_port $NS_CTL $ZOO_CTL 22
}
zoo_session() {
  # shellcheck disable=SC2046
  AUTOSSH_PATH="$(zbin ssh)" AUTOSSH_GATETIME=0 zbg zinns $NS_LAP "$(zbin autossh)" -M 0 -N \
    -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o ExitOnForwardFailure=yes \
    $(zsshopts) -R 5900:127.0.0.1:5900 root@$ZOO_CTL
  zwait_port $NS_CTL 127.0.0.1 5900
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -SecurityTypes None 127.0.0.1::5900
  # The session is up once x11vnc holds the forwarded connection.
  zwait_cmd 100 zestab $NS_LAP 5900
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  zwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
