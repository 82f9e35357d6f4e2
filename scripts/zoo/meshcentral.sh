# A self-hosted RMM: the MeshCentral server (node) runs on the controller's
# side on 10.210.0.1:443 and the real MeshAgent linux binary on the laptop
# dials OUT to it (wss://10.210.0.1:443/agent.ashx, TLS). The person at the
# controls logs in to MeshCentral's web UI in headless chromium (also in the
# controller's namespace), opens the laptop, and drives a remote desktop
# (the agent streams JPEG tiles of the laptop's X display out, relayed by
# the server) and then a remote terminal (scripts/zoo/meshcentral-drive.js).
#
# On the laptop, one process name: "meshagent run" holds the control
# connection 10.210.0.2:* -> 10.210.0.1:443 (wss://…/agent.ashx) and opens
# one more connection to the same server and port per session (desktop,
# terminal: wss://…/meshrelay.ashx), where the server joins it to the
# browser's. Its desktop worker is a fork of itself (same command line) and
# the terminal's bash a child; both inherit the agent's sockets. Nothing
# listens on TCP; one UDP socket on an ephemeral port stays silent.
MC_VER=1.1.55
MC_DIR=$ZOO_CACHE/meshcentral
MC_PKG=$MC_DIR/node_modules/meshcentral
MC_DATA=$ZOO_STATE/meshcentral-data
MC_AGENT_DIR=$ZOO_STATE/meshagent
MC_USER=farmadmin
MC_PASS='Zoo-farm-Pass-1'
MC_GROUP=farm

zoo_install() {
  zapt xvfb xterm xdotool chromium tcpdump ethtool iproute2 libx11-6 libxtst6 libxext6 libxfixes3
  znpm meshcentral meshcentral@$MC_VER playwright-core@1.65.2
}

# mc_node ARGS...: the MeshCentral server command in the controller's namespace.
mc_node() { zinns "$NS_CTL" env HOME="$MC_DATA" node "$MC_PKG" --datapath "$MC_DATA" "$@"; }

# mc_ctrl ARGS...: meshctrl.js (MeshCentral's own command line client) as the admin.
mc_ctrl() {
  zinns "$NS_CTL" env NODE_TLS_REJECT_UNAUTHORIZED=0 node --no-warnings "$MC_PKG/meshctrl.js" \
    --url "wss://$ZOO_CTL:443" --loginuser "$MC_USER" --loginpass "$MC_PASS" "$@"
}

