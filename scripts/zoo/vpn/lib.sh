# shellcheck shell=bash
# Helpers the VPN/tunnel/proxy scenarios share (sourced by the scenario
# files after lib.sh).

# vtypist SECONDS: keys for a terminal on stdout at a human pace (150–450
# ms apart), a pause to read after each command, `exit` at the end.
vtypist() {
  local end=$((SECONDS + $1)) i=0 k cmd
  local cmds=("ls /" "uname -a" "id" "ls -l /tmp" "date" "df -h /" "uptime" "ps aux | head -15" "free -m")
  sleep 1.5
  while [ $SECONDS -lt $end ]; do
    cmd=${cmds[i % ${#cmds[@]}]}; i=$((i + 1))
    for ((k = 0; k < ${#cmd}; k++)); do printf '%s' "${cmd:k:1}"; sleep 0.$((RANDOM % 31 + 15)); done
    printf '\r'; sleep $((RANDOM % 2)).$((RANDOM % 6 + 3))
  done
  printf 'exit\r'; sleep 1
}

# vssh NS HOST PORT SECONDS: a person typing in a shell on HOST:PORT
# (an sshd from zsshd), from NS.
vssh() {
  # shellcheck disable=SC2046
  vtypist "$4" | zinns "$1" ssh -tt -p "$3" $(zsshopts) root@"$2" >>"$ZOO_STATE/log" 2>&1 || true
}

# vweb NS ADDR PORT: a small web site (python3 http.server) in NS.
vweb() {
  local d="$ZOO_STATE/www"
  mkdir -p "$d"
  for p in index news shop about; do
    head -c $((3000 + RANDOM % 5000)) /dev/urandom | base64 >"$d/$p.html"
  done
  zbg zinns "$1" python3 -m http.server --bind "$2" --directory "$d" "$3"
  zwait_port "$1" "$2" "$3"
}

# vbrowse SECONDS CMD...: page fetches with CMD (a curl with its proxy
# options; the URL path is appended) every 1–3 s for SECONDS.
vbrowse() {
  local end=$((SECONDS + $1)) i=0; shift
  local pages=(index news shop about)
  while [ $SECONDS -lt $end ]; do
    "$@""${pages[i % 4]}.html" -s -o /dev/null >>"$ZOO_STATE/log" 2>&1 || true
    i=$((i + 1)); sleep $((RANDOM % 3 + 1))
  done
}
