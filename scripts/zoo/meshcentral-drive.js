// The person at the controls of a MeshCentral server: headless Debian
// chromium (driven by playwright-core) logs in to the real web UI, opens the
// one device, connects its remote desktop and works in the laptop's xterm
// (mouse moves, clicks, typing at 200–400 ms a key), then opens the remote
// terminal and types commands there.
//
// usage: node meshcentral-drive.js URL USER PASS SECONDS PROFILEDIR [SHOTDIR]
// Runs in the controller's namespace; the browser reaches nothing else.
// Environment: MC_READY (a file written once logged in with the device
// open), MC_GO (a file to wait for before connecting), MC_DONE (a file that
// gets "ok" or the error at the end).
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');

const [url, user, pass, secsArg, profile, shots] = process.argv.slice(2);
const secs = Number(secsArg || 40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const human = () => 200 + Math.floor(Math.random() * 201); // 200–400 ms
const t0 = Date.now();
const log = (...a) => console.error(`meshcentral-drive: ${((Date.now() - t0) / 1000).toFixed(1)}s`, ...a);

async function shot(page, name) {
  if (shots) { try { await page.screenshot({ path: `${shots}/${name}.png` }); } catch (e) { log('screenshot', e.message); } }
}

// typeHuman types text one key at a time at a human pace.
async function typeHuman(page, text) {
  for (const ch of text) {
    if (ch === '\n') await page.keyboard.press('Enter'); else await page.keyboard.type(ch);
    await sleep(human());
  }
}

async function main() {
  fs.rmSync(profile, { recursive: true, force: true });
  fs.mkdirSync(profile, { recursive: true });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-features=MediaRouter,OptimizationHints,Translate', '--disable-dev-shm-usage'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(30000);

  // Log in like a person.
  log('browser up');
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  // (quickly: the login is not on the laptop's wire; the session below is)
  await page.click('#username');
  await page.keyboard.type(user, { delay: 90 });
  await page.click('#password');
  await page.keyboard.type(pass, { delay: 90 });
  await page.click('#loginButton');
  log('logged in');
  await page.waitForFunction(() => typeof nodes !== 'undefined' && Array.isArray(nodes) && nodes.length > 0 && nodes.some((n) => n.conn & 1), null, { timeout: 60000 });
  await sleep(800);
  await shot(page, '1-devices');

  // Open the one device, in its Desktop tab.
  const nodeid = await page.evaluate(() => nodes.find((n) => n.conn & 1)._id);
  log('device', nodeid);
  await page.mouse.move(300, 300, { steps: 5 });
  await sleep(human());
  const name = await page.evaluate((id) => nodes.find((n) => n._id == id).name, nodeid);
  const item = page.getByText(name, { exact: true }).first();
  try { await item.click({ timeout: 5000 }); } catch (e) { log('device list click:', e.message); }
  if (!(await page.locator('#MainDevDesktop').isVisible())) await page.evaluate((id) => gotoDevice(id, 10), nodeid);
  await sleep(1000);
  await shot(page, '1b-device');

  // With MC_READY/MC_GO set (scripts/zoo/meshcentral.sh), the person waits
  // here, logged in and looking at the device, until the session starts.
  if (process.env.MC_GO) {
    fs.writeFileSync(process.env.MC_READY, 'ready\n');
    log('ready, waiting for', process.env.MC_GO);
    while (!fs.existsSync(process.env.MC_GO)) await sleep(100);
    log('go');
  }
  const end = Date.now() + Math.max(secs, 20) * 1000;
  await page.click('#MainDevDesktop');
  await page.waitForSelector('#connectbutton1:not([disabled])');
  await sleep(human());
  await page.click('#connectbutton1');
  // Wait until the remote screen is drawn (the desktop session is up).
  await page.waitForFunction(() => typeof desktop !== 'undefined' && desktop != null && desktop.State == 3, null, { timeout: 60000 });
  log('desktop connected');
  await sleep(2500);
  await shot(page, '2-desktop');

  // The canvas takes the remote screen's size with the first frame.
  await page.waitForFunction(() => { const c = document.getElementById('Desk'); return c && c.width > 300 && !(c.width == 640 && c.height == 480); }, null, { timeout: 30000 }).catch(() => log('canvas size not seen'));
  await sleep(300);
  const desk = await page.locator('#Desk').boundingBox();
  const [rw, rh] = await page.evaluate(() => [document.getElementById('Desk').width, document.getElementById('Desk').height]);
  log('canvas', rw, 'x', rh, 'shown at', JSON.stringify(desk));
  // Remote screen coordinates → page coordinates on the scaled canvas.
  const at = (x, y) => [desk.x + (x * desk.width) / rw, desk.y + (y * desk.height) / rh];
  const move = async (x, y) => { const [px, py] = at(x, y); await page.mouse.move(px, py, { steps: 8 }); };

  // The session, SECONDS long from "go": about half of it on the desktop
  // (a little more: a command is typed to its end), the rest in the terminal.
  // Desktop: click into the xterm and type commands, moving the mouse.
  const deskEnd = Date.now() + (end - Date.now()) * 0.5;
  await move(200, 150);
  const [cx, cy] = at(200, 150);
  await page.mouse.click(cx, cy);
  const deskCmds = ['ls -l /usr/bin', 'date', 'cat /etc/services', 'ls -l /etc', 'free -m', 'ls -l /usr/share/doc', 'uptime', 'ls -la /usr/lib'];
  let n = 0;
  while (Date.now() < deskEnd) {
    await typeHuman(page, deskCmds[n++ % deskCmds.length] + '\n');
    for (const x of [120, 200, 280, 360, 300]) { await move(x, 60 + Math.floor(Math.random() * 200)); await sleep(100 + Math.floor(Math.random() * 200)); }
    await sleep(500 + Math.floor(Math.random() * 500));
    if (n === 1) await shot(page, '3-typed');
  }
  await shot(page, '4-desktop-end');

  // Terminal tab: the agent's remote shell.
  log('terminal');
  await page.click('#MainDevTerminal');
  await page.waitForSelector('#connectbutton2:not([disabled])');
  await sleep(human());
  await page.click('#connectbutton2');
  await page.waitForFunction(() => typeof terminal !== 'undefined' && terminal != null && terminal.State == 3, null, { timeout: 60000 });
  await sleep(1500);
  const term = await page.locator('#Term').boundingBox().catch(() => null);
  if (term) await page.mouse.click(term.x + 50, term.y + 50);
  const cmds = ['uname -a', 'id', 'ls /', 'ps aux | head -5', 'df -h | head -3', 'ip addr | head'];
  let i = 0;
  while (Date.now() < end) {
    await typeHuman(page, cmds[i++ % cmds.length] + '\n');
    await sleep(800 + Math.floor(Math.random() * 700));
  }
  await shot(page, '5-terminal');
  await ctx.close();
  log('done');
}

const done = (msg, code) => { if (process.env.MC_DONE) fs.writeFileSync(process.env.MC_DONE, msg + '\n'); process.exit(code); };
main().then(() => done('ok', 0), (e) => { log(e.stack || e); done(String(e.message || e), 1); });
