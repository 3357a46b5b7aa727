// The people's screens in a real browser: Debian's chromium, headless, driven by playwright-core (never downloads a
// browser). Each test starts its own real Mosquitto (with its WebSocket listener) and kaoko-server through
// kaoko-web-launcher, and checks only what a person sees (and, for refusals, what the HTTP API says).
// Screenshots of every screen, phone (390×844) and desktop (1440×900), go to $KAOKO_SCREENSHOTS.
//
// Environment: KAOKO_LAUNCHER (required), KAOKO_CHROMIUM [/usr/bin/chromium], KAOKO_SCREENSHOTS (optional),
// KAOKO_OFFLINE_MS [5000] how long the watcher stays offline (the "minute", shortened).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { DESKTOP, PHONE, api, assertOnlyKaoko, launchBrowser, person, shot, startKaoko } from './harness.mjs';

const OFFLINE_MS = Number(process.env.KAOKO_OFFLINE_MS || 5000);
const LIVE_MS = 1000;  // "changes reach every open screen within a second"

// Readings over the last half hour for the charts and the river: none older than the late limit (30 minutes), so that
// they read as a station's ordinary reports, not a buffer flushed after an outage (docs/operations.md §10).
async function seedReadings(k) {
  const now = Date.now();
  // Below every watch threshold (and slower than a fast rise): no incident opens before the watcher's report.
  const stations = [['kaoko-bridge', 'kaoko', 190, 5], ['kaoko-temple', 'kaoko', 150, 3], ['huaiphan-weir', 'huaiphan', 120, 6],
    ['thonhong-bridge', 'thonhong', 180, 2], ['nanuea-culvert', 'nanuea', 100, 1], ['pakkhlong-pier', 'pakkhlong', 120, 1]];
  for (const [id, village, start, rise] of stations) {
    for (let i = 0; i < 8; i++) {
      const ts = new Date(now - (7 - i) * 4 * 60e3).toISOString();
      // Up to the same last level as ever, at the same gentle rise per hour.
      const level = start + 7 * rise - (7 - i) * rise * 4 / 40;
      const reading = JSON.stringify({ seq: i + 1, ts, level_cm: level, battery_v: 3.9 });
      const r = await k.pub(id, `kaoko/v1/tonhong/${village}/station/${id}/reading`, reading);
      assert.equal(r, 'ok 0');
    }
  }
}

