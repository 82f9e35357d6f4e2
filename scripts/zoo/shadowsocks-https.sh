# A circumvention proxy the farm picked, that nothing here names: the
# laptop's person browses an HTTPS site through shadowsocks-libev —
# ss-local on the laptop (SOCKS5 127.0.0.1:1080) to ss-server abroad on TCP
# 443 (aes-256-gcm AEAD), which opens the site (www.example.org on the
# controller's 127.0.0.2:443). The wire shows one fully encrypted TCP flow
# per fetch, no TLS, no header, on the HTTPS port.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt shadowsocks-libev curl openssl python3; }
zoo_setup() {
  local pw
  pw=$(head -c 18 /dev/urandom | base64)
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  zbg zinns $NS_CTL ss-server -s $ZOO_CTL -p 443 -k "$pw" -m aes-256-gcm
  zbg zinns $NS_LAP "$(zbin ss-local)" -s $ZOO_CTL -p 443 -k "$pw" -m aes-256-gcm -b 127.0.0.1 -l 1080
  zwait_port $NS_CTL $ZOO_CTL 443
  zwait_port $NS_LAP 127.0.0.1 1080
}
zoo_session() {
  zbrowse "$ZOO_SECS" --socks5 127.0.0.1:1080 --resolve www.example.org:443:127.0.0.2
}
