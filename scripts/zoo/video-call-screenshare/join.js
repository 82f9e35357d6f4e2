// A participant: Debian's Chromium (driven by playwright-core) opens the
// call page and stays in the call for SECS seconds, then prints what its
// peer connection sent and received.
// Usage: node join.js URL SECS PROFILE_DIR headless|headed [extra chromium args...]
const { chromium } = require('playwright-core');

const [url, secs, profile, mode, ...extra] = process.argv.slice(2);
(async () => {
  const args = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream',
    '--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required', ...extra];
  if (mode === 'headless') args.unshift('--headless');
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: mode === 'headless', viewport: null, args, ignoreHTTPSErrors: true,
  });
  const page = await ctx.newPage();
  page.on('console', (m) => console.log('page:', m.text()));
  // A headed browser's first tab is sometimes still settling: a navigation
  // it aborts is tried again.
  for (let i = 0; ; i++) {
    try { await page.goto(url, { timeout: 30000 }); break; } catch (e) {
      if (i >= 4) throw e;
      console.log('navigation retried:', String(e).split('\n')[0]);
      await page.waitForTimeout(1000);
    }
  }
  await page.waitForFunction(() => window.callState === 'connected', null, { timeout: 60000 });
  console.log('call connected', url);
  await page.waitForTimeout(Number(secs) * 1000);
  console.log('call stats', JSON.stringify(await page.evaluate(() => window.callStats())));
  await ctx.close();
})().catch((e) => { console.error(e); process.exit(1); });
