# The laptop exposes its RDP server (xrdp) on the controller's side through
# a reverse SSH tunnel kept up by autossh: `autossh -M 0 -N -R 3389:…:3389`
# on the laptop dials OUT to an sshd in the controller's namespace; the
# controller's xfreerdp connects to 127.0.0.1:3389 there and sshd forwards
# the session back down the tunnel to xrdp, which listens on the laptop's
# loopback only. xrdp serves the laptop's real desktop through its VNC
# back end (libvnc.so → x11vnc on the laptop's loopback, no sesman needed):
# the client's credentials are taken (autorun), so the person lands on the
# laptop's screen and works in its terminal. The wire shows one outbound
# SSH connection from the laptop carrying the screen out and input in.
# xrdp runs with a private /run/xrdp (bind mount inside `ip netns exec`'s
# own mount namespace) so that other zoos' xrdp do not collide with it.


zoo_install() { zapt xrdp freerdp2-x11 x11vnc xvfb xterm xdotool autossh openssh-client openssh-server; }
zoo_setup() {
  local x="$ZOO_STATE/xrdp"
  mkdir -p "$x/run"
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -localhost -rfbport 5901 -forever -shared -nopw -quiet
  # xrdp.ini: the stock [Globals] and [Channels], loopback only, one
  # session type (the laptop's own screen through x11vnc), autorun.
  {
    sed -n '/^\[Globals\]/,/^\[Logging\]/p' /etc/xrdp/xrdp.ini | sed '$d' |
      sed -e 's|^port=3389|port=tcp://.:3389|' -e 's|^autorun=.*|autorun=laptop|'
    printf '[Logging]\nLogFile=%s\nLogLevel=INFO\nEnableSyslog=false\n\n' "$x/xrdp.log"
    sed -n '/^\[Channels\]/,/^\[/p' /etc/xrdp/xrdp.ini | sed '$d'
    printf '[laptop]\nname=laptop\nlib=libvnc.so\nusername=na\npassword=na\nip=127.0.0.1\nport=5901\n'
  } >"$x/xrdp.ini"
  zbg zinns $NS_LAP sh -c "mount --bind '$x/run' /run/xrdp && exec '$(zbin xrdp)' --nodaemon -c '$x/xrdp.ini'"
  zsshd $NS_CTL 22
  zwait_port $NS_LAP 127.0.0.1 5901
  zwait_port $NS_LAP 127.0.0.1 3389
  zwait_port $NS_CTL $ZOO_CTL 22
}
zoo_session() {
  # shellcheck disable=SC2046
  AUTOSSH_PATH="$(zbin ssh)" AUTOSSH_GATETIME=0 zbg zinns $NS_LAP "$(zbin autossh)" -M 0 -N \
    -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o ExitOnForwardFailure=yes \
    $(zsshopts) -R 3389:127.0.0.1:3389 root@$ZOO_CTL
  zwait_port $NS_CTL 127.0.0.1 3389
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xfreerdp /v:127.0.0.1:3389 /u:farmuser /p:x /cert:ignore /size:800x600 /sec:tls
  # The session is up once xrdp has connected to the laptop's screen.
  zwait_cmd 150 zestab $NS_LAP 5901
  zfocus $((ZOO_DISPLAY + 2)) xfreerdp
  zwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
