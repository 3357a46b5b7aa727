// The TAO dashboard (office PC and wall screen): the river as a schematic with every station's level against its
// thresholds, the incident queue with countdowns and the TAO's decisions, charts, station health with silences,
// drills, after-action reports and the CAP feed. Redraws from the live feed within a second of each change.
'use strict';
(async function () {
  const me = await K.me(['tao', 'district']);  // the district above the TAO sees the same dashboard
  K.header('ศูนย์เตือนภัย อบต.', 'TAO dashboard');
  const $ = (id) => document.getElementById(id);
  let villages = [], stations = [], incidents = [], range = 6;

  async function load() {
    const [v, s, i, n] = await Promise.all([K.api('GET', '/api/v1/villages'), K.api('GET', '/api/v1/stations'),
      K.api('GET', '/api/v1/incidents?status=open'), K.api('GET', '/api/v1/me/notifications')]);
    villages = (v.data || []).sort((a, b) => a.order - b.order);
    stations = s.data || [];
    incidents = i.data || [];
    renderRiver(); renderQueue(); renderHealth(); fillSelects();
    K.tickArrivals();
    K.applyLang();
    // The officer's own asks are the queue's rows: shown once the dashboard is visible (docs/delivery.md).
    const shown = new Set(incidents.map((x) => x.id));
    K.showing((n.data || []).filter((a) => shown.has(a.incident)).flatMap((a) => a.notifications || []));
  }

  // ---- the river schematic: villages in river order, each station a bar against its thresholds
  function renderRiver() {
    const n = villages.length || 1, W = 1400, H = 380, colW = W / n, top = 70, barH = 210;
    const svg = K.el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': K.t('แผนผังลำน้ำ', 'river schematic') });
    svg.append(K.el('path', { d: `M0 ${H - 40} C ${W * 0.25} ${H - 70}, ${W * 0.5} ${H - 10}, ${W} ${H - 45} L ${W} ${H} L 0 ${H} Z`, fill: '#2f6fd6', 'fill-opacity': 0.35 }));
    villages.forEach((v, idx) => {
      const x0 = idx * colW;
      const g = K.el('g', { 'data-village': v.village });
      g.append(K.el('rect', { x: x0 + 6, y: 6, width: colW - 12, height: 54, rx: 10, fill: K.colour[v.level], stroke: '#111', 'stroke-width': 2 }));
      g.append(K.el('text', { x: x0 + colW / 2, y: 30, 'text-anchor': 'middle', 'font-size': 21, 'font-weight': 'bold', fill: v.level === 'watch' ? '#111' : '#fff' },
        K.t(v.name_th, v.name_en)));
      g.append(K.el('text', { x: x0 + colW / 2, y: 52, 'text-anchor': 'middle', 'font-size': 16, fill: v.level === 'watch' ? '#111' : '#fff' },
        K.t(K.levels[v.level][0], K.levels[v.level][1]) + (v.incident ? ` · #${v.incident}` : '') + (v.exercise ? K.t(' · ฝึกซ้อม', ' · drill') : '')));
      const mine = stations.filter((s) => s.village === v.village);
      const bw = Math.min(70, (colW - 40) / Math.max(1, mine.length) - 20);
      mine.forEach((s, k) => {
        const bx = x0 + 20 + k * (bw + 40) + (colW - 40 - mine.length * (bw + 40) + 40) / 2;
        const t = s.thresholds, max = t.critical.cm * 1.25;
        const y = (cm) => top + barH - (Math.max(0, Math.min(cm, max)) / max) * barH;
        const cm = s.latest ? s.latest.level_cm : null;
        const lv = s.level || K.levelOf(cm, t);
        const sg = K.el('g', { 'data-station': s.id });
        sg.append(K.el('title', {}, `${K.t(s.name_th, s.name_en)}: ${cm === null ? '—' : cm + ' cm'}`));
        sg.append(K.el('rect', { x: bx, y: top, width: bw, height: barH, fill: '#fff', stroke: '#111', 'stroke-width': 2 }));
        if (cm !== null) sg.append(K.el('rect', { x: bx, y: y(cm), width: bw, height: top + barH - y(cm), fill: K.colour[lv], stroke: '#111' }));
        for (const name of ['watch', 'warning', 'critical']) {
          sg.append(K.el('line', { x1: bx - 8, x2: bx + bw + 8, y1: y(t[name].cm), y2: y(t[name].cm), stroke: K.colour[name], 'stroke-width': 4 }));
        }
        sg.append(K.el('text', { x: bx + bw / 2, y: top + barH + 24, 'text-anchor': 'middle', 'font-size': 20, 'font-weight': 'bold', class: 'station-level' },
          cm === null ? '—' : Math.round(cm) + ' cm'));
        sg.append(K.el('text', { x: bx + bw / 2, y: top + barH + 46, 'text-anchor': 'middle', 'font-size': 15 },
          K.t(s.name_th, s.name_en).slice(0, 22) + (s.health !== 'ok' ? ' ⚠' : '')));
        g.append(sg);
      });
      if (idx < villages.length - 1 && v.travel_to_next_minutes) {
        g.append(K.el('text', { x: x0 + colW, y: H - 12, 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold' },
          `→ ${v.travel_to_next_minutes} ${K.t('นาที', 'min')}`));
      }
      svg.append(g);
    });
    K.set($('river'), svg);
  }

  // ---- the incident queue
  function vname(id) {
    const v = villages.find((x) => x.village === id);
    return v ? K.bi(v.name_th, v.name_en) : id;
  }
  async function act(path, body, okTh, okEn) {
    const r = await K.api('POST', path, body);
    const out = $('action-result');
    out.className = r.status === 200 ? 'status ok' : 'status bad';
    K.set(out, r.status === 200 ? K.bi(okTh, okEn) : (r.data && r.data.error) || 'error ' + r.status);
    K.applyLang();
    load();
    return r;
  }
  // How far kaoko got in reaching a person who must act (docs/delivery.md): only what it saw happen.
  const reachWords = {
    acted: ['ตอบแล้ว', 'acted'], seen: ['เปิดดูแล้ว', 'seen'], delivered: ['ถึงเครื่องแล้ว', 'delivered'],
    sent: ['ส่งแล้ว ยังไม่ยืนยันว่าถึง', 'sent, not yet delivered'], queued: ['รอส่ง', 'queued'],
    failed: ['ส่งไม่สำเร็จ', 'failed'], expired: ['หมดเวลา', 'expired'],
  };
  function reachText(r) {
    if (r.not_reached) return K.el('strong', { class: 'not-reached' }, K.bi('ติดต่อไม่ได้', 'not reached'));
    if (!r.state) return K.bi('หน้าเว็บเท่านั้น', 'web page only');
    const w = reachWords[r.state] || [r.state, r.state];
    const at = r.at ? ' ' + K.time(r.at) : '';
    return K.el('span', { 'data-state': r.state }, K.bi(w[0] + at + ' (' + r.channel + ')', w[1] + at + ' (' + r.channel + ')'));
  }

  // The TAO past its deadline: "overdue" in red with since when, and the district step (docs/district.md), instead
  // of a countdown that would only say "—".
  function dueCell(i) {
    if (!i.tao_overdue) return [K.el('span', { class: 'countdown', 'data-deadline': i.stage_deadline || '' })];
    const since = i.tao_overdue_since ? ' ' + K.time(i.tao_overdue_since) : '';
    const out = [K.el('strong', { class: 'tao-overdue', 'data-overdue': i.id },
      K.bi('เกินกำหนด ตั้งแต่' + since, 'overdue since' + since))];
    if (i.district_notified_at) {
      const at = ' ' + K.time(i.district_notified_at);
      out.push(K.el('div', { class: 'district-step', 'data-district': i.id },
        i.district_acked_by ? K.bi('อำเภอรับทราบแล้ว', 'the district is on it')
          : K.bi('แจ้งอำเภอแล้ว' + at, 'district told' + at)));
    }
    return out;
  }

  function renderQueue() {
    if (!incidents.length) {
      K.set($('queue'), K.el('p', { class: 'muted' }, K.bi('ไม่มีเหตุการณ์ที่เปิดอยู่', 'No open incidents')));
      return;
    }
    const rows = incidents.map((i) => {
      const level = K.el('select', { 'aria-label': K.t('ระดับที่ประกาศ', 'level to declare'), 'data-declare-level': i.id },
        ...['watch', 'warning', 'critical'].map((l) => K.el('option', { value: l, selected: l === (i.level === 'normal' ? 'watch' : i.level) },
          K.levels[l][0] + ' · ' + l)));
      const decide = (action, extra) => act(`/api/v1/incidents/${i.id}/decisions`, Object.assign({
        id: 'd-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 6), ts: K.nowIso(), incident: i.id, action }, extra),
      'บันทึกแล้ว ✓', 'Recorded ✓');
      return K.el('tr', { 'data-incident': i.id },
        K.el('td', {}, '#' + i.id, i.exercise ? K.el('div', { class: 'exercise-tag' }, K.bi('ฝึกซ้อม', 'drill')) : null),
        K.el('td', {}, vname(i.village), K.el('div', { class: 'muted' }, i.kind === 'station' ? K.bi('สถานีขัดข้อง: ' + i.station, 'station fault: ' + i.station) : ''),
          K.upstream(villages.find((v) => v.village === i.village && v.incident === i.id))),
        K.el('td', {}, K.levelBadge(i.level)),
        K.el('td', { class: 'stage' }, K.named(K.stages, i.status), i.unconfirmed ? K.el('div', {}, K.bi('(ไม่มีผู้ยืนยัน)', '(unconfirmed)')) : null),
        K.el('td', {}, ...dueCell(i)),
        K.el('td', { class: 'reach' }, ...(i.reach || []).map((r) => K.el('div', { 'data-reach': r.user },
          r.user + ' · ', reachText(r)))),
        K.el('td', {}, K.el('div', { class: 'row' },
          i.kind === 'flood' ? level : null,
          i.kind === 'flood' ? K.el('button', { type: 'button', class: 'primary', 'data-action': 'declare',
            onclick: () => decide('declare', { level: level.value }) }, K.named(K.actions, 'declare')) : null,
          i.kind === 'station' && !i.acked_by ? K.el('button', { type: 'button', 'data-action': 'ack', onclick: () => decide('ack') }, K.named(K.actions, 'ack')) : null,
          K.el('button', { type: 'button', 'data-action': 'all_clear', onclick: () => decide('all_clear') }, K.named(K.actions, 'all_clear')),
          K.el('a', { class: 'btn', href: `/api/v1/incidents/${i.id}/report`, target: '_blank' }, K.bi('รายงาน', 'Report')),
          K.el('a', { class: 'btn', href: `/api/v1/incidents/${i.id}/report.csv` }, 'CSV'))));
    });
    K.set($('queue'), K.el('table', { class: 'queue-table' },
      K.el('thead', {}, K.el('tr', {}, ...[['#', '#'], ['หมู่บ้าน', 'Village'], ['ระดับ', 'Level'], ['ขั้นตอน', 'Stage'],
        ['ครบกำหนด', 'Due in'], ['ต้องตอบ · ติดต่อได้ไหม', 'Must act · reached?'], ['ดำเนินการ', 'Actions']].map(([th, en]) => K.el('th', { scope: 'col' }, K.bi(th, en))))),
      K.el('tbody', {}, ...rows)));
    tick();
  }

  // ---- station health, silences
  function renderHealth() {
    K.set($('health'), K.el('table', { class: 'health-table' },
      K.el('thead', {}, K.el('tr', {}, ...[['สถานี', 'Station'], ['สถานะ', 'Health'], ['ล่าสุด', 'Latest'], ['งดแจ้งเตือน', 'Silence']]
        .map(([th, en]) => K.el('th', { scope: 'col' }, K.bi(th, en))))),
      K.el('tbody', {}, ...stations.map((s) => {
        const mins = K.el('select', { 'aria-label': K.t('ระยะเวลา', 'duration') },
          ...[[60, '1 ชม. · 1 h'], [240, '4 ชม. · 4 h'], [1440, '1 วัน · 1 day'], [0, 'ยกเลิก · lift']].map(([v, t]) => K.el('option', { value: v }, t)));
        return K.el('tr', { 'data-station': s.id },
          K.el('td', {}, K.bi(s.name_th, s.name_en), K.el('div', { class: 'muted' }, vname(s.village))),
          K.el('td', {}, K.el('span', { class: 'status ' + (s.health === 'ok' ? 'ok' : 'bad') }, K.named(K.health, s.health)),
            s.problems ? K.el('div', { class: 'muted' }, K.bi(s.problems_th || s.problems, s.problems)) : null),
          K.el('td', {}, s.latest ? `${s.latest.level_cm} cm · ${K.time(s.latest.ts)}` : '—',
            s.latest && s.latest.battery_v ? K.el('div', { class: 'muted' }, s.latest.battery_v + ' V') : null),
          K.el('td', {}, s.silenced_until ? K.el('div', {}, K.bi('ถึง ', 'until '), K.time(s.silenced_until)) : null,
            K.el('div', { class: 'row' }, mins, K.el('button', { type: 'button', 'data-silence': s.id,
              onclick: () => act(`/api/v1/stations/${s.id}/silence`, { minutes: Number(mins.value) }, 'บันทึกแล้ว ✓', 'Done ✓') },
            K.bi('งดแจ้ง', 'Silence')))));
      }))));
  }

  // ---- charts
  function fillSelects() {
    const cs = $('chart-station');
    if (!cs.options.length) {
      for (const s of stations) cs.append(K.el('option', { value: s.id }, `${s.name_th} · ${s.name_en}`));
      cs.addEventListener('change', drawChart);
      drawChart();
    }
    const dv = $('drill-village');
    if (!dv.options.length) for (const v of villages) dv.append(K.el('option', { value: v.village }, `${v.name_th} · ${v.name_en}`));
  }
  async function drawChart() {
    const s = stations.find((x) => x.id === $('chart-station').value);
    if (!s) return;
    const now = K.now(), to = new Date(now + 60e3), from = new Date(now - range * 3600e3);
    $('chart').dataset.to = String(+to);
    const r = await K.api('GET', `/api/v1/stations/${s.id}/readings?since=${from.toISOString()}&until=${to.toISOString()}`);
    let rows = r.data || [];
    if (rows.length > 1500) {  // a week of one-minute readings: keep every n-th point, the last one always
      const step = Math.ceil(rows.length / 1500);
      rows = rows.filter((_, k) => k % step === 0 || k === rows.length - 1);
    }
    K.set($('chart'), K.lineChart(rows, s, from, to, { label: `${s.name_en}: ${range} h` }));
  }
  document.querySelectorAll('[data-range]').forEach((b) => b.addEventListener('click', () => {
    range = Number(b.dataset.range);
    document.querySelectorAll('[data-range]').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
    drawChart();
  }));
  $('drill-start').addEventListener('click', () => act(`/api/v1/villages/${$('drill-village').value}/drill`,
    { level: $('drill-level').value }, 'เริ่มการฝึกซ้อมแล้ว', 'Drill started'));

  function tick() {
    K.tickCountdowns();
    $('clock').textContent = K.time(K.nowIso());
  }
  setInterval(tick, 1000);

  // ---- a gateway that has been failing (docs/delivery.md): SMS is not reaching people, say so at the top
  async function gateways() {
    const h = await K.api('GET', '/healthz');
    const none = $('no-district');
    none.hidden = !(h.data && h.data.district === 0);
    if (!none.hidden) {
      K.set(none, K.bi('ไม่มีอำเภอในไฟล์เครือข่าย: ถ้า อบต. ไม่ตอบ จะไม่มีผู้ใดเหนือ อบต. ได้รับแจ้ง',
        'No district in the network file: nobody above the TAO is told when the TAO does not answer'));
    }
    const box = $('gateways');
    const problem = h.data && h.data.degraded ? h.data.delivery : '';
    box.hidden = !problem;
    if (problem) {
      K.set(box, K.el('strong', {}, K.bi('ส่ง SMS/LINE ไม่ได้ — ผู้คนอาจไม่ได้รับการแจ้งเตือน โปรดโทรแจ้งแทน',
        'SMS/LINE are not going out — people may not be reached; call them instead')), K.el('div', { class: 'muted' }, problem));
    }
  }
  gateways();
  setInterval(gateways, 30000);

  // ---- live: readings patch the river at once; anything else reloads the snapshot
  let pending = null, chartPending = null;
  K.live((events) => {
    let reload = false;
    for (const e of events) {
      if (e.type === 'reading') {
        const s = stations.find((x) => x.id === e.data.station);
        if (s && (!s.latest || e.data.ts >= s.latest.ts)) {
          s.latest = Object.assign({}, s.latest, { seq: e.data.seq, ts: e.data.ts, level_cm: e.data.level_cm });
          s.level = e.data.level; s.health = e.data.health;
        }
        if (s && s.id === $('chart-station').value) { clearTimeout(chartPending); chartPending = setTimeout(drawChart, 300); }
      } else reload = true;
    }
    renderRiver();
    if (reload) { clearTimeout(pending); pending = setTimeout(load, 50); }
  }, load, (up) => {
    const el = $('live-state');
    el.className = 'status ' + (up ? 'ok' : 'bad');
    K.set(el, up ? K.bi('สด', 'Live') : K.bi('ขาดการเชื่อมต่อ', 'Disconnected'));
    el.dataset.live = up ? '1' : '0';
    K.applyLang();
  });
  document.addEventListener('kaoko:lang', () => { renderRiver(); renderQueue(); renderHealth(); drawChart(); K.applyLang(); });
})();
