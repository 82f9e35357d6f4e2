# shadowsocks-libev behind simple-obfs in TLS mode with a decoy SNI of a big
# web site (obfs-host=www.bing.com): the first client packet is a fake TLS
# ClientHello, the server answers with a fake ServerHello, and the
# shadowsocks stream (carrying the laptop's HTTPS browsing to the site on
# the controller's 127.0.0.2:443) rides in TLS application-data records on
# TCP 443.
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt shadowsocks-libev simple-obfs curl openssl python3; }
zoo_setup() {
  local pw
  pw=$(head -c 18 /dev/urandom | base64)
  zinns $NS_CTL ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
  zweb $NS_CTL 127.0.0.2 443
  zbg zinns $NS_CTL ss-server -s $ZOO_CTL -p 443 -k "$pw" -m aes-256-gcm --plugin obfs-server --plugin-opts "obfs=tls"
  zbg zinns $NS_LAP "$(zbin ss-local)" -s $ZOO_CTL -p 443 -k "$pw" -m aes-256-gcm -b 127.0.0.1 -l 1080 \
    --plugin obfs-local --plugin-opts "obfs=tls;obfs-host=www.bing.com"
  zwait_port $NS_CTL $ZOO_CTL 443
  zwait_port $NS_LAP 127.0.0.1 1080
}
zoo_session() {
  zbrowse "$ZOO_SECS" --socks5 127.0.0.1:1080 --resolve www.example.org:443:127.0.0.2
}
