# OpenVPN over UDP with --tls-crypt (openvpn-tls-crypt.sh) carrying a long
# download: while browsing, the laptop's person fetches a 4 MiB file
# through the tunnel at 160 KB/s (about 26 s). The one UDP flow streams
# thousands of MTU-bound packets one way and the inner ACKs the other: a
# flow the live capture's kernel bypass takes over (both directions
# counted in the kernel), recorded to show the encapsulation shape
# survives it. Captured with a 160-byte snap length (ZOO_SNAP): the engine
# takes sizes from the headers and keeps only the first bytes of a UDP
# flow's first datagrams.
# shellcheck source=openvpn-tls-crypt.sh
. "$ZOO_REPO/scripts/zoo/openvpn-tls-crypt.sh"
ZOO_SNAP=160

zoo_session() {
  local dl
  ovpn_client
  zbg zinns $NS_LAP curl -sS -k --max-time 90 --limit-rate 160k --resolve www.example.org:443:10.203.0.1 \
    -o /dev/null https://www.example.org/page/4096
  dl=$(tail -n 1 "$ZOO_STATE/pids")
  zbrowse "$ZOO_SECS" --resolve www.example.org:443:10.203.0.1
  wait "$dl" || true
}