test('the chain on four screens: watcher reports, committee acks, headman confirms, TAO declares — live everywhere',
  { timeout: 150000 }, async () => {
    const k = await startKaoko();
    const browser = await launchBrowser();
    try {
      await seedReadings(k);
      const tao = await person(browser, k, 'officer-niran', DESKTOP);
      const committee = await person(browser, k, 'prasert', PHONE);
      const headman = await person(browser, k, 'boonmee', PHONE);
      const watcher = await person(browser, k, 'somchai', PHONE);
      await tao.page.waitForSelector('#live-state[data-live="1"]');
      await tao.page.waitForSelector('[data-station="kaoko-bridge"] .station-level');
      assert.equal((await tao.page.textContent('[data-station="kaoko-bridge"] .station-level')).trim(), '225 cm');

      // A reading reaches the TAO's river within a second, without a reload.
      await k.pub('kaoko-bridge', 'kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading',
        JSON.stringify({ seq: 9, ts: new Date().toISOString(), level_cm: 231, battery_v: 3.9 }));
      await tao.page.waitForFunction(() => document.querySelector('[data-station="kaoko-bridge"] .station-level').textContent === '231 cm',
        null, { timeout: LIVE_MS + 500 });

      // The watcher reports from the phone (MQTT over WebSockets, own credentials).
      const w = watcher.page;
      await w.waitForSelector('#net[data-online="1"]', { timeout: 15000 });
      await shot(w, 'watcher-phone');
      await w.fill('#level', '300');
      await w.click('[data-step="10"]');
      await w.click('[data-step="10"]');
      assert.equal(await w.inputValue('#level'), '320');
      await w.click('label.choice:has(input[value="rising"])');
      await w.click('label.choice:has(input[value="warning"])');
      await w.fill('#note', 'น้ำขึ้นเร็ว ถึงคอสะพานแล้ว');
      await w.click('#send');
      await w.waitForSelector('#outbox li.ok', { timeout: 10000 });
      assert.match(await w.textContent('#outbox li.ok'), /1/);  // the receipt names incident 1

      // Every screen shows the new incident without a reload.
      await committee.page.waitForSelector('#todo [data-incident="1"]', { timeout: LIVE_MS + 1000 });
      await tao.page.waitForSelector('#queue tr[data-incident="1"]', { timeout: LIVE_MS + 1000 });
      await w.waitForSelector('#alert.bg-warning, #alert.bg-watch', { timeout: LIVE_MS + 1000 });
      await shot(w, 'watcher-receipt-phone');

      // A wrong-role action is refused by the server, and nothing changes.
      const before = await api(k, 'GET', '/api/v1/incidents/1');
      const refused = await w.evaluate(async () => {
        const r = await fetch('/api/v1/incidents/1/decisions', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('kaoko.csrf') },
          body: JSON.stringify({ id: 'd-w1', ts: new Date().toISOString(), incident: 1, action: 'confirm' }) });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error, /headman/);
      const after = await api(k, 'GET', '/api/v1/incidents/1');
      assert.deepEqual(after.data, before.data);

      // The committee member acknowledges with a note.
      const c = committee.page;
      await c.click('#todo [data-incident="1"] button');
      await c.waitForSelector('#detail [data-action="ack"]');
      await c.fill('#decision-note', 'รับทราบ กำลังไปดู');
      await c.click('#detail [data-action="ack"]');
      await c.waitForSelector('#decision-result.ok');
      // …and the headman is asked at once, live.
      const h = headman.page;
      await h.waitForSelector('#todo [data-incident="1"]', { timeout: LIVE_MS + 1000 });
      await shot(c, 'village-committee-phone');
      await h.click('#todo [data-incident="1"] button');
      await h.waitForSelector('#detail [data-action="confirm"]');
      await h.waitForSelector('#detail .chart svg polyline');
      await shot(h, 'village-headman-phone');
      await h.fill('#decision-note', 'เห็นด้วยตา');
      await h.click('#detail [data-action="confirm"]');
      await h.waitForSelector('#decision-result.ok');
      await tao.page.waitForFunction(() => /ส่งถึง อบต. แล้ว|escalated/.test(document.querySelector('#queue tr[data-incident="1"] .stage').textContent),
        null, { timeout: LIVE_MS + 500 });

      // The TAO declares; the headman's and the watcher's screens follow within a second.
      const t = tao.page;
      await t.selectOption('#queue select[data-declare-level="1"]', 'warning');
      await t.click('#queue tr[data-incident="1"] [data-action="declare"]');
      await t.waitForSelector('#action-result.ok');
      const declaredAt = Date.now();
      await h.waitForFunction(() => /อบต. ประกาศแล้ว|declared/.test(document.getElementById('detail-stage').textContent),
        null, { timeout: LIVE_MS + 500 });
      await w.waitForSelector('#alert.bg-warning', { timeout: LIVE_MS + 500 });
      console.log(`declare → headman and watcher screens: ${Date.now() - declaredAt} ms`);
      const inc = await api(k, 'GET', '/api/v1/incidents/1');
      assert.equal(inc.data.status, 'declared');
      assert.equal(inc.data.acked_by, 'prasert');
      assert.equal(inc.data.confirmed_by, 'boonmee');
      assert.equal(inc.data.declared_by, 'officer-niran');
      assert.ok(inc.data.timeline.some((e) => e.via === 'http' && e.actor === 'boonmee'));

      // Screenshots of every screen at both sizes, Thai first; the TAO's in English too.
      await shot(t, 'tao-desktop', DESKTOP);
      await shot(t, 'tao-phone', PHONE);
      await t.setViewportSize(DESKTOP);
      await t.click('[data-lang-toggle]');
      await shot(t, 'tao-desktop-en', DESKTOP);
      await t.click('[data-lang-toggle]');
      await shot(h, 'village-headman-desktop', DESKTOP);
      await shot(w, 'watcher-desktop', DESKTOP);
      const report = await t.context().newPage();
      await report.goto(k.base + '/api/v1/incidents/1/report');
      await shot(report, 'report-desktop', DESKTOP);
      const login = await browser.newPage({ viewport: PHONE });
      await login.goto(k.base + '/');
      await shot(login, 'login-phone');
      await shot(login, 'login-desktop', DESKTOP);

      // Silence a station and start a drill from the dashboard.
      await t.selectOption('tr[data-station="nanuea-culvert"] select', '60');
      await t.click('[data-silence="nanuea-culvert"]');
      await t.waitForSelector('#action-result.ok');
      assert.ok((await api(k, 'GET', '/api/v1/stations')).data.find((s) => s.id === 'nanuea-culvert').silenced_until);
      await t.selectOption('#drill-village', 'pakkhlong');
      await t.click('#drill-start');
      await t.waitForSelector('#action-result.ok');
      await t.waitForSelector('#queue tr .exercise-tag', { timeout: LIVE_MS + 1000 });

      for (const p of [tao.page, committee.page, headman.page, watcher.page]) assertOnlyKaoko(p, k);
    } finally {
      await browser.close();
      await k.stop();
    }
  });

