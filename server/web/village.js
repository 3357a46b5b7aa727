// The committee's and headman's page: what waits for them (with its deadline), the village's incidents, and one
// incident in detail with its timeline and the station's recent levels; acknowledge, confirm or reject with a note
// (POST /api/v1/incidents/{id}/decisions). Everything redraws on the live feed.
'use strict';
(async function () {
  const me = await K.me(['committee', 'headman', 'deputy']);
  K.header(me.role === 'committee' ? 'กรรมการหมู่บ้าน' : 'ผู้ใหญ่บ้าน', me.role === 'committee' ? 'Village committee' : 'Headman');
  const $ = (id) => document.getElementById(id);
  let todo = [], incidents = [], stations = [], selected = null, myAlert = null;
  let lastResult = null;  // {incident, ok, th, en}: survives the redraws that the live feed causes
  const mine = (action) =>
    action === 'ack' ? ['committee', 'headman', 'deputy'].includes(me.role) : ['headman', 'deputy'].includes(me.role);

  async function load() {
    // Only this village's (?village=): a network of thousands of villages stays a small answer for a phone.
    const own = '?village=' + encodeURIComponent(me.village);
    const [n, inc, st, vil] = await Promise.all([
      K.api('GET', '/api/v1/me/notifications'), K.api('GET', '/api/v1/incidents' + own + '&status=all'),
      K.api('GET', '/api/v1/stations' + own), K.api('GET', '/api/v1/villages' + own)]);
    todo = n.data || [];
    incidents = (inc.data || []).filter((i) => i.kind === 'flood').slice(0, 20);
    stations = st.data || [];
    const v = (vil.data || []).find((x) => x.village === me.village);
    myAlert = v || null;
    if (v) {
      $('alert').className = 'banner bg-' + v.level;
      K.set($('alert'), K.bi(v.name_th, v.name_en), ': ', K.named(K.levels, v.level),
        v.exercise ? K.el('span', { class: 'exercise-tag' }, ' ', K.bi('ฝึกซ้อม', 'exercise')) : null, K.upstream(v));
      K.tickArrivals();
    }
    render();
    if (selected) showDetail(selected, false);
  }

  function render() {
    K.set($('todo'), ...(todo.length ? todo.map((n) => K.el('li', { class: 'card', 'data-incident': n.incident },
      K.el('div', { class: 'row' }, K.levelBadge(n.level), n.exercise ? K.el('span', { class: 'exercise-tag' }, K.bi('ฝึกซ้อม', 'exercise')) : null,
        K.el('strong', {}, K.bi('เหตุการณ์ที่ ' + n.incident, 'Incident ' + n.incident))),
      K.el('p', {}, K.bi(n.headline_th, n.headline_en)),
      K.el('p', {}, K.bi('ต้องทำ: ', 'To do: '), K.el('strong', {}, K.named(K.actions, n.action_needed)), ' · ',
        K.bi('ภายใน ', 'due in '), K.el('span', { class: 'countdown', 'data-deadline': n.deadline || '' })),
      K.el('button', { type: 'button', class: 'primary big', onclick: () => showDetail(n.incident, true) },
        K.bi('เปิดดูและตอบ', 'Open and answer'))))
      : [K.el('li', { class: 'muted' }, K.bi('ไม่มีเรื่องรอคุณ', 'Nothing is waiting for you'))]));
    K.set($('incidents'), ...(incidents.length ? incidents.map((i) => K.el('li', {},
      K.el('button', { type: 'button', class: 'big', style: null, 'data-open': i.id, onclick: () => showDetail(i.id, true) },
        K.levelBadge(i.level), ' #' + i.id + ' · ', K.named(K.stages, i.status),
        i.exercise ? K.el('span', { class: 'exercise-tag' }, K.bi('ฝึกซ้อม', 'exercise')) : null)))
      : [K.el('li', { class: 'muted' }, K.bi('ยังไม่มีเหตุการณ์', 'No incidents'))]));
    tick();
    K.applyLang();
    // What waits for this person is on screen now: kaoko records it as seen once the page is visible.
    K.showing(todo.flatMap((n) => n.notifications || []));
  }

  async function showDetail(id, focus) {
    selected = id;
    const r = await K.api('GET', '/api/v1/incidents/' + id);
    if (r.status !== 200) return;
    const inc = r.data;
    const box = $('detail');
    box.classList.remove('hidden');
    const st = stations.find((s) => s.id === inc.station) || stations[0];
    const chart = K.el('div', { class: 'chart' });
    const note = K.el('textarea', { id: 'decision-note', maxlength: 500, 'aria-label': K.t('หมายเหตุ', 'Note') });
    const result = K.el('p', { id: 'decision-result', role: 'status' });
    if (lastResult && lastResult.incident === inc.id) {
      result.className = lastResult.ok ? 'status ok' : 'status bad';
      K.set(result, K.bi(lastResult.th, lastResult.en));
    }
    const open = !['resolved', 'rejected'].includes(inc.status);
    // A watch from upstream cannot be rejected while that village is at warning or above: the wave is coming
    // whatever the river here shows (kaoko refuses it too; the page says why instead of offering the button).
    const up = myAlert && myAlert.incident === inc.id && myAlert.upstream;
    const upstreamComing = !!up && ['warning', 'critical'].includes(up.level) && !inc.exercise;
    const actions = ['ack', 'confirm', 'reject'].filter((a) => mine(a) && open &&
      !(a === 'reject' && upstreamComing) &&
      !(a === 'ack' && inc.asks.every((k) => !(k.user === me.user && k.action === 'ack' && k.open)) && inc.status !== 'reported'));
    K.set(box, 
      K.el('h2', {}, K.bi('เหตุการณ์ที่ ' + inc.id, 'Incident ' + inc.id), ' ', K.levelBadge(inc.level)),
      inc.exercise ? K.el('p', { class: 'exercise-tag' }, K.bi('การฝึกซ้อม — ไม่ใช่เหตุจริง', 'Exercise — not real')) : null,
      K.el('p', {}, K.el('strong', {}, K.bi(inc.headline_th, inc.headline_en))),
      up ? K.upstream(myAlert) : null,
      upstreamComing && mine('reject') && open ? K.el('p', { class: 'muted', id: 'reject-held' },
        K.bi('ยังปฏิเสธไม่ได้: ' + (up.name_th || up.village) + ' ยังอยู่ในระดับ' + K.levels[up.level][0] + ' น้ำกำลังมา ให้รับทราบและเฝ้าดูลำน้ำ หรือติดต่อ อบต.',
          'Reject is not offered: ' + (up.name_en || up.village) + ' is still at ' + up.level + ' and the wave is coming; acknowledge and watch the river, or call the TAO.')) : null,
      K.el('p', { id: 'detail-stage' }, K.bi('ขั้นตอน: ', 'Stage: '), K.named(K.stages, inc.status),
        inc.stage_deadline ? K.el('span', {}, ' · ', K.bi('ครบกำหนดใน ', 'next step in '),
          K.el('span', { class: 'countdown', 'data-deadline': inc.stage_deadline })) : null),
      open && actions.length ? K.el('div', {},
        K.el('label', { for: 'decision-note' }, K.bi('หมายเหตุ (ถ้ามี)', 'Note (optional)')), note,
        K.el('div', { class: 'row' }, ...actions.map((a) => K.el('button', {
          type: 'button', class: a === 'reject' ? 'big' : 'primary big', 'data-action': a,
          onclick: async (ev) => {
            ev.currentTarget.disabled = true;
            const res = await K.api('POST', `/api/v1/incidents/${inc.id}/decisions`, {
              id: 'd-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 6), ts: K.nowIso(),
              incident: inc.id, action: a, note: note.value.trim() });
            const err = (res.data && res.data.error) || 'error ' + res.status;
            lastResult = res.status === 200
              ? { incident: inc.id, ok: true, th: 'บันทึกแล้ว ✓ (' + K.actions[a][0] + ')', en: 'Recorded ✓ (' + K.actions[a][1] + ')' }
              : { incident: inc.id, ok: false, th: 'ไม่สำเร็จ: ' + err, en: 'Not recorded: ' + err };
            await load();
          } }, K.named(K.actions, a)))), result) : result,
      K.el('h3', {}, K.bi('ระดับน้ำล่าสุด', 'Recent levels'), st ? K.el('span', {}, ' · ', K.bi(st.name_th, st.name_en)) : null),
      chart,
      K.el('h3', {}, K.bi('ลำดับเหตุการณ์', 'Timeline')),
      K.el('ol', { class: 'plain timeline', id: 'timeline' }, ...inc.timeline.slice().reverse().map((e) => K.el('li', {},
        K.el('span', { class: 'ts' }, K.time(e.ts)), K.bi(e.text_th, e.text_en)))),
      K.el('p', {}, K.el('a', { href: `/api/v1/incidents/${inc.id}/report` }, K.bi('รายงานถอดบทเรียน', 'After-action report'))));
    K.tickArrivals();
    if (st) {
      const to = new Date(K.now()), from = new Date(+to - 6 * 3600e3);
      chart.dataset.to = String(+to);
      const rd = await K.api('GET', `/api/v1/stations/${st.id}/readings?since=${from.toISOString()}&until=${to.toISOString()}`);
      const width = Math.max(360, Math.min(900, chart.clientWidth || 700));
      K.set(chart, K.lineChart(rd.data || [], st, from, to, { height: Math.round(width * 0.55), width,
        label: K.t('กราฟระดับน้ำ 6 ชั่วโมง', 'level over 6 hours') }));
    }
    tick();
    K.applyLang();
    if (focus) box.focus();
  }

  // LINE (docs/delivery-line.md): whether this person's LINE account is linked, and a one-time code that links it
  // when sent to the TAO's Official Account. Hidden where the service has no LINE channel.
  async function lineLink() {
    const r = await K.api('GET', '/api/v1/me/line-link');
    if (r.status !== 200) return;
    const box = $('line');
    const result = K.el('p', { id: 'line-code', role: 'status' });
    K.set(box,
      K.el('h2', {}, K.bi('บัญชี LINE', 'LINE account')),
      K.el('p', { id: 'line-state' }, r.data.linked ? K.bi('เชื่อมแล้ว ✓', 'Linked ✓') : K.bi('ยังไม่ได้เชื่อม', 'Not linked yet')),
      K.el('button', { type: 'button', class: 'big', id: 'line-link', onclick: async () => {
        const c = await K.api('POST', '/api/v1/me/line-link');
        const err = (c.data && c.data.error) || 'error ' + c.status;
        K.set(result, c.status === 200
          ? K.bi('ส่งรหัส ' + c.data.code + ' เป็นข้อความถึงบัญชี LINE ของ อบต. ภายใน 15 นาที',
            'Send ' + c.data.code + ' as a message to the TAO\'s LINE account within 15 minutes')
          : K.bi('ไม่สำเร็จ: ' + err, 'Not done: ' + err));
        K.applyLang();
      } }, K.bi('รับรหัสเชื่อม LINE', 'get a LINE link code')),
      result);
    box.classList.remove('hidden');
    K.applyLang();
  }
  lineLink();

  function tick() { K.tickCountdowns(); }
  setInterval(tick, 1000);
  let pending = null;
  K.live((events) => {
    if (!events.some((e) => e.type !== 'reading')) return;
    clearTimeout(pending);
    pending = setTimeout(load, 50);
  }, load);
  document.addEventListener('kaoko:lang', () => { render(); if (selected) showDetail(selected, false); });
})();
