# An IPsec VPN (strongSwan IKEv2, PSK) between the laptop and the controller:
# the laptop's charon dials OUT to the controller's IKEv2 responder
# (swanctl --initiate), gets a virtual IP (10.99.0.1) from the responder's
# pool and a tunnel-mode CHILD_SA 10.99.0.1 ↔ 10.98.0.1 (the controller's
# inside address), with UDP encapsulation forced (encap = yes, as behind a
# home NAT): IKE_SA_INIT on UDP 500, then IKE and ESP-in-UDP on 4500. The
# controller's xfreerdp then connects through the tunnel to 10.99.0.1:3389,
# where the laptop's xrdp serves the laptop's real desktop through its VNC
# back end (libvnc.so → x11vnc on loopback, autorun with the client's
# credentials). The wire on the laptop's link shows only the laptop's
# outbound UDP 4500 flow (charon's socket) carrying the screen out and the
# input in; the RDP is inside ESP.
# ESP runs in user space (charon's kernel-libipsec plugin, a TUN device
# ipsec0 per namespace), since kernels without CONFIG_INET_ESP (such as
# this VM's) cannot hold an ESP SA; the wire is the same ESP-in-UDP as the
# kernel's. Each charon gets its own strongswan.conf (STRONGSWAN_CONF),
# vici socket in $ZOO_STATE and a private /run (its pid file path is
# fixed), bind-mounted inside `ip netns exec`'s own mount namespace; xrdp
# likewise gets its own /run/xrdp. The tunnel is brought up at the start of
# the session so that a capture holds the IKE exchange.