zoo_setup() {
  rm -rf "$MC_DATA" "$MC_AGENT_DIR"; mkdir -p "$MC_DATA" "$MC_AGENT_DIR"
  # The server's self-signed certificates take a while to make; keep them.
  if [ -d "$MC_DIR/certs" ]; then cp "$MC_DIR"/certs/* "$MC_DATA"/; fi
  cat >"$MC_DATA/config.json" <<JSON
{
  "settings": {
    "cert": "$ZOO_CTL",
    "port": 443, "redirPort": 0, "mpsPort": 0, "exactPorts": true,
    "WANonly": true, "selfUpdate": false, "autoBackup": false,
    "filesPath": "$MC_DATA/files", "allowHighQualityDesktop": true,
    "noAgentUpdate": 1, "agentCoreDump": false, "agentTimeStampServer": false
  },
  "domains": { "": { "title": "Farm RMM", "newAccounts": false, "minify": true } }
}
JSON
  mc_node --createaccount "$MC_USER" --pass "$MC_PASS" --admin >>"$ZOO_STATE/log" 2>&1
  zbg mc_node
  zwait_port "$NS_CTL" "$ZOO_CTL" 443 600
  if [ ! -d "$MC_DIR/certs" ]; then
    mkdir -p "$MC_DIR/certs.tmp"; cp "$MC_DATA"/*.crt "$MC_DATA"/*.key "$MC_DIR/certs.tmp"/ && mv "$MC_DIR/certs.tmp" "$MC_DIR/certs"
  fi
  zwait_cmd 100 mc_ctrl serverinfo
  mc_ctrl adddevicegroup --name "$MC_GROUP" >>"$ZOO_STATE/log" 2>&1
  local meshid
  meshid=$(mc_ctrl listdevicegroups --json | node -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const g=JSON.parse(s).find(g=>g.name==process.argv[1]);console.log(g._id.split("/")[2])})' "$MC_GROUP")
  # The agent's .msh, as the server hands it out for the group.
  zinns "$NS_CTL" node -e '
    require("https").get(process.argv[1], { rejectUnauthorized: false }, (r) => {
      if (r.statusCode != 200) { console.error("meshsettings: HTTP " + r.statusCode); process.exit(1); }
      r.pipe(require("fs").createWriteStream(process.argv[2]));
    }).on("error", (e) => { console.error(e.message); process.exit(1); })' \
    "https://$ZOO_CTL/meshsettings?id=$meshid" "$MC_AGENT_DIR/meshagent.msh"
  grep -q '^MeshServer=wss://' "$MC_AGENT_DIR/meshagent.msh"
  # The agent runs from a folder of its own, as its installer leaves it
  # (meshagent + meshagent.msh; it adds meshagent.db and an IPC socket), or,
  # with ZOO_RENAME=1, renamed and moved (zbin) with NAME.msh beside it.
  local agent
  if [ "${ZOO_RENAME:-0}" = 1 ]; then
    agent=$(zbin "$MC_PKG/agents/meshagent_x86-64")
  else
    agent=$MC_AGENT_DIR/meshagent; cp "$MC_PKG/agents/meshagent_x86-64" "$agent"; chmod 755 "$agent"
  fi
  [ "$agent.msh" = "$MC_AGENT_DIR/meshagent.msh" ] || cp "$MC_AGENT_DIR/meshagent.msh" "$agent.msh"
  # The laptop's screen: an X display with an xterm on it.
  zxvfb $((ZOO_DISPLAY + 1))
  # (the whole screen: a person works in a maximised terminal)
  DISPLAY=:$((ZOO_DISPLAY + 1)) zbg xterm -geometry 132x45+0+0; sleep 0.5
  (cd "$(dirname "$agent")" && DISPLAY=:$((ZOO_DISPLAY + 1)) zbg zinns "$NS_LAP" "$agent" run)
  zwait_cmd 150 mc_agent_online
  mc_agent_settled
  # The person starts a browser, logs in and opens the laptop's page now,
  # and waits there for zoo_session (so the capture is the session).
  rm -f "$ZOO_STATE"/mc-ready "$ZOO_STATE"/mc-go "$ZOO_STATE"/mc-done
  MC_READY=$ZOO_STATE/mc-ready MC_GO=$ZOO_STATE/mc-go MC_DONE=$ZOO_STATE/mc-done \
    zbg zinns "$NS_CTL" env NODE_PATH="$MC_DIR/node_modules" node "$ZOO_REPO/scripts/zoo/meshcentral-drive.js" \
    "https://$ZOO_CTL/" "$MC_USER" "$MC_PASS" "$ZOO_SECS" "$ZOO_STATE/chromium" ${MC_SHOTS:-}
  tail -n 1 "$ZOO_STATE/pids" >"$ZOO_STATE/mc-driver.pid"
  local i
  for i in $(seq 1200); do
    [ -f "$ZOO_STATE/mc-ready" ] && return 0
    [ -f "$ZOO_STATE/mc-done" ] && break
    sleep 0.1
  done
  zlog "MeshCentral web UI: the browser did not get to the device: $(cat "$ZOO_STATE/mc-done" 2>/dev/null)"
  tail -n 20 "$ZOO_STATE/log" >&2; return 1
}

# mc_agent_settled waits until the server has pushed the agent its "mesh
# core" (the JavaScript that does the work, a few hundred KB, on every
# agent start) and the agent's connection has gone quiet, so that a capture
# starts on an agent that has long been running.
mc_agent_settled() {
  local prev=-1 cur quiet=0
  for _ in $(seq 120); do
    cur=$(zinns "$NS_LAP" ss -tinH state established "( dport = :443 )" | grep -o 'bytes_received:[0-9]*' | awk -F: '{s+=$2} END{print s+0}')
    if [ "$cur" -gt 100000 ] && [ "$cur" -eq "$prev" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ $quiet -ge 3 ] && return 0
    prev=$cur; sleep 1
  done
  zlog "the MeshAgent did not settle (received $cur bytes)"; return 1
}

mc_agent_online() { mc_ctrl listdevices --json | grep -q '"conn": *[1-9]'; }

# zoo_session: the waiting browser connects the desktop, works, then the
# terminal, for about ZOO_SECS; this returns when it is done.
zoo_session() {
  touch "$ZOO_STATE/mc-go"
  local pid i
  pid=$(cat "$ZOO_STATE/mc-driver.pid")
  for i in $(seq $(((ZOO_SECS + 120) * 10))); do
    [ -f "$ZOO_STATE/mc-done" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$(cat "$ZOO_STATE/mc-done" 2>/dev/null)" != ok ]; then
    zlog "MeshCentral session failed: $(cat "$ZOO_STATE/mc-done" 2>/dev/null || echo 'no result')"; return 1
  fi
}
