// The meeting service: serves the call page and relays signalling (SDP
// offers/answers and ICE candidates) between the two participants of a
// room: POST /send?room=R&from=ID with a JSON body, GET /events?room=R&id=ID
// is an EventSource stream of the other participants' messages. Media never
// passes through it (peer to peer, as a call on an open network).
// Usage: node signal.js ADDR PORT CERT KEY (HTTPS, as meeting services are)
const https = require('https');
const fs = require('fs');
const path = require('path');

const [addr, port, cert, key] = process.argv.slice(2);
const page = fs.readFileSync(path.join(__dirname, 'call.html'));
const rooms = new Map(); // room -> Map(id -> res)

https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const u = new URL(req.url, 'http://x');
  const room = u.searchParams.get('room') || 'r';
  if (!rooms.has(room)) rooms.set(room, new Map());
  const peers = rooms.get(room);
  if (u.pathname === '/' || u.pathname === '/call.html') {
    res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': page.length });
    res.end(page);
  } else if (u.pathname === '/events') {
    const id = u.searchParams.get('id');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(': hello\n\n');
    const others = [...peers.keys()].filter((p) => p !== id);
    peers.set(id, res);
    // Tell both sides who is there: the later one makes the offer.
    for (const o of others) {
      res.write(`data: ${JSON.stringify({ type: 'peer', id: o, polite: true })}\n\n`);
      peers.get(o).write(`data: ${JSON.stringify({ type: 'peer', id, polite: false })}\n\n`);
    }
    req.on('close', () => { if (peers.get(id) === res) peers.delete(id); });
  } else if (u.pathname === '/send' && req.method === 'POST') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const from = u.searchParams.get('from');
      for (const [id, r] of peers) if (id !== from) r.write(`data: ${body}\n\n`);
      res.writeHead(204); res.end();
    });
  } else {
    res.writeHead(404); res.end();
  }
}).listen(Number(port), addr, () => console.log(`meeting service on ${addr}:${port}`));
