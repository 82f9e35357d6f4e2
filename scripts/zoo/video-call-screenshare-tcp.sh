# The video call of video-call-screenshare.sh on a network that lets no UDP
# out (must stay quiet): the laptop's browser reaches the far side only
# through the meeting service's TURN relay over TCP (coturn on port 3478
# in the controller's namespace; the laptop's page uses iceTransportPolicy
# "relay" with turn:…:3478?transport=tcp, as calls fall back behind strict
# firewalls). The same screen + voice go out and camera + voice come in,
# but as DTLS-SRTP inside TURN ChannelData on one long TCP connection the
# laptop opened; the relay forwards them over UDP to the far participant.
# shellcheck source=video-call-screenshare.sh
. "$ZOO_REPO/scripts/zoo/video-call-screenshare.sh"
# The base scenario's functions, kept under vc_* names.
for f in install setup session; do eval "$(declare -f zoo_$f | sed "1s/^zoo_$f/vc_$f/")"; done
zoo_install() { vc_install; zapt coturn; }
zoo_setup() {
  vc_setup
  local t="$ZOO_STATE/video-call/turn"
  mkdir -p "$t"
  : >"$t/turnserver.conf"
  zbg zinns $NS_CTL turnserver -c "$t/turnserver.conf" -n --listening-ip=$ZOO_CTL --listening-port=3478 \
    --alt-listening-port=0 --tls-listening-port=5349 --relay-ip=$ZOO_CTL --external-ip=$ZOO_CTL \
    --lt-cred-mech --user=guest:meetpass --realm=meet.example.net --no-tls --no-dtls --no-cli \
    --no-udp --no-multicast-peers --log-file=stdout --simple-log --pidfile="$t/turn.pid"
  zwait_port $NS_CTL $ZOO_CTL 3478
}
# The laptop's page: TURN over TCP only (VC_LAPTOP_ICE is read by zoo_session).
zoo_session() {
  VC_LAPTOP_ICE="&turn=turn:$ZOO_CTL:3478?transport=tcp" vc_session
}
