# obfs4 (obfs4proxy, the Tor pluggable transport, used on its own as a
# generic obfuscated tunnel): the server abroad listens on TCP 443 and hands
# the de-obfuscated stream to an HTTPS site (www.example.org on the
# controller's 127.0.0.2:443, its "ORPort"); the laptop runs the obfs4
# client as a managed transport (SOCKS5 on a local port, the bridge's
# cert and iat-mode passed as SOCKS username/password, as tor does). The
# laptop's person browses the site through it: the wire shows fully
# encrypted TCP flows (padded, no fixed header) to port 443.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt obfs4proxy curl openssl python3; }
zoo_setup() {
  local s="$ZOO_STATE/obfs4" cert port
  rm -rf "$s"; mkdir -p "$s/server" "$s/client"
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  zbg zinns $NS_CTL env TOR_PT_MANAGED_TRANSPORT_VER=1 TOR_PT_STATE_LOCATION="$s/server" \
    TOR_PT_SERVER_TRANSPORTS=obfs4 TOR_PT_SERVER_BINDADDR=obfs4-$ZOO_CTL:443 TOR_PT_ORPORT=127.0.0.2:443 \
    obfs4proxy -enableLogging -logLevel INFO
  zwait_cmd 100 test -s "$s/server/obfs4_bridgeline.txt"
  zwait_port $NS_CTL $ZOO_CTL 443
  cert=$(sed -n 's/.*cert=\([^ ]*\).*/\1/p' "$s/server/obfs4_bridgeline.txt" | tail -n 1)
  echo "cert=$cert;iat-mode=0" >"$s/args"
  # The client prints "CMETHOD obfs4 socks5 127.0.0.1:PORT" on stdout.
  zinns $NS_LAP env TOR_PT_MANAGED_TRANSPORT_VER=1 TOR_PT_STATE_LOCATION="$s/client" TOR_PT_CLIENT_TRANSPORTS=obfs4 \
    TOR_PT_EXIT_ON_STDIN_CLOSE=0 "$(zbin obfs4proxy)" >"$s/client.out" 2>>"$ZOO_STATE/log" &
  echo $! >>"$ZOO_STATE/pids"
  zwait_cmd 100 grep -q "CMETHOD obfs4 socks5" "$s/client.out"
  port=$(sed -n 's/^CMETHOD obfs4 socks5 127.0.0.1:\([0-9]*\).*/\1/p' "$s/client.out")
  echo "$port" >"$s/port"
}
zoo_session() {
  local s="$ZOO_STATE/obfs4" args
  args=$(cat "$s/args")
  # The PT's SOCKS arguments are the username and password concatenated.
  zbrowse "$ZOO_SECS" --socks5 "127.0.0.1:$(cat "$s/port")" --proxy-user "${args%?}:${args: -1}" \
    --resolve www.example.org:443:$ZOO_CTL
}
