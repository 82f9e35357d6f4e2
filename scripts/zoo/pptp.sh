# A PPTP VPN from the laptop to a server abroad, as far as this machine
# allows. pptpd on the controller and pptp-linux on the laptop are the real
# programs; the wire shows their control connection (TCP 1723:
# Start-Control-Connection request and reply). The kernel here is built
# without PPP (CONFIG_PPP unset, no /dev/ppp, no modules), so pppd cannot
# run; slirp's userspace PPP (slirp -P) stands in at both ends, but
# pptp-linux's front process still exits right after the control
# connection is up (it logs only to syslog, which this machine lacks), so
# no Outgoing-Call and no GRE appear. The GRE side is covered by the
# parser's tests.
. "$(dirname "${BASH_SOURCE[0]}")/vpn/lib.sh"
zoo_install() { zapt pptpd pptp-linux slirp socat; }
zoo_setup() {
  cat >"$ZOO_STATE/ppp-slirp.sh" <<'SH'
#!/bin/sh
# pptpctrl's "ppp" program: the PPP side of the call on its stdin/stdout
# (or on the pty it names).
for a in "$@"; do case $a in /dev/*) exec slirp -P <"$a" >"$a" 2>/dev/null ;; esac; done
exec slirp -P 2>/dev/null
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
  zbg zinns $NS_LAP socat EXEC:"$(zbin pptp) $ZOO_CTL --nolaunchpppd --nohostroute --logstring farm",pty,raw,echo=0 EXEC:"slirp -P",pty,raw,echo=0
  sleep "$ZOO_SECS"
}
