// The watcher's page: a report goes straight to the broker over MQTT-over-WebSockets with the watcher's own
// credentials (the broker's ACL is the guard), to kaoko/v1/{tambon}/{village}/report/{user}; the receipt comes back on
// .../receipt/{user}. Every report is first written to localStorage (the outbox) and stays there until its receipt
// arrives, so a report made without a network is sent when the network comes back; kaoko stores a repeat once.
'use strict';
(async function () {
  const me = await K.me(['watcher']);
  const password = sessionStorage.getItem('kaoko.mqttpw');
  if (!password) {  // a new tab: the broker needs the password again
    location.replace('/?next=/watcher');
    return;
  }
  K.header('ผู้เฝ้าระวัง', 'Watcher');
  const $ = (id) => document.getElementById(id);
  const base = `kaoko/v1/${me.tambon}/${me.village}`;
  const OUTBOX = 'kaoko.outbox.' + me.user;
  let outbox = JSON.parse(localStorage.getItem(OUTBOX) || '[]');
  const save = () => localStorage.setItem(OUTBOX, JSON.stringify(outbox.slice(-50)));

  // ---- stations of my village, with their latest reading and landmarks
  const stations = (await K.api('GET', '/api/v1/stations?village=' + encodeURIComponent(me.village))).data || [];
  const box = $('stations');
  box.style.gridTemplateColumns = stations.length > 1 ? 'repeat(2, 1fr)' : '1fr';
  stations.forEach((s, i) => {
    box.append(K.el('label', { class: 'choice' + (i === 0 ? ' checked' : '') },
      K.el('input', { type: 'radio', name: 'station', value: s.id, checked: i === 0 }), K.bi(s.name_th, s.name_en)));
  });
  const station = () => stations.find((s) => s.id === (document.querySelector('input[name=station]:checked') || {}).value);
  function showStation() {
    const s = station();
    if (!s) return;
    if (s.latest) $('level').value = Math.round(s.latest.level_cm);
    else if (!$('level').value) $('level').value = Math.round(s.thresholds.watch.cm);
    const t = s.thresholds;
    K.set($('landmarks'), 
      K.bi(`เฝ้าระวัง ${t.watch.cm} ซม. (${t.watch.landmark_th}) · เตือนภัย ${t.warning.cm} (${t.warning.landmark_th}) · รุนแรง ${t.critical.cm} (${t.critical.landmark_th})`,
        `watch ${t.watch.cm} cm (${t.watch.landmark_en}) · warning ${t.warning.cm} (${t.warning.landmark_en}) · critical ${t.critical.cm} (${t.critical.landmark_en})`));
  }
  box.addEventListener('change', showStation);
  showStation();
  document.querySelectorAll('[data-step]').forEach((b) => b.addEventListener('click', () => {
    const v = parseFloat($('level').value) || 0;
    $('level').value = Math.max(0, Math.round(v + Number(b.dataset.step)));
  }));

  // ---- my village's alert
  async function showAlert() {
    const v = ((await K.api('GET', '/api/v1/villages?village=' + encodeURIComponent(me.village))).data || [])
      .find((x) => x.village === me.village);
    if (v) renderAlert(v);
  }
  function renderAlert(v) {
    const el = $('alert');
    el.className = 'banner bg-' + v.level;
    K.set(el, K.bi(v.name_th || me.village_name_th || '', v.name_en || me.village_name_en || ''), ': ',
      K.named(K.levels, v.level), v.exercise ? K.el('span', { class: 'exercise-tag' }, ' ', K.bi('ฝึกซ้อม', 'exercise')) : null,
      v.headline_th ? K.el('div', {}, K.bi(v.headline_th, v.headline_en)) : null, K.upstream(v));
    K.tickArrivals();
  }
  showAlert();
  K.live((events) => {
    for (const e of events) if (e.type === 'alert' && e.data.village === me.village) showAlert();
  }, showAlert);

  // ---- the outbox
  function renderOutbox() {
    const ul = $('outbox');
    K.set(ul, ...outbox.slice().reverse().map((r) => {
      let cls = 'wait', th, en;
      if (r.receipt && r.receipt.ok) {
        cls = 'ok';
        th = 'ได้รับแล้ว ✓' + (r.receipt.incident ? ' เหตุการณ์ที่ ' + r.receipt.incident : '');
        en = 'received ✓' + (r.receipt.incident ? ', incident ' + r.receipt.incident : '');
      } else if (r.receipt) {
        cls = 'bad'; th = 'ไม่รับ: ' + r.receipt.error; en = 'refused: ' + r.receipt.error;
      } else if (r.sent) {
        th = 'ส่งแล้ว รอใบตอบรับ…'; en = 'sent, waiting for the receipt…';
      } else {
        th = 'เก็บไว้ จะส่งเมื่อมีสัญญาณ'; en = 'saved, will be sent when the network is back';
      }
      return K.el('li', { class: cls, 'data-report': r.msg.id },
        K.el('strong', {}, K.time(r.msg.ts), ' · ', r.msg.level_cm !== undefined ? r.msg.level_cm + ' cm · ' : '',
          K.named(K.levels, r.msg.concern)),
        K.el('div', { class: 'receipt' }, K.bi(th, en)));
    }));
    K.applyLang();
  }

  // ---- the broker
  const mqttUrl = me.mqtt_ws || `ws://${location.hostname}:9001`;
  const client = new MqttClient(mqttUrl, {
    username: me.user, password, clientId: `web-${me.user}-${Math.random().toString(36).slice(2, 8)}`, keepalive: 20,
  });
  function showNet() {
    const online = navigator.onLine && client.connected;
    const el = $('net');
    el.className = 'status ' + (online ? 'ok' : 'bad');
    const waiting = outbox.filter((r) => !r.receipt).length;
    K.set(el, online ? K.bi('เชื่อมต่อแล้ว', 'Connected') : K.bi('ออฟไลน์ — รายงานจะถูกเก็บไว้และส่งเมื่อมีสัญญาณ',
      'Offline — reports are kept and sent when the network is back'),
      waiting ? K.el('span', {}, ' · ', K.bi(`รอส่ง ${waiting}`, `${waiting} waiting`)) : null);
    el.dataset.online = online ? '1' : '0';
    K.applyLang();
  }
  client.onstate = (connected) => {
    showNet();
    if (connected) flush();
  };
  client.onmessage = (topic, text) => {
    if (topic !== `${base}/receipt/${me.user}`) return;
    let rc;
    try { rc = JSON.parse(text); } catch (e) { return; }
    const r = outbox.find((x) => x.msg.id === rc.ref);
    if (!r) return;
    r.receipt = rc;
    save(); renderOutbox(); showNet();
  };
  client.subscribe(`${base}/receipt/${me.user}`, 1);
  client.subscribe(`${base}/notify/${me.user}`, 1);
  client.connect();
  // Sends every report that has no receipt yet (again, after a reconnect: kaoko answers a repeat with the same
  // receipt and stores it once).
  function flush() {
    if (!navigator.onLine || !client.connected) return;
    for (const r of outbox) {
      if (r.receipt) continue;
      r.sent = true;
      client.publish(`${base}/report/${me.user}`, JSON.stringify(r.msg), 1).catch(() => {});
    }
    save(); renderOutbox(); showNet();
  }
  window.addEventListener('online', () => { client.kick(); showNet(); flush(); });
  window.addEventListener('offline', showNet);
  // Reports sent but not answered (the line dropped): try again every 20 s while connected.
  setInterval(() => { if (outbox.some((r) => !r.receipt)) flush(); }, 20000);

  $('report-form').addEventListener('submit', (e) => {
    e.preventDefault();
    $('form-error').textContent = '';
    const s = station();
    const level = parseFloat(String($('level').value).replace(',', '.'));
    if (!s || !isFinite(level) || level < 0 || level > 5000) {
      $('form-error').textContent = K.t('กรุณาใส่ระดับน้ำเป็นตัวเลข (ซม.)', 'Enter the level as a number (cm)');
      return;
    }
    const msg = {
      id: 'r-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 6),
      ts: K.nowIso(),
      station: s.id,
      level_cm: level,
      concern: document.querySelector('input[name=concern]:checked').value,
    };
    const trend = document.querySelector('input[name=trend]:checked');
    if (trend) msg.trend = trend.value;
    const note = $('note').value.trim();
    if (note) msg.note = note.slice(0, 500);
    outbox.push({ msg, sent: false, receipt: null });
    save();
    $('note').value = '';
    renderOutbox();
    flush();
    showNet();
  });
  renderOutbox();
  showNet();
  document.addEventListener('kaoko:lang', () => { renderOutbox(); showNet(); });
})();
