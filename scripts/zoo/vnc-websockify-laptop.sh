# A browser-based remote-desktop gateway on the laptop itself: websockify
# (serving noVNC over HTTPS with a self-signed certificate) listens on the
# laptop's 10.210.0.2:6080 and bridges WebSocket to x11vnc on the laptop's
# loopback. The controller, 180 ms away, opens noVNC's vnc.html in a
# headless Chromium driven by playwright-core (scripts/zoo/vnc-websockify/
# drive.js) and works in the laptop's terminal. Here the connections are
# INBOUND: the controller's browser opened them (the page's static files,
# then one long WebSocket over TLS carrying RFB: the screen out, the input
# in). The companion scenario vnc-websockify puts the gateway on a host
# next to the laptop instead.

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
    -subj /CN=laptop.example -addext subjectAltName=IP:$ZOO_LAP \
    -keyout "$x/gw.key" -out "$x/gw.crt" 2>/dev/null
  zxvfb $((ZOO_DISPLAY + 1))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -localhost -rfbport 5900 -forever -shared -nopw -quiet
  zbg zinns $NS_LAP "$(zbin websockify)" --web /usr/share/novnc --cert "$x/gw.crt" --key "$x/gw.key" $ZOO_LAP:6080 127.0.0.1:5900
  zwait_port $NS_LAP 127.0.0.1 5900
  zwait_port $NS_LAP $ZOO_LAP 6080
}
zoo_session() {
  local p="$ZOO_STATE/websockify/profile" done="$ZOO_STATE/websockify/done"
  rm -rf "$p" "$done"; mkdir -p "$p"
  # The browser stays open (connected) after the person is done, as the
  # viewers of the other scenarios do.
  NODE_PATH="$ZOO_CACHE/playwright/node_modules" zbg zinns $NS_CTL node "$ZOO_REPO/scripts/zoo/vnc-websockify/drive.js" \
    "https://$ZOO_LAP:6080/vnc.html?autoconnect=1&resize=off&reconnect=0&host=$ZOO_LAP&port=6080&encrypt=1&path=websockify" \
    "$ZOO_SECS" "$p" "$done"
  local pid; pid=$(tail -n 1 "$ZOO_STATE/pids")
  zwait_cmd $(((ZOO_SECS + 90) * 5)) sh -c "test -s '$done' || ! kill -0 $pid"
  test -s "$done" || { zlog "the browser ended early"; tail -n 20 "$ZOO_STATE/log" >&2; return 1; }
}
