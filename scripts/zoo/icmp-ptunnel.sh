# An SSH session into the laptop carried over ICMP echo: ptunnel-ng runs as
# the proxy on the laptop (raw ICMP), the controller's ptunnel-ng client
# listens on 127.0.0.1:2222 and forwards through echo requests to the
# laptop, which relays to its own sshd. The wire shows only ICMP echo
# between 10.210.0.1 and 10.210.0.2 with ptunnel-ng's framing (magic,
# state, sequence numbers) and the SSH bytes inside.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt ptunnel-ng openssh-client openssh-server python3; }
zoo_setup() {
  zsshd $NS_LAP 22
  zwait_port $NS_LAP 0.0.0.0 22
  zbg zinns $NS_LAP "$(zbin ptunnel-ng)" -r127.0.0.1 -R22 -v 1 -o"$ZOO_STATE/ptunnel-proxy.log"
  zbg zinns $NS_CTL ptunnel-ng -p$ZOO_LAP -l2222 -r127.0.0.1 -R22 -v 1 -o"$ZOO_STATE/ptunnel-client.log"
  zwait_port $NS_CTL 0.0.0.0 2222
}
zoo_session() { vssh $NS_CTL 127.0.0.1 2222 "$ZOO_SECS"; }
