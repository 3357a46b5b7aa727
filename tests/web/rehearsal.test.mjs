// A rehearsal with people (issue 24, docs/operations.md "ซ้อมกับอาสาสมัคร · A drill with the volunteers"): kaoko's
// clock runs 120 times faster than real time while the people's steps keep their real durations
// (--rehearsal-human-time). The people are the accounts ./kaoko demo leaves to humans (Ban Thon Hong and officer
// Pim). Their pages must run on kaoko's clock, not the browser's: the countdown, the charts and the `ts` of what
// they send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, api, assertOnlyKaoko, launchBrowser, person, shot, startKaoko } from './harness.mjs';

const RATE = 120;

// "h:mm:ss" / "m:ss" (maybe with a leading minus) → seconds.
function seconds(text) {
  const m = /^(−?)(?:(\d+):)?(\d+):(\d\d)$/.exec(text.trim());
  assert.ok(m, `a countdown, got '${text}'`);
  const s = Number(m[2] || 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}

// How far the page's idea of kaoko's time (K.now()) is from kaoko's own (GET /api/v1/clock), in rehearsal ms. The
// service reads its clock somewhere inside the request's round trip: the best of five, compared at its middle, with
// the error that the round trip leaves (half of it, at the clock's rate).
async function pageClockError(page) {
  return page.evaluate(async () => {
    let best = null;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c = await (await fetch('/api/v1/clock')).json();
      const t1 = performance.now();
      const pageAtMiddle = window.K.now() - ((t1 - t0) / 2) * c.rate;
      const e = { error: pageAtMiddle - Date.parse(c.now), slack: ((t1 - t0) / 2) * c.rate, rtt: t1 - t0 };
      if (!best || e.rtt < best.rtt) best = e;
    }
    return best;
  });
}

async function kaokoNow(k) {
  return Date.parse((await api(k, 'GET', '/api/v1/clock')).data.now);
}

