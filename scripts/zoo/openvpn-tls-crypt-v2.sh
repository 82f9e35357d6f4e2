# OpenVPN over UDP with --tls-crypt-v2 (per-client wrapped keys): see
# openvpn-tls-crypt.sh.
ZOO_OVPN_MODE=tls-crypt-v2
# shellcheck source=openvpn-tls-crypt.sh
. "$ZOO_REPO/scripts/zoo/openvpn-tls-crypt.sh"
