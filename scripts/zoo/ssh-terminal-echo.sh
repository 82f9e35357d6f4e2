# The person at the laptop works in a shell far away (must stay quiet): the
# laptop's ssh connects OUT to an sshd in the controller's namespace with a
# terminal (-tt), and commands are typed at a human pace, one key a packet;
# the far side echoes each key and answers with the command's output. The
# laptop drives; nothing drives the laptop.
zoo_install() { zapt openssh-client openssh-server tcpdump ethtool iproute2; }
zoo_setup() {
  zsshd $NS_CTL 22
  zwait_port $NS_CTL $ZOO_CTL 22
}
# typist SECONDS: keys on stdout at a human pace (150–450 ms apart), a
# pause to read after each command, `exit` when the time is up.
typist() {
  local end=$((SECONDS + $1)) i=0 k cmd
  local cmds=("ls /" "uname -a" "cat /etc/hostname" "id" "ls -l /tmp" "date" "df -h /" "uptime" "ps aux | head -15" "free -m" "echo done")
  sleep 1.5
  while [ $SECONDS -lt $end ]; do
    cmd=${cmds[i % ${#cmds[@]}]}; i=$((i + 1))
    for ((k = 0; k < ${#cmd} && SECONDS < end; k++)); do printf '%s' "${cmd:k:1}"; sleep 0.$((RANDOM % 31 + 15)); done
    printf '\r'; [ $SECONDS -lt $end ] || break
    sleep $((RANDOM % 2)).$((RANDOM % 6 + 3))
  done
  printf 'exit\r'; sleep 1
}
zoo_session() {
  # shellcheck disable=SC2046
  typist "$ZOO_SECS" | zinns $NS_LAP "$(zbin ssh)" -tt $(zsshopts) root@$ZOO_CTL >>"$ZOO_STATE/log" 2>&1 || true
}
