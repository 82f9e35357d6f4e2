# A long upload from the laptop (must stay quiet): the person at the laptop
# uploads a large file to a file-drop service far away: curl -T over HTTPS
# (PUT, TLS to a self-signed server in the controller's namespace),
# throttled with --limit-rate $ZOO_UPLOAD_RATE so that it lasts the session
# (the file is rate × $ZOO_SECS of random bytes). Bulk data flows out of the
# laptop for the whole session, only ACKs come back, and a 201 at the end.
# The 10-minute testdata capture uses ZOO_SECS=600 ZOO_UPLOAD_RATE=20K.
: "${ZOO_UPLOAD_RATE:=64K}"
upload_bytes() {
  local r=${ZOO_UPLOAD_RATE%[Kk]}
  [ "$r" != "$ZOO_UPLOAD_RATE" ] && r=$((r * 1024))
  echo $((r * ZOO_SECS))
}
zoo_install() { zapt curl openssl python3 tcpdump ethtool iproute2; }
zoo_setup() {
  local s="$ZOO_STATE/upload"
  mkdir -p "$s"
  [ -f "$s/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=drop.example.net" \
    -keyout "$s/key.pem" -out "$s/cert.pem" 2>/dev/null
  head -c "$(upload_bytes)" /dev/urandom >"$s/backup.tar.gz"
  zbg zinns $NS_CTL python3 "$ZOO_REPO/scripts/zoo/upload/put-server.py" $ZOO_CTL 443 "$s/cert.pem" "$s/key.pem"
  zwait_port $NS_CTL $ZOO_CTL 443
}
zoo_session() {
  local s="$ZOO_STATE/upload"
  zinns $NS_LAP "$(zbin curl)" -sS -k --limit-rate "$ZOO_UPLOAD_RATE" -T "$s/backup.tar.gz" \
    --resolve drop.example.net:443:$ZOO_CTL "https://drop.example.net/upload/backup.tar.gz" >>"$ZOO_STATE/log" 2>&1
}
