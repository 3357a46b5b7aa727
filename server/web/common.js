// kaoko — what every screen shares: the language switch, kaoko's clock, the HTTP API with its CSRF token, the live
// feed, and the words and colours of the alert levels. Plain ES2017; nothing is fetched from anywhere but this service.
'use strict';
(function () {
  const K = (window.K = {});

  // ---------------------------------------------------------------- language: Thai first, English a tap away
  K.lang = localStorage.getItem('kaoko.lang') || 'th';
  K.applyLang = function () {
    document.documentElement.lang = K.lang;
    document.documentElement.dataset.lang = K.lang;
    document.querySelectorAll('[data-lang-toggle]').forEach((b) => {
      b.textContent = K.lang === 'th' ? 'English' : 'ภาษาไทย';
      b.setAttribute('aria-label', K.lang === 'th' ? 'Switch to English' : 'เปลี่ยนเป็นภาษาไทย');
    });
    document.querySelectorAll('[data-th-label]').forEach((e) => {
      e.setAttribute('aria-label', K.lang === 'th' ? e.dataset.thLabel : e.dataset.enLabel);
    });
    document.querySelectorAll('[data-th-placeholder]').forEach((e) => {
      e.setAttribute('placeholder', K.lang === 'th' ? e.dataset.thPlaceholder : e.dataset.enPlaceholder);
    });
  };
  K.setLang = function (l) {
    K.lang = l;
    localStorage.setItem('kaoko.lang', l);
    K.applyLang();
    document.dispatchEvent(new Event('kaoko:lang'));
  };
  K.t = (th, en) => (K.lang === 'th' ? th : en);

  // An element: K.el('div', {class: 'x', onclick: f}, child, 'text', ...)
  K.el = function (tag, attrs, ...children) {
    const svg = ['svg', 'g', 'rect', 'line', 'text', 'path', 'polyline', 'circle', 'title', 'polygon'].includes(tag);
    const e = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  };
  // Replaces an element's children, skipping null/false ones.
  K.set = (e, ...children) => e.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  // Thai and English side by side; CSS shows the chosen one (both with `both`).
  K.bi = function (th, en, both) {
    const f = document.createDocumentFragment();
    f.append(K.el('span', { lang: 'th', class: both ? 'both' : null }, th));
    if (both) f.append(' ');
    f.append(K.el('span', { lang: 'en', class: both ? 'both' : null }, en));
    return f;
  };

  // ---------------------------------------------------------------- levels, stages, actions
  K.levels = {
    normal: ['ภาวะปกติ', 'normal'],
    watch: ['เฝ้าระวัง', 'watch'],
    warning: ['เตือนภัย', 'warning'],
    critical: ['เตือนภัยรุนแรง — อพยพ', 'critical — evacuate'],
  };
  K.stages = {
    reported: ['แจ้งแล้ว รอกรรมการรับทราบ', 'reported'],
    awaiting_confirmation: ['รอผู้ใหญ่บ้านยืนยัน', 'awaiting confirmation'],
    confirmed: ['ยืนยันแล้ว ส่งถึง อบต.', 'confirmed'],
    escalated: ['ส่งถึง อบต. แล้ว', 'escalated to the TAO'],
    declared: ['อบต. ประกาศแล้ว', 'declared by the TAO'],
    rejected: ['ปฏิเสธ (แจ้งเตือนผิด)', 'rejected'],
    resolved: ['สิ้นสุดแล้ว', 'resolved'],
  };
  K.actions = {
    ack: ['รับทราบ', 'Acknowledge'],
    confirm: ['ยืนยันว่าเกิดจริง', 'Confirm'],
    reject: ['ปฏิเสธ (แจ้งผิด)', 'Reject'],
    declare: ['ประกาศเตือนภัย', 'Declare'],
    all_clear: ['ประกาศยุติ', 'All clear'],
    none: ['ไม่ต้องทำอะไร', 'nothing to do'],
  };
  K.health = {
    ok: ['ปกติ', 'ok'], stale: ['ข้อมูลล่าช้า', 'stale'], offline: ['ขาดการติดต่อ', 'offline'], suspect: ['ค่าผิดปกติ', 'suspect'],
  };
  K.levelBadge = (level) => K.el('span', { class: 'level lv-' + level }, K.bi(...(K.levels[level] || [level, level])));
  K.named = (dict, key) => K.bi(...(dict[key] || [key, key]));

  // ---------------------------------------------------------------- kaoko's clock (GET /api/v1/clock)
  // In a rehearsal kaoko's time runs `rate` times faster than real time from an origin (docs/operations.md): a page
  // that counted from the browser's clock would show wrong countdowns, empty charts, and send real-time `ts`. K.now()
  // is kaoko's time (ms since the epoch): its answer, taken at the middle of the quickest of five round trips, run on
  // at its rate by the browser's monotonic clock. At 120x a millisecond of the network is 120 ms of kaoko's time, so
  // an answer that came back slower than the one in use is kept only when the one in use is old (or the clock
  // changed). Synced when the page starts, twice more in its first seconds (the page's own requests crowd the first),
  // every minute, and whenever the page comes back (live feed reconnected, network back, tab shown).
  K.clock = { rate: 1, rehearsal: false, human_deadlines: 'real', base: Date.now(), at: performance.now(), rtt: Infinity, syncs: 0 };
  K.clockReady = false;
  K.now = () => K.clock.base + (performance.now() - K.clock.at) * K.clock.rate;
  K.nowIso = () => new Date(K.now()).toISOString();
  K.syncClock = async function () {
    let best = null;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      let c;
      try {
        const res = await fetch('/api/v1/clock', { credentials: 'same-origin', cache: 'no-store' });
        if (res.status !== 200) return;
        c = await res.json();
      } catch (e) {
        return;  // offline: keep running on the last sync
      }
      const t1 = performance.now();
      const now = Date.parse(c.now);
      if (!isFinite(now) || !(c.rate > 0)) return;
      if (!best || t1 - t0 < best.rtt) best = { rtt: t1 - t0, c, base: now + ((t1 - t0) / 2) * c.rate, at: t1 };
    }
    const old = K.clock;
    const changed = old.rate !== best.c.rate || old.rehearsal !== !!best.c.rehearsal;
    const stale = performance.now() - old.at > 10 * 60e3;
    if (changed || stale || best.rtt <= old.rtt * 1.5) {
      K.clock = { rate: best.c.rate, rehearsal: !!best.c.rehearsal, human_deadlines: best.c.human_deadlines,
        base: best.base, at: best.at, rtt: best.rtt, syncs: old.syncs + 1 };
    } else {
      K.clock = Object.assign({}, old, { syncs: old.syncs + 1 });
    }
    K.clockReady = true;
    K.rehearsalBanner();
    document.dispatchEvent(new Event('kaoko:clock'));
  };
  K.clockSynced = K.syncClock();
  setTimeout(K.syncClock, 1500);
  setTimeout(K.syncClock, 4000);
  setInterval(K.syncClock, 60000);
  window.addEventListener('online', K.syncClock);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') K.syncClock(); });
  // Under the header of every screen in a rehearsal: how fast the river runs, and whether people keep real time.
  K.rehearsalBanner = function () {
    const bar = document.querySelector('header.bar');
    let b = document.getElementById('rehearsal-banner');
    if (!K.clock.rehearsal || !bar) {
      if (b) b.remove();
      return;
    }
    if (!b) {
      b = K.el('div', { id: 'rehearsal-banner', class: 'rehearsal', role: 'status' });
      bar.after(b);
    }
    const x = String(Math.round(K.clock.rate * 100) / 100) + '×';
    b.dataset.rate = String(K.clock.rate);
    b.dataset.humanDeadlines = K.clock.human_deadlines;
    K.set(b, K.clock.human_deadlines === 'real'
      ? K.bi('ซ้อม · แม่น้ำเร็ว ' + x + ' · เวลาคนตามจริง', 'Rehearsal · river ' + x + ' · people at real time', true)
      : K.bi('ซ้อม · ทุกอย่างเร็ว ' + x, 'Rehearsal · everything ' + x, true));
  };

  // ---------------------------------------------------------------- time (Thailand keeps UTC+7)
  const fmt = (opts) => new Intl.DateTimeFormat('en-GB', Object.assign({ timeZone: 'Asia/Bangkok', hour12: false }, opts));
  const hm = fmt({ hour: '2-digit', minute: '2-digit' });
  const dhm = fmt({ day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
  K.time = function (iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return Math.abs(K.now() - d) < 20 * 3600e3 ? hm.format(d) : dhm.format(d);
  };
  // "mm:ss" or "h:mm:ss" until `iso` on kaoko's clock (negative: overdue), at kaoko's time `at` (default now). Every
  // countdown is a person's step: when the people keep real time in a rehearsal, it counts real seconds.
  // `river`: a time of the river (a flood wave's arrival), which runs on kaoko's clock even when people keep real time.
  K.countdown = function (iso, at, river) {
    if (!iso) return { text: '—', overdue: false };
    const rate = !river && K.clock.rehearsal && K.clock.human_deadlines === 'real' ? K.clock.rate : 1;
    let s = Math.round((new Date(iso) - (at === undefined ? K.now() : at)) / rate / 1000);
    const overdue = s < 0;
    s = Math.abs(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const t = (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(sec).padStart(2, '0');
    return { text: (overdue ? '−' : '') + t, overdue };
  };
  // Redraws every element with a data-deadline; data-at is kaoko's time it was drawn at.
  K.tickCountdowns = function () {
    const at = K.now();
    document.querySelectorAll('[data-deadline]').forEach((e) => {
      const c = K.countdown(e.dataset.deadline, at);
      e.textContent = e.dataset.deadline ? c.text : '—';
      e.dataset.at = String(Math.round(at));
      e.classList.toggle('overdue', c.overdue);
    });
  };

  // A flood wave from upstream (an alert state's `upstream`): the village it comes from, that village's level now,
  // and a live countdown to the expected arrival. null when the alert has none.
  K.upstream = function (alert) {
    const u = alert && alert.upstream;
    if (!u) return null;
    return K.el('div', { class: 'upstream', 'data-upstream': u.village },
      K.bi('น้ำหลากจาก' + (u.name_th || u.village) + ' ', 'Flood wave from ' + (u.name_en || u.village) + ' '),
      K.levelBadge(u.level),
      u.expected_arrival ? [' · ', K.el('span', { class: 'arrival', 'data-arrival': u.expected_arrival }),
        K.bi(' (ประมาณ ' + K.time(u.expected_arrival) + ' น.)', ' (about ' + K.time(u.expected_arrival) + ')')] : null);
  };
  // Every arrival on the page, each second, whatever page it is on.
  function tickArrivals() {
    document.querySelectorAll('[data-arrival]').forEach((e) => {
      const c = K.countdown(e.dataset.arrival, undefined, true);
      e.classList.toggle('overdue', c.overdue);
      K.set(e, c.overdue ? K.bi('ถึงเวลาที่คาดแล้ว (เลยมา ' + c.text.slice(1) + ')', 'due now (' + c.text.slice(1) + ' ago)')
                         : K.bi('คาดว่าถึงในอีก ' + c.text, 'expected in ' + c.text));
    });
  }
  setInterval(tickArrivals, 1000);
  K.tickArrivals = tickArrivals;

  // ---------------------------------------------------------------- the HTTP API
  K.csrf = sessionStorage.getItem('kaoko.csrf') || '';
  K.api = async function (method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') opts.headers['X-CSRF-Token'] = K.csrf;
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      return { status: 0, data: { error: K.t('ไม่มีสัญญาณเครือข่าย', 'no network') } };
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { status: res.status, data };
  };
  // The logged-in person, or a redirect to the login page. `roles`: who this page is for.
  K.me = async function (roles) {
    const [r] = await Promise.all([K.api('GET', '/api/v1/me'), K.clockSynced]);
    if (r.status !== 200) {
      location.replace('/?next=' + encodeURIComponent(location.pathname));
      return new Promise(() => {});
    }
    K.csrf = r.data.csrf;
    sessionStorage.setItem('kaoko.csrf', K.csrf);
    K.user = r.data;
    if (roles && !roles.includes(r.data.role)) {
      location.replace(K.home(r.data.role));
      return new Promise(() => {});
    }
    return r.data;
  };
  K.home = (role) => (role === 'watcher' ? '/watcher' : role === 'tao' || role === 'district' ? '/tao' : '/village');
  K.logout = async function () {
    await K.api('POST', '/api/v1/logout');
    sessionStorage.clear();
    location.replace('/');
  };

  // ---------------------------------------------------------------- "seen" (docs/delivery.md)
  // A page calls K.showing(ids) with the notification ids of the asks it has on screen now. They count as shown only
  // while the page is visible (a page in a background tab has shown nothing yet): they are reported then, or as soon
  // as the page becomes visible, to POST /api/v1/me/notifications/seen. A report that did not get through (offline,
  // the service restarting) is tried again; one the service refuses (4xx) is not.
  const shownNow = new Set(), reported = new Set(), pending = new Set();
  let seenTimer = null, seenBusy = false;
  async function reportSeen() {
    if (document.visibilityState === 'visible') shownNow.forEach((id) => { if (!reported.has(id)) pending.add(id); });
    if (seenBusy || !pending.size) return;
    const ids = Array.from(pending).slice(0, 100);
    seenBusy = true;
    const r = await K.api('POST', '/api/v1/me/notifications/seen', { notifications: ids });
    seenBusy = false;
    if (r.status === 0 || r.status >= 500) {
      clearTimeout(seenTimer);
      seenTimer = setTimeout(reportSeen, 15000);
      return;
    }
    ids.forEach((id) => { pending.delete(id); reported.add(id); });
    if (pending.size) reportSeen();
  }
  K.showing = function (ids) {
    shownNow.clear();
    (ids || []).forEach((id) => shownNow.add(id));
    reportSeen();
  };
  document.addEventListener('visibilitychange', reportSeen);
  window.addEventListener('online', reportSeen);

  // ---------------------------------------------------------------- the live feed (/api/v1/live)
  // Calls onEvents(events) for every batch, and onOpen() after each (re)connect so the page reloads its snapshot.
  K.live = function (onEvents, onOpen, onState) {
    let ws = null, delay = 500;
    function connect() {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/live');
      ws.onopen = () => { delay = 500; K.syncClock(); onState && onState(true); onOpen && onOpen(); };
      ws.onmessage = (m) => {
        let msg;
        try { msg = JSON.parse(m.data); } catch (e) { return; }
        if (msg.events) onEvents(msg.events);
      };
      ws.onclose = () => {
        onState && onState(false);
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 15000);
      };
    }
    connect();
  };

  // The common header: title, person, language, log out.
  K.header = function (titleTh, titleEn) {
    const h = document.querySelector('header.bar');
    K.set(h, 
      K.el('div', { class: 'title' }, 'kaoko · ', K.bi(titleTh, titleEn)),
      K.user ? K.el('div', { class: 'who', id: 'who' }, K.bi(K.user.name_th, K.user.name_en)) : null,
      K.el('button', { type: 'button', 'data-lang-toggle': true, onclick: () => K.setLang(K.lang === 'th' ? 'en' : 'th') }),
      K.user ? K.el('button', { type: 'button', id: 'logout', onclick: K.logout }, K.bi('ออกจากระบบ', 'Log out')) : null,
    );
    K.rehearsalBanner();
    K.applyLang();
  };

  // Radio "choice" labels get a class too, for browsers without :has().
  document.addEventListener('change', (e) => {
    if (e.target.type !== 'radio') return;
    document.querySelectorAll('input[name="' + e.target.name + '"]').forEach((r) => {
      const l = r.closest('label.choice');
      if (l) l.classList.toggle('checked', r.checked);
    });
  });
  K.applyLang();
})();
