# A large git push from the laptop (must stay quiet): a developer commits
# binary assets (random content, so nothing compresses) and pushes them over
# SSH to a bare repository on a server far away (sshd in the controller's
# namespace; git-receive-pack there). The laptop opens the connection, a
# short negotiation, then the pack streams OUT of the laptop at the speed
# the 180 ms path allows; then a few small commits pushed one by one.
# ZOO_GIT_MB (default 2) is the size of the big push: tens of MB work as
# well but make a capture of the same size.
: "${ZOO_GIT_MB:=2}"
zoo_install() { zapt git openssh-client openssh-server tcpdump ethtool iproute2; }
zoo_setup() {
  local g="$ZOO_STATE/git" i
  rm -rf "$g"; mkdir -p "$g"
  zsshd $NS_CTL 22
  git init -q --bare "$g/remote.git"
  git init -q -b main "$g/work"
  git -C "$g/work" config user.name "Dev Eloper"; git -C "$g/work" config user.email dev@example.net
  mkdir -p "$g/work/assets"
  for i in $(seq 8); do
    head -c $((ZOO_GIT_MB * 1024 * 1024 / 8)) /dev/urandom >"$g/work/assets/texture-$i.bin"
    git -C "$g/work" add assets; git -C "$g/work" commit -qm "assets: texture $i"
  done
  git -C "$g/work" remote add origin "root@$ZOO_CTL:$g/remote.git"
  zwait_port $NS_CTL $ZOO_CTL 22
}
gpush() {
  # shellcheck disable=SC2046
  zinns $NS_LAP env GIT_SSH_COMMAND="$(zbin ssh) $(zsshopts)" git -C "$ZOO_STATE/git/work" push -q origin main >>"$ZOO_STATE/log" 2>&1
}
zoo_session() {
  local g="$ZOO_STATE/git" end=$((SECONDS + ZOO_SECS)) n=0
  gpush
  # Then edits, each committed and pushed, a while apart.
  while [ $((SECONDS + 8)) -lt $end ]; do
    sleep 5
    n=$((n + 1)); head -c 40000 /dev/urandom | base64 >"$g/work/notes-$n.txt"
    git -C "$g/work" add . && git -C "$g/work" commit -qm "notes $n"
    gpush
  done
  while [ $SECONDS -lt $end ]; do sleep 1; done
}
