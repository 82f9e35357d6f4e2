# The laptop's traffic leaves through a circumvention proxy, and a reverse
# VNC session rides it: shadowsocks-libev's ss-local runs on the laptop
# (SOCKS5 on 127.0.0.1:1080) with its server (ss-server, port 8388,
# chacha20-ietf-poly1305) on the controller's side; x11vnc on the laptop
# connects OUT to the controller's listening viewer through that SOCKS5
# proxy (`x11vnc -connect 127.0.0.1:5500 -proxy socks5://127.0.0.1:1080`).
# The wire shows one outbound shadowsocks (AEAD, no plaintext header) TCP
# flow 10.210.0.2 → 10.210.0.1:8388, opened by ss-local on the laptop,
# carrying the screen out and the input in. (vnc-shadowsocks is the inbound
# arrangement: ss-server on the laptop.)

# rterm DISPLAY: a terminal filling the laptop's screen (so typed keys stay
# in it wherever the pointer goes). rwork DISPLAY SECONDS: a person at a
# viewer on DISPLAY works in that terminal: commands typed at a human pace
# whose output scrolls the screen, a pause to read, mouse moves.
rterm() {
  DISPLAY=:$1 zbg xterm -geometry 132x45+0+0
  zwait_cmd 50 env DISPLAY=:$1 xdotool search --class xterm
}
rwork() {
  local d=$1 end=$((SECONDS + $2)) i=0 x
  local cmds=("ls -l /usr/bin | head -40" "df -h" "ps aux | head -30" "ls -la /etc | tail -35" "free -m" "head -40 /etc/services" "uname -a" "env | sort | head -30")
  while [ $SECONDS -lt $end ]; do
    ztype "$d" "${cmds[i % ${#cmds[@]}]}"; i=$((i + 1))
    DISPLAY=:$d xdotool key Return 2>/dev/null || true
    for x in 120 260 400 540; do DISPLAY=:$d xdotool mousemove $x $((150 + RANDOM % 300)) 2>/dev/null || true; sleep 0.$((RANDOM % 3 + 1)); done
    sleep 1.$((RANDOM % 8))
  done
}
# zestab NS PORT: an established TCP connection with local or remote PORT in NS.
zestab() { zinns "$1" ss -Htn state established "( sport = :$2 or dport = :$2 )" | grep -q .; }

zoo_install() { zapt x11vnc xvfb xterm xdotool tigervnc-viewer shadowsocks-libev; }
zoo_setup() {
  local pw
  pw=$(head -c 18 /dev/urandom | base64)
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  rterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_CTL ss-server -s $ZOO_CTL -p 8388 -k "$pw" -m chacha20-ietf-poly1305 -u
  zbg zinns $NS_LAP "$(zbin ss-local)" -s $ZOO_CTL -p 8388 -k "$pw" -m chacha20-ietf-poly1305 -b 127.0.0.1 -l 1080
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xtigervncviewer -listen 5500 -SecurityTypes None
  zwait_port $NS_CTL $ZOO_CTL 8388
  zwait_port $NS_LAP 127.0.0.1 1080
  zwait_port $NS_CTL 127.0.0.1 5500
}
zoo_session() {
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -connect 127.0.0.1:5500 -proxy socks5://127.0.0.1:1080 -forever -shared -nopw -quiet
  # The session is up once ss-server holds the connection to the viewer.
  zwait_cmd 100 zestab $NS_CTL 5500
  zfocus $((ZOO_DISPLAY + 2)) "TigerVNC Viewer"
  rwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
