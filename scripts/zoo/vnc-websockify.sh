# A browser-based remote-desktop gateway next to the laptop: websockify
# (serving noVNC) runs on the side host $NS_TGT and bridges WebSocket to
# the laptop's x11vnc (10.210.0.2:5900). The controller, 180 ms away, opens
# noVNC's vnc.html over HTTPS (self-signed certificate) in a headless
# Chromium driven by playwright-core and works in the laptop's terminal.
# The laptop's VNC server only ever sees a nearby TCP peer (the gateway,
# 10.210.1.2, which opened the connection); the person is far away. The
# capture is on the laptop's side link ($IF_LAP2), which carries both the
# gateway↔laptop RFB and — because the controller's route to the gateway
# runs through the laptop's forwarding — the controller↔gateway TLS.
ZOO_IFACE=$IF_LAP2

# zterm DISPLAY: a terminal filling the laptop's screen (so typed keys stay
# in it wherever the pointer goes).

zoo_install() {
  zapt x11vnc xvfb xterm xdotool websockify novnc chromium openssl
  znpm playwright playwright-core
}
zoo_setup() {
  local x="$ZOO_STATE/websockify"
  mkdir -p "$x"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=gateway.example -addext subjectAltName=IP:$ZOO_TGT \
    -keyout "$x/gw.key" -out "$x/gw.crt" 2>/dev/null
  zxvfb $((ZOO_DISPLAY + 1))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -rfbport 5900 -forever -shared -nopw -quiet
  zbg zinns $NS_TGT websockify --web /usr/share/novnc --cert "$x/gw.crt" --key "$x/gw.key" $ZOO_TGT:6080 $ZOO_LAP:5900
  zwait_port $NS_LAP $ZOO_LAP 5900
  zwait_port $NS_TGT $ZOO_TGT 6080
}
zoo_session() {
  local p="$ZOO_STATE/websockify/profile" done="$ZOO_STATE/websockify/done"
  rm -rf "$p" "$done"; mkdir -p "$p"
  # The browser stays open (connected) after the person is done, as the
  # viewers of the other scenarios do.
  NODE_PATH="$ZOO_CACHE/playwright/node_modules" zbg zinns $NS_CTL node "$ZOO_REPO/scripts/zoo/vnc-websockify/drive.js" \
    "https://$ZOO_TGT:6080/vnc.html?autoconnect=1&resize=off&reconnect=0&host=$ZOO_TGT&port=6080&encrypt=1&path=websockify" \
    "$ZOO_SECS" "$p" "$done"
  local pid; pid=$(tail -n 1 "$ZOO_STATE/pids")
  zwait_cmd $(((ZOO_SECS + 90) * 5)) sh -c "test -s '$done' || ! kill -0 $pid"
  test -s "$done" || { zlog "the browser ended early"; tail -n 20 "$ZOO_STATE/log" >&2; return 1; }
}
