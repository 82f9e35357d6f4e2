# A streaming session to the laptop (must stay quiet): a live HLS channel
# (ffmpeg encoding a 640x360 H.264 + AAC programme at ~500 kbit/s into 2 s
# segments, a sliding playlist) served over HTTPS by an origin in the
# controller's namespace; the laptop's player (ffmpeg's HLS client, as
# mpv/ffplay use it) connects OUT, reloads the playlist and fetches each new
# segment as it appears, decoding it for the session's length. Media flows
# into the laptop in 2-second bursts; only requests go out.
zoo_install() { zapt ffmpeg openssl python3 tcpdump ethtool iproute2; }
zoo_setup() {
  local s="$ZOO_STATE/streaming"
  rm -rf "$s"; mkdir -p "$s/live"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=live.example.net" \
    -keyout "$s/key.pem" -out "$s/cert.pem" 2>/dev/null
  zbg zinns $NS_CTL ffmpeg -nostdin -loglevel error -re \
    -f lavfi -i "testsrc2=size=640x360:rate=25" -f lavfi -i "sine=frequency=330:sample_rate=48000" \
    -c:v libx264 -preset veryfast -b:v 400k -maxrate 450k -bufsize 900k -g 50 -keyint_min 50 -sc_threshold 0 \
    -pix_fmt yuv420p -c:a aac -b:a 64k -ac 2 \
    -f hls -hls_time 2 -hls_list_size 6 -hls_flags delete_segments+independent_segments \
    -hls_segment_filename "$s/live/seg-%05d.ts" "$s/live/index.m3u8"
  zbg zinns $NS_CTL python3 "$ZOO_REPO/scripts/zoo/streaming/serve.py" $ZOO_CTL 443 "$s" "$s/cert.pem" "$s/key.pem"
  zwait_port $NS_CTL $ZOO_CTL 443
  # A live channel has a few segments in its playlist before anyone plays it.
  zwait_cmd 100 sh -c "[ \$(grep -c '^seg-' '$s/live/index.m3u8' 2>/dev/null || echo 0) -ge 3 ]"
}
zoo_session() {
  zinns $NS_LAP timeout -s INT "$ZOO_SECS" "$(zbin ffmpeg)" -nostdin -loglevel error \
    -i "https://$ZOO_CTL/live/index.m3u8" -f null - >>"$ZOO_STATE/log" 2>&1 || true
}
