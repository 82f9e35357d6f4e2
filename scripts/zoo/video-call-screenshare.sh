# A video call in which the laptop shares its screen (must stay quiet):
# WebRTC between two Chromium participants (Debian's chromium, driven by
# playwright-core). A meeting service in the controller's namespace serves
# the page and relays signalling (HTTPS + EventSource); media goes peer to
# peer over UDP (ICE host candidates, DTLS-SRTP), 180 ms apart:
#   laptop → far side: its real screen (getDisplayMedia of the laptop's X
#     display, auto-selected "Entire screen", VP8 up to 400 kbit/s at
#     15 fps, a terminal on it where the person types notes) + a voice as
#     Opus in 20 ms frames;
#   far side → laptop: a camera (Chromium's fake 640x360 device, up to
#     350 kbit/s) + microphone (Opus).
# The laptop's browser opened the signalling connection (TCP out to the
# service) and both sides' ICE checks opened the media flow.
zoo_install() {
  zapt chromium openssl xvfb xterm xdotool tcpdump ethtool iproute2
  znpm playwright playwright-core
}
# vxvfb N: the laptop's display :N, without RANDR: Chromium's X11 screen
# capturer then shares the whole screen (with RANDR it looks the
# auto-selected screen up by monitor atom and Xvfb's does not match).
vxvfb() {
  rm -f "/tmp/.X11-unix/X$1" "/tmp/.X$1-lock"
  zbg Xvfb ":$1" -screen 0 800x600x24 -nolisten tcp -noreset -extension RANDR
  zwait_cmd 100 test -S "/tmp/.X11-unix/X$1"
}
zoo_setup() {
  local d=$((ZOO_DISPLAY + 1))
  vxvfb $d
  DISPLAY=:$d zbg xterm -geometry 98x26+0+0
  zwait_cmd 50 env DISPLAY=:$d xdotool search --class xterm
  mkdir -p "$ZOO_STATE/video-call"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=meet.example.net -addext subjectAltName=IP:$ZOO_CTL \
    -keyout "$ZOO_STATE/video-call/meet.key" -out "$ZOO_STATE/video-call/meet.crt" 2>/dev/null
  zbg zinns $NS_CTL node "$ZOO_REPO/scripts/zoo/video-call-screenshare/signal.js" $ZOO_CTL 443 \
    "$ZOO_STATE/video-call/meet.crt" "$ZOO_STATE/video-call/meet.key"
  zwait_port $NS_CTL $ZOO_CTL 443
}
zoo_session() {
  local s="$ZOO_STATE/video-call" d=$((ZOO_DISPLAY + 1)) url="https://$ZOO_CTL/call.html?room=standup&only=10.210.0."
  rm -rf "$s/ctl" "$s/lap"; mkdir -p "$s/ctl" "$s/lap"
  # The other party joins first (camera and microphone)…
  NODE_PATH="$ZOO_CACHE/playwright/node_modules" zbg zinns $NS_CTL node "$ZOO_REPO/scripts/zoo/video-call-screenshare/join.js" \
    "$url&id=far" $((ZOO_SECS + 10)) "$s/ctl" headless --use-fake-device-for-media-stream
  zwait_cmd 150 grep -q "^meeting service" "$ZOO_STATE/log"
  # …then the laptop's person joins, sharing the screen; while the call
  # runs they type notes into the terminal that is being shared.
  local typist
  (sleep 8; zfocus $d xterm; zdrive $d $((ZOO_SECS - 8))) &
  typist=$!
  DISPLAY=:$d NODE_PATH="$ZOO_CACHE/playwright/node_modules" zinns $NS_LAP "$(zbin node)" \
    "$ZOO_REPO/scripts/zoo/video-call-screenshare/join.js" "$url&id=laptop&share=1${VC_LAPTOP_ICE:-}" "$ZOO_SECS" "$s/lap" headed \
    --auto-select-desktop-capture-source="Entire screen" --window-position=400,380 --window-size=400,220 \
    >>"$ZOO_STATE/log" 2>&1 || zlog "laptop participant failed"
  wait "$typist"
}
