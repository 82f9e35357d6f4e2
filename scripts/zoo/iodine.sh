# iodine, IP over DNS: iodined abroad is the authoritative server of a
# tunnel domain nobody lists (t.tunnel.lan), the laptop's iodine client
# talks to it directly on UDP 53 (as through a resolver). In raw mode
# (default: iodine switches to raw UDP once it can reach the server) the
# data leaves DNS after the handshake; ZOO_IODINE_MODE=dns (iodine -r,
# iodine-dns.sh) keeps everything in DNS queries (NULL records,
# base32/128-encoded labels). The laptop's person browses an HTTPS site on
# the server's tunnel address (10.204.0.1).
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"
: "${ZOO_IODINE_MODE:=raw}"

zoo_install() { zapt iodine curl openssl python3; }
zoo_setup() {
  head -c 12 /dev/urandom | base64 >"$ZOO_STATE/iodine-pw"
  zbg zinns $NS_CTL iodined -f -c -P "$(cat "$ZOO_STATE/iodine-pw")" -l $ZOO_CTL 10.204.0.1/24 t.tunnel.lan
  zwait_cmd 100 sh -c "ip netns exec $NS_CTL ip -4 addr | grep -q 10.204.0.1"
  zweb $NS_CTL 10.204.0.1 443
}
zoo_session() {
  local raw=()
  [ "$ZOO_IODINE_MODE" = dns ] && raw=(-r)
  zbg zinns $NS_LAP "$(zbin iodine)" -f "${raw[@]}" -P "$(cat "$ZOO_STATE/iodine-pw")" $ZOO_CTL t.tunnel.lan
  zwait_cmd 150 sh -c "ip netns exec $NS_LAP ip -4 addr | grep -q 10.204.0."
  zbrowse "$ZOO_SECS" --resolve www.example.org:443:10.204.0.1
}