test('a rehearsal at 120x with people: pages on kaoko\'s clock, people at real time, the confirm lands on its step',
  { timeout: 150000 }, async () => {
    const origin = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const k = await startKaoko(['--time-scale', String(RATE), '--time-origin', origin, '--rehearsal-human-time']);
    const browser = await launchBrowser();
    try {
      // The service says its clock.
      const clock = (await api(k, 'GET', '/api/v1/clock')).data;
      assert.equal(clock.rate, RATE);
      assert.equal(clock.rehearsal, true);
      assert.equal(clock.human_deadlines, 'real');
      assert.ok(Math.abs(Date.parse(clock.now) - (Date.parse(origin) + (Date.now() - Date.parse(origin)) * RATE)) < 5 * RATE * 1000,
        `kaoko's clock ${clock.now} runs from ${origin} at ${RATE}x`);

      const watcher = await person(browser, k, 'surin', PHONE);
      const committee = await person(browser, k, 'pranee', PHONE);
      const headman = await person(browser, k, 'kittisak', PHONE);
      const tao = await person(browser, k, 'officer-pim', DESKTOP);
      // Every screen says it is a rehearsal, how fast the river runs, and that people keep real time.
      for (const p of [watcher.page, committee.page, headman.page, tao.page]) {
        await p.waitForSelector('#rehearsal-banner', { timeout: 10000 });
        const banner = await p.textContent('#rehearsal-banner');
        assert.match(banner, /ซ้อม/);
        assert.match(banner, /120×/);
        assert.match(banner, /เวลาคนตามจริง/);
        assert.match(banner, /people at real time/);
      }

      // The watcher reports from the phone: the report's ts is kaoko's time, not the phone's.
      const w = watcher.page;
      await w.waitForSelector('#net[data-online="1"]', { timeout: 15000 });
      await w.fill('#level', '330');
      await w.click('label.choice:has(input[value="rising"])');
      await w.click('label.choice:has(input[value="warning"])');
      const beforeSend = await kaokoNow(k);
      await w.click('#send');
      await w.waitForSelector('#outbox li.ok', { timeout: 15000 });
      const sentTs = await w.evaluate(() => JSON.parse(localStorage.getItem('kaoko.outbox.surin'))[0].msg.ts);
      const afterSend = await kaokoNow(k);
      // Between kaoko's time before the tap and after the receipt (a second of rehearsal time either side).
      assert.ok(Date.parse(sentTs) >= beforeSend - 1000 && Date.parse(sentTs) <= afterSend + 1000,
        `the report's ts ${sentTs} is kaoko's time (${new Date(beforeSend).toISOString()} … ${new Date(afterSend).toISOString()}), not the phone's`);
      const incident = (await api(k, 'GET', '/api/v1/incidents?status=all')).data.find((i) => i.village === 'thonhong');
      assert.ok(incident, 'the report opened an incident in Ban Thon Hong');
      const id = incident.id;

      // The committee's countdown: kaoko's time, and the ask's 10 minutes in real time (people at real time).
      const c = committee.page;
      await c.waitForSelector(`#todo [data-incident="${id}"] .countdown[data-deadline]`, { timeout: 10000 });
      // The page has synced a few times (at start and in its first seconds), as it does by itself.
      await c.waitForFunction(() => window.K.clock.syncs >= 3, null, { timeout: 15000 });
      const sync = await pageClockError(c);
      console.log(`page clock vs kaoko's: ${sync.error.toFixed(0)} ms of rehearsal time (round trip ${sync.rtt.toFixed(1)} ms)`);
      assert.ok(Math.abs(sync.error) <= 1000 + sync.slack,
        `the page keeps kaoko's clock within a second of rehearsal time: off by ${sync.error} ms`);
      const shown = await c.evaluate((sel) => {
        const e = document.querySelector(sel);
        window.K.tickCountdowns();
        return { text: e.textContent, deadline: e.dataset.deadline, at: Number(e.dataset.at), now: window.K.now() };
      }, `#todo [data-incident="${id}"] .countdown`);
      const left = (Date.parse(shown.deadline) - shown.at) / RATE / 1000;  // real seconds: people at real time
      assert.ok(Math.abs(seconds(shown.text) - left) <= 1, `countdown '${shown.text}' for ${left.toFixed(1)} s left`);
      assert.ok(Math.abs(shown.at - shown.now) <= 1000, 'the countdown was drawn at kaoko\'s time now');
      const serverLeft = (Date.parse(shown.deadline) - (await kaokoNow(k))) / RATE / 1000;
      assert.ok(serverLeft > 9 * 60 && serverLeft <= 10 * 60, `the committee has its real 10 minutes: ${serverLeft} s left`);
      assert.ok(Math.abs(seconds(shown.text) - serverLeft) <= 2, `countdown '${shown.text}' vs kaoko's ${serverLeft.toFixed(1)} s`);
      await shot(c, 'rehearsal-committee-phone');

      // The chart's window ends at kaoko's now.
      const beforeChart = await kaokoNow(k);
      await c.click(`#todo [data-incident="${id}"] button`);
      await c.waitForSelector('#detail .chart svg');
      const chartEnd = await c.evaluate(() => Number(document.querySelector('#detail .chart').dataset.to));
      const afterChart = await kaokoNow(k);
      assert.ok(chartEnd >= beforeChart - 1000 && chartEnd <= afterChart + 1000, 'the chart ends at kaoko\'s now');

      // The committee acknowledges, the headman confirms: the confirm lands on the confirmation step.
      await c.click('#detail [data-action="ack"]');
      await c.waitForSelector('#decision-result.ok');
      const h = headman.page;
      await h.waitForSelector(`#todo [data-incident="${id}"]`, { timeout: 10000 });
      assert.equal((await api(k, 'GET', `/api/v1/incidents/${id}`)).data.status, 'awaiting_confirmation');
      await h.click(`#todo [data-incident="${id}"] button`);
      await h.waitForSelector('#detail [data-action="confirm"]');
      const beforeConfirm = await kaokoNow(k);
      await h.click('#detail [data-action="confirm"]');
      await h.waitForSelector('#decision-result.ok');
      const confirmedAt = await kaokoNow(k);
      const inc = (await api(k, 'GET', `/api/v1/incidents/${id}`)).data;
      assert.equal(inc.confirmed_by, 'kittisak');
      assert.ok(['confirmed', 'escalated'].includes(inc.status), `after the confirm: ${inc.status}`);
      assert.ok(!inc.unconfirmed, 'no step timed out: the people had their real minutes');
      const entry = inc.timeline.find((e) => e.actor === 'kittisak' && e.via === 'http');
      assert.ok(entry, 'the headman\'s confirm is on the timeline');
      assert.ok(Date.parse(entry.ts) >= beforeConfirm - 1000 && Date.parse(entry.ts) <= confirmedAt + 1000,
        `the confirm's ts ${entry.ts} is in rehearsal time (${new Date(beforeConfirm).toISOString()} … ${new Date(confirmedAt).toISOString()})`);
      await tao.page.waitForSelector(`#queue tr[data-incident="${id}"] .countdown`, { timeout: 10000 });
      await shot(tao.page, 'rehearsal-tao-desktop');

      for (const p of [watcher.page, committee.page, headman.page, tao.page]) assertOnlyKaoko(p, k);
    } finally {
      await browser.close();
      await k.stop();
    }
  });