test('a watcher offline for a while keeps the report and sends it when the network is back', { timeout: 90000 }, async () => {
  const k = await startKaoko();
  const browser = await launchBrowser();
  try {
    const watcher = await person(browser, k, 'malee', PHONE);
    const w = watcher.page;
    await w.waitForSelector('#net[data-online="1"]', { timeout: 15000 });
    await watcher.context.setOffline(true);
    await w.waitForSelector('#net[data-online="0"]');
    await w.fill('#level', '335');
    await w.click('label.choice:has(input[value="critical"])');
    await w.fill('#note', 'ส่งตอนไม่มีสัญญาณ');
    await w.click('#send');
    await w.waitForSelector('#outbox li.wait');
    await shot(w, 'watcher-offline-phone');
    // It survives a reload of the page while offline? No: the page itself needs the network. It stays in localStorage.
    const kept = JSON.parse(await w.evaluate(() => localStorage.getItem('kaoko.outbox.malee')));
    assert.equal(kept.length, 1, JSON.stringify(kept));
    await w.waitForTimeout(OFFLINE_MS);
    assert.deepEqual((await api(k, 'GET', '/api/v1/incidents?status=all')).data, []);
    await watcher.context.setOffline(false);
    await w.waitForSelector('#outbox li.ok', { timeout: 20000 });
    // Ban Kao Ko's incident (a warning upstream also opens watches downstream).
    const incidents = (await api(k, 'GET', '/api/v1/incidents?status=all')).data.filter((i) => i.village === 'kaoko');
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0].origin, 'watcher');
    assertOnlyKaoko(w, k);
  } finally {
    await browser.close();
    await k.stop();
  }
});

test('the live feed needs a session and this site as its origin', { timeout: 60000 }, async () => {
  const k = await startKaoko();
  try {
    // The WebSocket handshake: { status } when refused, { status: 101, socket } when upgraded.
    const connect = (headers) => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: k.http, path: '/api/v1/live', headers: Object.assign({
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' }, headers) });
      req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode }); });
      req.on('upgrade', (res, socket) => resolve({ status: 101, socket }));
      req.on('error', reject);
      req.end();
    });
    const upgrade = async (headers) => {
      const c = await connect(headers);
      if (c.socket) c.socket.destroy();
      return c.status;
    };
    assert.equal(await upgrade({}), 401);
    const login = await fetch(k.base + '/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'officer-pim', password: 'demo-officer-pim' }) });
    const cookie = login.headers.get('set-cookie').split(';')[0];
    assert.equal(await upgrade({ Cookie: cookie, Origin: 'http://evil.example' }), 403);
    assert.equal(await upgrade({ Cookie: cookie, Origin: `http://127.0.0.1:${k.http}` }), 101);

    // /metrics counts the screens on the feed, and a screen that goes away (its socket simply closed, as a phone
    // that loses its network) is counted out: with no screen left the core stops building live events.
    const sessions = async () => {
      const text = await (await fetch(k.base + '/metrics')).text();
      const m = /^kaoko_live_sessions (\d+)$/m.exec(text);
      assert.ok(m, 'kaoko_live_sessions in /metrics');
      return Number(m[1]);
    };
    const until = async (want) => {
      const end = Date.now() + 10000;
      let got;
      while ((got = await sessions()) !== want && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(got, want, `kaoko_live_sessions should become ${want}`);
    };
    await until(0);
    const open = async () => {
      const c = await connect({ Cookie: cookie, Origin: `http://127.0.0.1:${k.http}` });
      assert.equal(c.status, 101, 'the live feed upgrades');
      return c.socket;
    };
    const first = await open();
    const second = await open();
    await until(2);
    first.destroy();
    await until(1);
    second.destroy();
    await until(0);
  } finally {
    await k.stop();
  }
});