# rcharon NS NAME: charon in NS with its files in $ZOO_STATE/ipsec-NAME
# (strongswan.conf, swanctl.conf, charon.vici, run/, charon.log).
# The laptop's runs as zbin gives it (renamed and moved with ZOO_RENAME=1).
rcharon() {
  local d="$ZOO_STATE/ipsec-$2" bin=/usr/lib/ipsec/charon
  [ "$1" = "$NS_LAP" ] && bin=$(zbin $bin)
  zbg zinns "$1" env STRONGSWAN_CONF="$d/strongswan.conf" sh -c "mount --bind '$d/run' /run && exec '$bin'"
}
rswanctl() { local n=$1; shift; STRONGSWAN_CONF="$ZOO_STATE/ipsec-$n/strongswan.conf" swanctl "$@" --uri "unix://$ZOO_STATE/ipsec-$n/charon.vici"; }
rswanconf() { # NAME: strongswan.conf for that charon
  local d="$ZOO_STATE/ipsec-$1"
  mkdir -p "$d/run"; rm -f "$d/charon.log" "$d/charon.vici" "$d/run/charon.pid"
  cat >"$d/strongswan.conf" <<CFG
charon {
  load = random nonce aes sha1 sha2 hmac gmp kdf pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  filelog {
    zoo {
      path = $d/charon.log
      default = 1
      ike = 2
      cfg = 2
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  plugins {
    vici {
      socket = unix://$d/charon.vici
    }
  }
}
swanctl {
  load = pem pkcs1 pkcs8 x509 pubkey random
}
CFG
}

zoo_install() {
  zapt xrdp freerdp2-x11 x11vnc xvfb xterm xdotool strongswan-charon strongswan-swanctl libcharon-extra-plugins
}
zoo_setup() {
  local x="$ZOO_STATE/xrdp" psk
  psk=$(head -c 24 /dev/urandom | base64)
  rswanconf lap; rswanconf ctl
  cat >"$ZOO_STATE/ipsec-lap/swanctl.conf" <<CFG
connections {
  farm {
    version = 2
    remote_addrs = $ZOO_CTL
    vips = 0.0.0.0
    encap = yes
    proposals = aes256-sha256-modp2048
    local {
      auth = psk
      id = laptop@farm.example
    }
    remote {
      auth = psk
      id = gw@farm.example
    }
    children {
      farm {
        remote_ts = 10.98.0.1/32
        esp_proposals = aes256-sha256
      }
    }
  }
}
secrets {
  ike-farm {
    id-1 = laptop@farm.example
    id-2 = gw@farm.example
    secret = "$psk"
  }
}
CFG
  cat >"$ZOO_STATE/ipsec-ctl/swanctl.conf" <<CFG
connections {
  farm {
    version = 2
    local_addrs = $ZOO_CTL
    pools = farm
    proposals = aes256-sha256-modp2048
    local {
      auth = psk
      id = gw@farm.example
    }
    remote {
      auth = psk
      id = laptop@farm.example
    }
    children {
      farm {
        local_ts = 10.98.0.1/32
        esp_proposals = aes256-sha256
      }
    }
  }
}
pools {
  farm {
    addrs = 10.99.0.1-10.99.0.20
  }
}
secrets {
  ike-farm {
    id-1 = laptop@farm.example
    id-2 = gw@farm.example
    secret = "$psk"
  }
}
CFG
  # The controller's side of the tunnel: an inside address (with
  # kernel-libipsec the peer's own IKE address cannot be in the tunnel).
  zinns $NS_CTL ip addr add 10.98.0.1/32 dev lo
  rcharon $NS_CTL ctl; rcharon $NS_LAP lap
  zwait_cmd 100 test -S "$ZOO_STATE/ipsec-ctl/charon.vici"
  zwait_cmd 100 test -S "$ZOO_STATE/ipsec-lap/charon.vici"
  rswanctl ctl --load-all --file "$ZOO_STATE/ipsec-ctl/swanctl.conf" >>"$ZOO_STATE/log" 2>&1
  rswanctl lap --load-all --file "$ZOO_STATE/ipsec-lap/swanctl.conf" >>"$ZOO_STATE/log" 2>&1

  mkdir -p "$x/run"
  zxvfb $((ZOO_DISPLAY + 1)); zxvfb $((ZOO_DISPLAY + 2))
  zterm $((ZOO_DISPLAY + 1))
  zbg zinns $NS_LAP "$(zbin x11vnc)" -display :$((ZOO_DISPLAY + 1)) -localhost -rfbport 5901 -forever -shared -nopw -quiet
  {
    sed -n '/^\[Globals\]/,/^\[Logging\]/p' /etc/xrdp/xrdp.ini | sed '$d' | sed -e 's|^autorun=.*|autorun=laptop|'
    printf '[Logging]\nLogFile=%s\nLogLevel=INFO\nEnableSyslog=false\n\n' "$x/xrdp.log"
    sed -n '/^\[Channels\]/,/^\[/p' /etc/xrdp/xrdp.ini | sed '$d'
    printf '[laptop]\nname=laptop\nlib=libvnc.so\nusername=na\npassword=na\nip=127.0.0.1\nport=5901\n'
  } >"$x/xrdp.ini"
  zbg zinns $NS_LAP sh -c "mount --bind '$x/run' /run/xrdp && exec '$(zbin xrdp)' --nodaemon -c '$x/xrdp.ini'"
  zwait_port $NS_LAP 127.0.0.1 5901
  zwait_port $NS_LAP 0.0.0.0 3389
}
zoo_session() {
  # The laptop brings the tunnel up (blocks until the CHILD_SA is installed).
  rswanctl lap --initiate --child farm --timeout 30 >>"$ZOO_STATE/log" 2>&1
  zwait_cmd 100 zinns $NS_LAP sh -c "ip -4 addr show | grep -q 10.99.0.1/"
  DISPLAY=:$((ZOO_DISPLAY + 2)) zbg zinns $NS_CTL xfreerdp /v:10.99.0.1:3389 /u:farmuser /p:x /cert:ignore /size:800x600 /sec:tls
  # The session is up once xrdp has connected to the laptop's screen.
  zwait_cmd 150 zestab $NS_LAP 5901
  zfocus $((ZOO_DISPLAY + 2)) xfreerdp
  zwork $((ZOO_DISPLAY + 2)) "$ZOO_SECS"
}
