# FreeRDP's shadow server on the laptop shares the laptop's live desktop
# (freerdp-shadow-cli on the X display with a terminal on it, listening on
# the laptop's 3389, NLA required: a local SAM file with the farm's account,
# written by winpr-hash). The controller's xfreerdp connects IN from far
# away with that account, types into the terminal and moves the mouse: the
# same screen the laptop shows is what the controller sees and drives.

# sterm DISPLAY: a terminal on the laptop's screen. (Commands with long
# output would scroll it: each scroll is a full-screen update of ~100 KB,
# too much for a small capture; the person types short commands.)
sterm() {
  DISPLAY=:$1 zbg xterm -geometry 100x36+0+0
  zwait_cmd 50 env DISPLAY=:$1 xdotool search --class xterm
}

zoo_install() { zapt freerdp2-shadow-x11 freerdp2-x11 winpr-utils xvfb xterm xdotool tcpdump ethtool iproute2; }
zoo_setup() {
  local d=$((ZOO_DISPLAY + 1)) s="$ZOO_STATE/rdp-shadow"
  mkdir -p "$s"
  winpr-hash -u farmuser -p 'Sup3r-s3cret' -f sam >"$s/SAM"
  zxvfb $d
  sterm $d
  # HOME: the server's generated certificate and key go under $s.
  DISPLAY=:$d HOME="$s" zbg zinns $NS_LAP "$(zbin freerdp-shadow-cli)" /port:3389 /bind-address:$ZOO_LAP \
    +auth /sec:nla /sam-file:"$s/SAM"
  zwait_port $NS_LAP $ZOO_LAP 3389
}
zoo_session() {
  local v=$((ZOO_DISPLAY + 2))
  zxvfb $v
  DISPLAY=:$v zbg zinns $NS_CTL xfreerdp /v:$ZOO_LAP:3389 /u:farmuser /p:'Sup3r-s3cret' /cert:ignore /size:800x600 /sec:nla
  zwait_cmd 150 env DISPLAY=:$v xdotool search --class xfreerdp
  zwait_cmd 150 zestab $NS_LAP 3389
  zfocus $v xfreerdp
  zdrive $v "$ZOO_SECS"
}
