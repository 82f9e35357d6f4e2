# shellcheck shell=bash
# Helpers for the tunnel and proxy scenarios (sourced by scripts/zoo/<name>.sh
# after lib.sh): an HTTPS web site in a namespace and a person browsing it
# through whatever tunnel the scenario set up.

# zweb_cert: a self-signed certificate for www.example.org in
# $ZOO_STATE/web (made once).
zweb_cert() {
  local s="$ZOO_STATE/web"
  mkdir -p "$s"
  [ -f "$s/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=www.example.org" \
    -keyout "$s/key.pem" -out "$s/cert.pem" 2>/dev/null
}

# zweb NS ADDR PORT: the HTTPS web site on ADDR:PORT in NS.
zweb() {
  zweb_cert
  zbg zinns "$1" python3 "$ZOO_REPO/scripts/zoo/generic/web-server.py" "$2" "$3" "$ZOO_STATE/web/cert.pem" "$ZOO_STATE/web/key.pem"
  zwait_port "$1" "$2" "$3"
}

# zbrowse SECONDS CURL-ARGS...: for about SECONDS, fetch a page and its
# parts (8–128 KiB) every 1–3 s from https://www.example.org with curl in
# the laptop's namespace; CURL-ARGS route it (a proxy, --resolve, …). Each
# fetch is a new connection, as a browser's would be after a pause.
zbrowse() {
  local secs=$1 end=$((SECONDS + $1)) n; shift
  while [ $SECONDS -lt $end ]; do
    n=$((8 << (RANDOM % 5)))
    zinns $NS_LAP curl -sS -k --max-time 20 "$@" -o /dev/null "https://www.example.org/page/$n" -o /dev/null "https://www.example.org/" >>"$ZOO_STATE/log" 2>&1 || true
    sleep "$((RANDOM % 3 + 1)).$((RANDOM % 10))"
  done
}
