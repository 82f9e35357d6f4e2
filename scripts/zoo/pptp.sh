# A PPTP VPN from the laptop to a server abroad, as far as this machine
# allows. pptpd on the controller and pptp-linux on the laptop are the real
# programs; the wire shows their control connection on TCP 1723:
# Start-Control-Connection request/reply, Outgoing-Call request/reply, then
# Call-Clear. The kernel here is built without PPP (CONFIG_PPP unset, no
# /dev/ppp, no modules), so pppd cannot run: pptpd's "ppp" program is
# slirp's userspace PPP (slirp -P) on the call's pty, but it exits at once
# there, so the call is cleared before any GRE (IP protocol 47) flows; the
# laptop's pptp front end (--nolaunchpppd) has cat on its pty. The GRE side
# is covered by the parser's and engine's synthetic tests.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt pptpd pptp-linux slirp socat; }
zoo_setup() {
  cat >"$ZOO_STATE/ppp-slirp.sh" <<'SH'
#!/bin/sh
# pptpctrl's "ppp" program: the call's pty is its stdin (pppd's
# arguments follow, ignored).
exec slirp -P >&0 2>/dev/null
SH
  chmod +x "$ZOO_STATE/ppp-slirp.sh"
  : >"$ZOO_STATE/pptpd-options"
  cat >"$ZOO_STATE/pptpd.conf" <<CFG
ppp $ZOO_STATE/ppp-slirp.sh
option $ZOO_STATE/pptpd-options
localip 192.168.77.1
remoteip 192.168.77.2-20
listen $ZOO_CTL
CFG
  zbg zinns $NS_CTL pptpd -f -c "$ZOO_STATE/pptpd.conf" -p "$ZOO_STATE/pptpd.pid"
  zwait_port $NS_CTL $ZOO_CTL 1723
}
zoo_session() {
  zbg zinns $NS_LAP socat EXEC:"$(zbin pptp) $ZOO_CTL --nolaunchpppd --nohostroute --logstring farm",pty,raw,echo=0 SYSTEM:cat
  sleep "$ZOO_SECS"
}
