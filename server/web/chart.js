// Level charts as inline SVG, drawn here (no chart library): readings over time against the station's three
// thresholds, and the river schematic's level bars. Pure functions returning SVG elements.
'use strict';
(function () {
  const el = (...a) => K.el(...a);
  const colour = { normal: '#0a7d2c', watch: '#f2c200', warning: '#d9480f', critical: '#b00000' };
  K.colour = colour;
  K.levelOf = function (cm, t) {
    if (cm === null || cm === undefined) return 'normal';
    if (cm >= t.critical.cm) return 'critical';
    if (cm >= t.warning.cm) return 'warning';
    if (cm >= t.watch.cm) return 'watch';
    return 'normal';
  };

  // readings: [{ts, level_cm}], station: {thresholds}, from/to: Date. Returns an <svg>.
  K.lineChart = function (readings, station, from, to, opts) {
    opts = opts || {};
    const W = opts.width || 900, H = opts.height || 320, L = 64, R = 16, T = 16, B = 40;
    const t = station.thresholds;
    const values = readings.map((r) => r.level_cm);
    const lo = Math.min(0, ...values) , hi = Math.max(t.critical.cm * 1.1, ...values.map((v) => v * 1.05));
    const x = (d) => L + ((d - from) / (to - from)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || 'level chart' });
    svg.append(el('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: '#fff', stroke: '#555' }));
    // bands between thresholds, lightly
    const bands = [['watch', t.watch.cm, t.warning.cm], ['warning', t.warning.cm, t.critical.cm], ['critical', t.critical.cm, hi]];
    for (const [lv, a, b] of bands) {
      svg.append(el('rect', { x: L, y: y(Math.min(b, hi)), width: W - L - R, height: Math.max(0, y(a) - y(Math.min(b, hi))),
        fill: colour[lv], 'fill-opacity': 0.14 }));
      svg.append(el('line', { x1: L, x2: W - R, y1: y(a), y2: y(a), stroke: colour[lv], 'stroke-width': 2, 'stroke-dasharray': '8 5' }));
      svg.append(el('text', { x: W - R - 4, y: y(a) - 4, 'text-anchor': 'end', 'font-size': 15, fill: '#111' },
        `${a} · ${K.t(K.levels[lv][0], lv)}`));
    }
    // axes: 5 value ticks, 6 time ticks
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      svg.append(el('text', { x: L - 6, y: y(v) + 5, 'text-anchor': 'end', 'font-size': 15 }, Math.round(v)));
    }
    for (let i = 0; i <= 6; i++) {
      const d = new Date(+from + ((to - from) * i) / 6);
      svg.append(el('line', { x1: x(d), x2: x(d), y1: H - B, y2: H - B + 5, stroke: '#111' }));
      svg.append(el('text', { x: x(d), y: H - B + 22, 'text-anchor': 'middle', 'font-size': 15 }, K.time(d.toISOString())));
    }
    svg.append(el('text', { x: 8, y: T + 4, 'font-size': 15, transform: `rotate(90 8 ${T + 4})` }, 'cm'));
    if (readings.length) {
      const pts = readings.map((r) => `${x(new Date(r.ts)).toFixed(1)},${y(r.level_cm).toFixed(1)}`).join(' ');
      svg.append(el('polyline', { points: pts, fill: 'none', stroke: '#0047ab', 'stroke-width': 3, 'stroke-linejoin': 'round' }));
      const last = readings[readings.length - 1];
      svg.append(el('circle', { cx: x(new Date(last.ts)), cy: y(last.level_cm), r: 6, fill: colour[K.levelOf(last.level_cm, t)], stroke: '#111' }));
    } else {
      svg.append(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'font-size': 20 }, K.t('ยังไม่มีข้อมูล', 'no readings yet')));
    }
    return svg;
  };
})();
