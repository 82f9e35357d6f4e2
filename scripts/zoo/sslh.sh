# One port, several protocols: sslh on the laptop's 443 hands SSH to the
# laptop's sshd and TLS to a web server (openssl s_server); the controller
# browses https://10.210.0.2/ and types in a shell over ssh -p 443.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt sslh openssl openssh-client openssh-server curl; }
zoo_setup() {
  local d="$ZOO_STATE/tls"
  mkdir -p "$d"
  [ -f "$d/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=farm.example" \
    -keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1
  zsshd $NS_LAP 22
  zbg zinns $NS_LAP openssl s_server -quiet -accept 127.0.0.1:8443 -www -cert "$d/cert.pem" -key "$d/key.pem"
  zwait_port $NS_LAP 127.0.0.1 8443
  zbg zinns $NS_LAP "$(zbin sslh)" --foreground --user root --listen $ZOO_LAP:443 --ssh 127.0.0.1:22 --tls 127.0.0.1:8443 --pidfile "$ZOO_STATE/sslh.pid"
  zwait_port $NS_LAP $ZOO_LAP 443
}
zoo_session() {
  vbrowse 8 zinns $NS_CTL curl -k https://$ZOO_LAP/
  vssh $NS_CTL $ZOO_LAP 443 $((ZOO_SECS - 8))
}
