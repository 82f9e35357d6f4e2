# Negative control for the tunnel scenarios: the same person browsing the
# same HTTPS site (zbrowse) directly, no proxy or VPN: one TLS session per
# fetch to the controller's 10.210.0.1:443. Nothing may be reported above
# low (no TLS-in-TLS, no fully encrypted stream, no encapsulation).
# shellcheck source=generic/web.sh
. "$ZOO_REPO/scripts/zoo/generic/web.sh"

zoo_install() { zapt curl openssl python3; }
zoo_setup() { zweb $NS_CTL $ZOO_CTL 443; }
zoo_session() { zbrowse "$ZOO_SECS" --resolve www.example.org:443:$ZOO_CTL; }