// The "seen": a page reports what it showed, and only while visible. Prasert's tab starts hidden; Boonmee's
// page is open and visible when his ask arrives.
test('a delivery is seen when the person\'s own visible page showed it, not while the tab is hidden', { timeout: 120000 }, async () => {
  const k = await startKaoko(['--with-sms-stub']);
  const browser = await launchBrowser();
  try {
    const committee = await browser.newContext({ viewport: DESKTOP, locale: 'th-TH', timezoneId: 'Asia/Bangkok' });
    await committee.addInitScript(() => {
      window.__visibility = 'hidden';
      Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return window.__visibility; } });
    });
    const c = await committee.newPage();
    await c.goto(k.base + '/');
    await c.fill('#user', 'prasert');
    await c.fill('#password', 'demo-prasert');
    await c.click('#login-submit');
    await c.waitForSelector('header.bar .who', { timeout: 10000 });
    const headman = await person(browser, k, 'boonmee', DESKTOP);
    const h = headman.page;
    assert.equal(await h.evaluate(() => document.visibilityState), 'visible');

    const report = JSON.stringify({ id: 'r-seen', ts: new Date().toISOString(), concern: 'warning', station: 'kaoko-bridge',
      level_cm: 330, trend: 'rising' });
    assert.equal(await k.pub('somchai', 'kaoko/v1/tonhong/kaoko/report/somchai', report), 'ok 0');
    const rows = async (user) => ((await api(k, 'GET', '/api/v1/incidents/1')).data?.deliveries || [])
      .filter((d) => d.person === user && d.channel === 'web');
    // Prasert's page has the ask on it, but in a hidden tab: not seen.
    await c.waitForSelector('#todo li[data-incident="1"]', { timeout: 15000 });
    await c.waitForTimeout(1500);
    let mine = await rows('prasert');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].state, 'queued');
    assert.equal(mine[0].seen, null);
    // He brings the tab forward: now it is seen, with the time.
    await c.evaluate(() => { window.__visibility = 'visible'; document.dispatchEvent(new Event('visibilitychange')); });
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && (await rows('prasert'))[0].state !== 'seen') await c.waitForTimeout(200);
    mine = await rows('prasert');
    assert.equal(mine[0].state, 'seen');
    assert.ok(mine[0].seen && !Number.isNaN(Date.parse(mine[0].seen)));

    // He acknowledges: the headman is asked to confirm, on the page he has open.
    await c.click('#todo li[data-incident="1"] button');
    await c.click('[data-action="ack"]');
    await h.waitForSelector('#todo li[data-incident="1"]', { timeout: 15000 });
    const until = Date.now() + 10000;
    while (Date.now() < until && !(await rows('boonmee')).some((d) => d.state === 'seen')) await h.waitForTimeout(200);
    const his = await rows('boonmee');
    assert.ok(his.length >= 1, 'the headman has a web delivery');
    for (const d of his) {
      assert.equal(d.state, 'seen');
      assert.ok(d.seen && !Number.isNaN(Date.parse(d.seen)));
    }
    // Every one of his deliveries of that notification is seen, whatever the channel (his SMS waits on a dead gateway).
    const inc = (await api(k, 'GET', '/api/v1/incidents/1')).data;
    for (const d of inc.deliveries.filter((x) => x.person === 'boonmee' && x.notification === his[0].notification)) {
      assert.ok(['seen', 'failed', 'expired'].includes(d.state), `${d.channel}: ${d.state}`);
    }
    const reach = inc.reach.find((r) => r.user === 'boonmee');
    assert.equal(reach.state, 'seen');
    assert.ok(reach.at);
    await committee.close();
    await headman.context.close();
  } finally {
    await browser.close();
    await k.stop();
  }
});

