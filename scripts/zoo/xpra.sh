# xpra on the laptop serves a terminal (`xpra start` with its own Xvfb and
# an xterm in it, TCP listener on the laptop's address); the controller's
# `xpra attach tcp://…` connects IN from far away, shows the xterm as a
# window on its own screen and the person types into it: keys and pointer
# go to the laptop, window pixels (compressed updates) come back.
# Client and server share this machine: mmap (pixels through a shared file,
# only possible on one host) is turned off so that pixels cross the wire.
xpra_opts() {
  echo --mdns=no --pulseaudio=no --notifications=no --dbus-proxy=no --webcam=no \
    --speaker=off --microphone=off --bell=no --systemd-run=no --tray=no --opengl=no --mmap=no
}
# python3-gi-cairo: the client draws windows with it; lz4/PIL/numpy as xpra
# recommends (lz4 packet compression, picture encodings).
zoo_install() { zapt xpra python3-gi-cairo python3-lz4 python3-pil python3-numpy python3-xdg xvfb xterm xdotool tcpdump ethtool iproute2; }
zoo_setup() {
  local d=$((ZOO_DISPLAY + 1))
  rm -f "/tmp/.X11-unix/X$d" "/tmp/.X$d-lock"
  mkdir -p "$ZOO_STATE/xpra"
  # shellcheck disable=SC2046
  HOME="$ZOO_STATE/xpra" XDG_RUNTIME_DIR="$ZOO_STATE/xpra" zbg zinns $NS_LAP "$(zbin xpra)" start ":$d" --daemon=no \
    --bind-tcp=$ZOO_LAP:14500 --tcp-auth=none --html=off --dbus-launch= --dbus-control=no \
    --xvfb="Xvfb +extension Composite -screen 0 1280x800x24+32 -nolisten tcp -noreset" \
    --start="xterm -geometry 100x30+0+0" --socket-dirs="$ZOO_STATE/xpra" $(xpra_opts)
  zwait_port $NS_LAP $ZOO_LAP 14500 300
  zwait_cmd 100 env DISPLAY=:$d xdotool search --class xterm
}
zoo_session() {
  local v=$((ZOO_DISPLAY + 2))
  zxvfb $v
  mkdir -p "$ZOO_STATE/xpra-ctl"
  # shellcheck disable=SC2046
  DISPLAY=:$v HOME="$ZOO_STATE/xpra-ctl" XDG_RUNTIME_DIR="$ZOO_STATE/xpra-ctl" zbg zinns $NS_CTL xpra attach tcp://$ZOO_LAP:14500/ \
    --system-tray=no --socket-dirs="$ZOO_STATE/xpra-ctl" $(xpra_opts)
  zwait_cmd 150 env DISPLAY=:$v xdotool search --class xterm
  zfocus $v xterm
  zdrive $v "$ZOO_SECS"
}
