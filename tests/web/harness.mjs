// What the browser tests share: a real broker + kaoko-server through kaoko-web-launcher, Debian's chromium, a person
// logged in on their own browser context, screenshots and the HTTP API. Environment as in screens.test.mjs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

export const LAUNCHER = process.env.KAOKO_LAUNCHER;
export const CHROMIUM = process.env.KAOKO_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.KAOKO_SCREENSHOTS || '';
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };

if (!LAUNCHER) throw new Error('KAOKO_LAUNCHER is not set (run through ctest: tests/web/run-browser-tests.sh)');
if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });

// A real broker + kaoko-server; resolves with the ports once both run.
export function startKaoko(args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout });
    const waiting = [];
    let info = null;
    const timer = setTimeout(() => reject(new Error('kaoko-web-launcher did not start in 60 s')), 60000);
    child.on('exit', (code) => { if (!info) reject(new Error('kaoko-web-launcher exited with ' + code)); });
    lines.on('line', (line) => {
      if (!info) {
        clearTimeout(timer);
        info = JSON.parse(line);
        info.base = `http://127.0.0.1:${info.http}`;
        info.pub = (user, topic, payload) => new Promise((res) => {
          waiting.push(res);
          child.stdin.write(`pub ${user} ${topic} ${payload}\n`);
        });
        info.stop = () => new Promise((res) => { child.on('exit', res); child.stdin.end(); });
        resolve(info);
      } else if (waiting.length) {
        waiting.shift()(line);
      }
    });
  });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh temporary profile (its own --user-data-dir).
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

// A person's browser: its own context (cookies, storage), phone or desktop. Records every request's host.
export async function person(browser, k, user, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'th-TH', timezoneId: 'Asia/Bangkok',
    hasTouch: viewport.width < 500, isMobile: viewport.width < 500 });
  const page = await context.newPage();
  page.hosts = new Set();
  page.on('request', (r) => page.hosts.add(new URL(r.url()).host));
  page.on('websocket', (ws) => page.hosts.add(new URL(ws.url()).host));
  page.on('pageerror', (e) => { throw new Error(`${user}: page error: ${e.message}`); });
  await page.goto(k.base + '/');
  await page.fill('#user', user);
  await page.fill('#password', 'demo-' + user);
  await page.click('#login-submit');
  await page.waitForURL((u) => u.pathname !== '/', { timeout: 10000 });
  await page.waitForSelector('header.bar .who', { timeout: 10000 });
  return { context, page };
}

export async function shot(page, name, viewport) {
  if (!SHOTS) return;
  if (viewport) await page.setViewportSize(viewport);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: false });
}

// Only the kaoko service and its broker, on 127.0.0.1.
export function assertOnlyKaoko(page, k) {
  const allowed = new Set([`127.0.0.1:${k.http}`, `127.0.0.1:${k.ws}`]);
  for (const h of page.hosts) assert.ok(allowed.has(h), `a page asked ${h}, which is neither kaoko nor its broker`);
}

export async function api(k, method, target, body, headers) {
  const res = await fetch(k.base + target, { method, headers: Object.assign({ 'Content-Type': 'application/json' }, headers),
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, data: await res.json().catch(() => null) };
}