test('a flood wave from upstream: every screen counts down to its arrival with the upstream level, and the reject waits',
  { timeout: 120000 }, async () => {
  const k = await startKaoko();
  const browser = await launchBrowser();
  try {
    // Kao Ko's bridge over its warning line twice: its station opens a warning, which warns every village downstream.
    const now = Date.now();
    for (const [seq, ago] of [[1, 10], [2, 0]]) {
      const reading = JSON.stringify({ seq, ts: new Date(now - ago * 60e3).toISOString(), level_cm: 330, battery_v: 3.9 });
      assert.equal(await k.pub('kaoko-bridge', 'kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading', reading), 'ok 0');
    }
    let alert = null;
    const until = Date.now() + 15000;
    while (Date.now() < until && !(alert && alert.upstream)) {
      alert = ((await api(k, 'GET', '/api/v1/villages')).data || []).find((v) => v.village === 'thonhong');
      if (!(alert && alert.upstream)) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(alert && alert.upstream, 'Thon Hong is on watch from upstream');
    assert.equal(alert.upstream.village, 'kaoko');
    assert.equal(alert.upstream.level, 'warning');
    const arrival = Date.parse(alert.upstream.expected_arrival);
    assert.ok(arrival > Date.now());

    // Thon Hong's headman, on his phone: the banner names Kao Ko at warning and counts down to the arrival.
    const headman = await person(browser, k, 'kittisak', PHONE);
    const h = headman.page;
    await h.waitForSelector('#alert .upstream[data-upstream="kaoko"] [data-arrival]', { timeout: 15000 });
    const shown = async () => h.evaluate(() => {
      const e = document.querySelector('#alert .upstream [data-arrival] [lang="en"]');
      return { text: e.textContent, badge: document.querySelector('#alert .upstream .level').className };
    });
    const parse = (t) => {
      const m = /expected in (?:(\d+):)?(\d+):(\d+)/.exec(t);
      assert.ok(m, t);
      return (Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
    };
    let s = await shown();
    assert.match(s.badge, /lv-warning/);
    const left1 = parse(s.text);
    assert.ok(Math.abs(left1 - (arrival - Date.now())) < 2000, `${s.text} against ${alert.upstream.expected_arrival}`);
    await h.waitForTimeout(2200);
    s = await shown();
    const left2 = parse(s.text);
    assert.ok(left1 - left2 >= 1000 && left1 - left2 <= 4000, `the countdown runs: ${left1} then ${left2}`);

    // He opens the watch: reject is not offered, the page says why, and kaoko refuses it anyway.
    await h.click(`#incidents [data-open="${alert.incident}"]`);
    await h.waitForSelector('#reject-held', { timeout: 10000 });
    assert.equal(await h.$('[data-action="reject"]'), null);
    const refused = await h.evaluate(async (id) => (await K.api('POST', `/api/v1/incidents/${id}/decisions`,
      { id: 'd-up', ts: new Date().toISOString(), incident: id, action: 'reject' })), alert.incident);
    assert.equal(refused.status, 409);
    assert.match(refused.data.error, /still coming/);

    // The TAO's dashboard shows it on the watch's row.
    const tao = await person(browser, k, 'officer-niran', DESKTOP);
    await tao.page.waitForSelector(`#queue tr[data-incident="${alert.incident}"] .upstream [data-arrival]`, { timeout: 15000 });
    await headman.context.close();
    await tao.context.close();
  } finally {
    await browser.close();
    await k.stop();
  }
});
