// A person at a browser: headless Chromium (Debian's, driven by
// playwright-core) opens noVNC's vnc.html served by websockify, connects,
// and works in the remote terminal for SECS seconds: commands typed one key
// at a time (200–400 ms apart), Enter, a pause to read, mouse moves over
// the remote screen.
// Then it writes DONE_FILE and stays connected, as a viewer left open,
// until it is ended.
// Usage: node drive.js URL SECS PROFILE_DIR DONE_FILE
const { chromium } = require('playwright-core');

const fs = require('fs');
const [url, secs, profile, done] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rnd = (a, b) => a + Math.floor(Math.random() * (b - a + 1));
const cmds = ['ls -l /usr/bin | head -40', 'df -h', 'ps aux | head -30', 'ls -la /etc | tail -35',
  'free -m', 'head -40 /etc/services', 'uname -a', 'env | sort | head -30'];

(async () => {
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1024, height: 768 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  await page.goto(url, { timeout: 30000 });
  const canvas = page.locator('#noVNC_container canvas');
  await canvas.waitFor({ state: 'visible', timeout: 30000 });
  // Connected once noVNC has drawn the remote screen at its size.
  await page.waitForFunction(() => {
    const c = document.querySelector('#noVNC_container canvas');
    return c && c.width >= 640 && document.documentElement.classList.contains('noVNC_connected');
  }, null, { timeout: 30000 });
  console.log('noVNC connected');
  let box = await canvas.boundingBox();
  await page.mouse.click(box.x + 300, box.y + 200);
  const end = Date.now() + Number(secs) * 1000;
  for (let i = 0; Date.now() < end; i++) {
    for (const ch of cmds[i % cmds.length]) {
      await page.keyboard.type(ch);
      await sleep(rnd(200, 400));
    }
    await page.keyboard.press('Enter');
    box = await canvas.boundingBox();
    for (const x of [120, 260, 400, 540]) {
      await page.mouse.move(box.x + x, box.y + rnd(150, 450), { steps: 5 });
      await sleep(rnd(100, 300));
    }
    await sleep(rnd(1000, 1800));
  }
  fs.writeFileSync(done, 'done\n');
  await new Promise(() => {});
})().catch((e) => { console.error(e); process.exit(1); });