test('a rehearsal with everything fast says so, and its countdowns run in rehearsal time', { timeout: 90000 }, async () => {
  const k = await startKaoko(['--time-scale', String(RATE)]);
  const browser = await launchBrowser();
  try {
    const clock = (await api(k, 'GET', '/api/v1/clock')).data;
    assert.equal(clock.human_deadlines, 'rehearsal');
    const committee = await person(browser, k, 'pranee', PHONE);
    const c = committee.page;
    await c.waitForSelector('#rehearsal-banner');
    assert.match(await c.textContent('#rehearsal-banner'), /ทุกอย่างเร็ว 120×|everything 120×/);
    const report = JSON.stringify({ id: 'r-fast', ts: new Date(await kaokoNow(k)).toISOString(), concern: 'warning',
      station: 'thonhong-bridge', level_cm: 330, trend: 'rising' });
    assert.equal(await k.pub('surin', 'kaoko/v1/tonhong/thonhong/report/surin', report), 'ok 0');
    await c.waitForSelector('#todo .countdown[data-deadline]', { timeout: 10000 });
    const shown = await c.evaluate(() => {
      const e = document.querySelector('#todo .countdown[data-deadline]');
      window.K.tickCountdowns();
      return { text: e.textContent, deadline: e.dataset.deadline, at: Number(e.dataset.at) };
    });
    const left = (Date.parse(shown.deadline) - shown.at) / 1000;  // rehearsal seconds
    assert.ok(Math.abs(seconds(shown.text) - left) <= 1, `countdown '${shown.text}' for ${left.toFixed(0)} s left`);
    await c.waitForFunction(() => window.K.clock.syncs >= 3, null, { timeout: 15000 });
    const sync = await pageClockError(c);
    assert.ok(Math.abs(sync.error) <= 1000 + sync.slack, `the page keeps kaoko's clock: off by ${sync.error} ms`);
  } finally {
    await browser.close();
    await k.stop();
  }
});

test('on the wall clock the pages show no rehearsal banner and K.now() is the time', { timeout: 60000 }, async () => {
  const k = await startKaoko();
  const browser = await launchBrowser();
  try {
    const clock = (await api(k, 'GET', '/api/v1/clock')).data;
    assert.deepEqual([clock.rate, clock.rehearsal, clock.human_deadlines], [1, false, 'real']);
    const committee = await person(browser, k, 'pranee', PHONE);
    await committee.page.waitForFunction(() => window.K.clockReady === true, null, { timeout: 10000 });
    assert.equal(await committee.page.$('#rehearsal-banner'), null);
    const skew = await committee.page.evaluate(() => window.K.now() - Date.now());
    assert.ok(Math.abs(skew) < 1000, `K.now() is the time: ${skew} ms`);
  } finally {
    await browser.close();
    await k.stop();
  }
});
