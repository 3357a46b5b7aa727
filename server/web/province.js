// The province's page: every tambon's villages with their alert state (from the TAOs' retained alerts, bridged up),
// the TAOs' heartbeats and technician incidents (the dead-man's switch), and each tambon's CAP document. Read-only;
// no login (the province runs no escalation). Polls the API every few seconds. docs/tiers.md.
'use strict';
(function () {
  K.header('ศูนย์เฝ้าระวังจังหวัด', 'Province overview');
  const $ = (id) => document.getElementById(id);

  function renderTambons(villages) {
    const byTambon = new Map();
    for (const v of villages) {
      if (!byTambon.has(v.tambon)) byTambon.set(v.tambon, []);
      byTambon.get(v.tambon).push(v);
    }
    const blocks = [];
    for (const [tambon, list] of byTambon) {
      list.sort((a, b) => a.order - b.order);
      const worst = list.reduce((w, v) => (['normal', 'watch', 'warning', 'critical'].indexOf(v.level) >
        ['normal', 'watch', 'warning', 'critical'].indexOf(w) ? v.level : w), 'normal');
      blocks.push(K.el('div', { class: 'tambon', 'data-tambon': tambon },
        K.el('h3', {}, K.bi(list[0].tambon_name_th || tambon, list[0].tambon_name_en || tambon), ' ', K.levelBadge(worst)),
        K.el('ol', { class: 'villages' }, list.map((v) => K.el('li', { 'data-village': v.village, 'data-level': v.level },
          K.el('strong', {}, K.bi(v.name_th || v.village, v.name_en || v.village)), ' ', K.levelBadge(v.level),
          v.incident ? ` #${v.incident}` : '', v.status ? K.el('span', { class: 'muted' }, ' · ', K.named(K.stages, v.status)) : '',
          v.updated ? K.el('span', { class: 'muted' }, ' · ', K.time(v.updated)) : '',
          // The TAO past its deadline and the district told (docs/district.md), as the TAO's dashboard says it.
          v.tao_overdue_since ? K.el('strong', { class: 'tao-overdue', 'data-overdue': v.village },
            ' · ', K.bi('อบต. เกินกำหนด ตั้งแต่ ' + K.time(v.tao_overdue_since), 'TAO overdue since ' + K.time(v.tao_overdue_since))) : '',
          v.district_notified_at ? K.el('span', { class: 'district-step' },
            ' · ', K.bi('แจ้งอำเภอแล้ว ' + K.time(v.district_notified_at), 'district told ' + K.time(v.district_notified_at))) : '',
          K.upstream(v))))));
    }
    K.set($('tambons'), blocks.length ? blocks : K.el('p', {}, K.bi('ยังไม่มีข้อมูลจากตำบลใด', 'nothing from any tambon yet')));
    K.tickArrivals();
  }

  function renderNodes(tiers) {
    const rows = (tiers.nodes || []).map((n) => K.el('tr', { 'data-node': n.node, class: n.silent ? 'silent' : '' },
      K.el('td', {}, n.node), K.el('td', {}, n.tambon),
      K.el('td', {}, n.last_heard ? K.time(n.last_heard) : '—'),
      K.el('td', {}, n.heartbeat && n.heartbeat.backlog !== undefined ? String(n.heartbeat.backlog) : '—'),
      K.el('td', {}, n.silent ? K.el('span', { class: 'level lv-critical' }, K.bi(`เงียบ · เรื่องที่ T${n.incident}`, `silent · incident T${n.incident}`))
                              : K.el('span', { class: 'level lv-normal' }, K.bi('ปกติ', 'ok')))));
    const incidents = (tiers.incidents || []).slice().reverse().slice(0, 10).map((i) =>
      K.el('li', {}, `T${i.id} `, i.node, ' · ', K.time(i.opened), ' → ', i.closed ? K.time(i.closed) : K.t('ยังเปิดอยู่', 'open'), ' · ', i.detail));
    K.set($('nodes'),
      K.el('table', {}, K.el('thead', {}, K.el('tr', {}, K.el('th', {}, K.bi('เครื่อง', 'node')), K.el('th', {}, K.bi('ตำบล', 'tambon')),
        K.el('th', {}, K.bi('ได้ยินล่าสุด', 'last heard')), K.el('th', {}, K.bi('ค้างส่ง', 'backlog')), K.el('th', {}, K.bi('สถานะ', 'state')))),
      K.el('tbody', {}, rows)),
      incidents.length ? K.el('ul', { class: 'tier-incidents' }, incidents) : null);
  }

  function renderCaps(caps) {
    K.set($('caps'), K.el('ul', {}, caps.map((c) => K.el('li', {},
      c.cap ? K.el('a', { href: '/api/v1/cap?tambon=' + encodeURIComponent(c.tambon) }, K.bi(c.name_th, c.name_en))
            : K.bi(c.name_th + ' (ยังไม่มี)', c.name_en + ' (none yet)')))));
  }

  async function load() {
    const [v, t, c] = await Promise.all([K.api('GET', '/api/v1/villages'), K.api('GET', '/api/v1/tiers'),
      K.api('GET', '/api/v1/province/cap')]);
    if (v.status === 200) renderTambons(v.data || []);
    if (t.status === 200) renderNodes(t.data || {});
    if (c.status === 200) renderCaps(c.data || []);
    K.set($('updated'), K.bi('ปรับปรุง ', 'updated '), new Date(K.now()).toLocaleTimeString('en-GB', { timeZone: 'Asia/Bangkok', hour12: false }));
    K.applyLang();
  }
  document.addEventListener('kaoko:lang', load);
  load();
  setInterval(load, 5000);
})();
