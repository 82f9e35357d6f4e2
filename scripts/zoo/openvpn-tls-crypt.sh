# OpenVPN over UDP with its handshake encrypted (--tls-crypt: the control
# channel, hard reset included, is wrapped in a pre-shared key, so no
# handshake parser sees the reset exchange; ZOO_OVPN_MODE=tls-crypt-v2 uses
# per-client keys, openvpn-tls-crypt-v2.sh). The server abroad listens on
# UDP 1194; the laptop's client brings up tun0 (10.203.0.2) and the
# laptop's person browses an HTTPS site on the server's tunnel address
# (10.203.0.1): inner TCP sessions inside one long UDP flow.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"
: "${ZOO_OVPN_MODE:=tls-crypt}"

zoo_install() { zapt openvpn curl openssl python3; }
zoo_setup() {
  local d="$ZOO_STATE/ovpn" n srvkey clikey
  rm -rf "$d"; mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=vpn-ca" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  for n in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" -keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null
    printf 'extendedKeyUsage=%s\n' "$([ $n = server ] && echo serverAuth || echo clientAuth)" >"$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 -extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null
  done
  if [ "$ZOO_OVPN_MODE" = tls-crypt-v2 ]; then
    openvpn --genkey tls-crypt-v2-server "$d/tc2-server.key" >/dev/null
    openvpn --tls-crypt-v2 "$d/tc2-server.key" --genkey tls-crypt-v2-client "$d/tc2-client.key" >/dev/null
    srvkey=(--tls-crypt-v2 "$d/tc2-server.key"); clikey=(--tls-crypt-v2 "$d/tc2-client.key")
  else
    openvpn --genkey secret "$d/tc.key" >/dev/null
    srvkey=(--tls-crypt "$d/tc.key"); clikey=(--tls-crypt "$d/tc.key")
  fi
  zbg zinns $NS_CTL openvpn --mode server --tls-server --proto udp --port 1194 --dev tun --topology subnet \
    --server 10.203.0.0 255.255.255.0 --ca "$d/ca.crt" --cert "$d/server.crt" --key "$d/server.key" --dh none \
    "${srvkey[@]}" --keepalive 10 60 --verb 1
  zwait_cmd 100 zinns $NS_CTL ip addr show tun0
  zwait_cmd 100 sh -c "ip netns exec $NS_CTL ip -4 addr show tun0 | grep -q 10.203.0.1"
  zweb $NS_CTL 10.203.0.1 443
}
# ovpn_client: the laptop's client, up once tun0 has its address.
ovpn_client() {
  local d="$ZOO_STATE/ovpn" clikey
  if [ "$ZOO_OVPN_MODE" = tls-crypt-v2 ]; then clikey=(--tls-crypt-v2 "$d/tc2-client.key"); else clikey=(--tls-crypt "$d/tc.key"); fi
  # The client starts with the session, so the capture holds its handshake.
  zbg zinns $NS_LAP "$(zbin openvpn)" --client --proto udp --remote $ZOO_CTL 1194 --dev tun --nobind \
    --ca "$d/ca.crt" --cert "$d/client.crt" --key "$d/client.key" "${clikey[@]}" --verb 1
  zwait_cmd 150 sh -c "ip netns exec $NS_LAP ip -4 addr show tun0 2>/dev/null | grep -q 10.203.0."
}
zoo_session() {
  ovpn_client
  zbrowse "$ZOO_SECS" --resolve www.example.org:443:10.203.0.1
}
