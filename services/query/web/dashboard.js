/*  dashboard.js - darkscope's live dashboard.  Asks the query service's
    /api/ (the query protocol over HTTP) for the overview, the status and an
    activity-pattern raster, draws the report's tables and figures with
    ECharts, and asks again every few seconds while data arrive.  Each
    panel, once drawn with data, carries data-points="N" (the headless
    browser test reads it). */
'use strict';

const $ = (id) => document.getElementById(id);
const charts = {};
const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
let timer = null;
let first = true;

window.addEventListener('error', (e) => {
  document.body.dataset.error = String(e.message || e);
});

function chart(id) {
  if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
  return charts[id];
}

function mark(id, n) {
  $(id).dataset.points = String(n);
}

function params(extra) {
  const p = new URLSearchParams();
  for (const k of ['first_day', 'last_day', 'min_packets']) {
    const v = $(k).value;
    if (v) p.set(k, v);
  }
  for (const [k, v] of Object.entries(extra || {})) if (v !== '' && v !== undefined) p.set(k, v);
  return p.toString();
}

async function api(name, extra) {
  const r = await fetch(`api/${name}?${params(extra)}`, { cache: 'no-store' });
  const body = await r.json();
  if (!body.ok) throw new Error(`${name}: ${body.error}`);
  return body.result;
}

function table(id, head, rows) {
  const t = $(id);
  t.innerHTML = '';
  const tr = t.insertRow();
  for (const h of head) {
    const th = document.createElement('th');
    th.textContent = h;
    tr.appendChild(th);
  }
  for (const row of rows) {
    const r = t.insertRow();
    for (const cell of row) r.insertCell().textContent = typeof cell === 'number' ? fmt(cell) : cell;
  }
  mark(id, rows.length);
}

function topPP(list) {
  return (list || []).slice(0, 3).map((t) => `${t.pp} ${t.percent.toFixed(1)}%`).join(', ');
}

function drawTables(ov, st) {
  const w = ov.dataset.window, l = ov.dataset.last_day;
  table('dataset', ['', `window ${ov.window.first_day} – ${ov.window.last_day}`, `last day ${ov.window.last_day}`], [
    ['Sources', w.sources, l.sources], ['Packets', w.packets, l.packets],
    ['Ports', w.ports, l.ports], ['Port/protocol pairs', w.pp, l.pp],
    ['Top port/protocols', topPP(w.top_pp), topPP(l.top_pp)],
  ]);
  const ing = ov.ingest || {};
  table('filter', ['', 'value'], [
    [`Sources with ≥ ${ov.min_packets} packets`, ov.filter.sources_kept],
    ['Their packets', ov.filter.packets_kept],
    ['Packets read', ing.packets_read], ['Skipped: not IP', ing.non_ip],
    ['Skipped: malformed', ing.malformed], ['Skipped: impossible timestamps', ing.bad_time],
    ['Dropped by live capture', ing.dropped],
    ['Batches lost in transit (gaps)', ing.gaps],
    ['Input complete (every end of stream, no gap)', ing.complete === undefined ? '' : (ing.complete ? 'yes' : 'no')],
    ['Shards at end of stream', `${(st.eos_shards || []).length} of ${(st.shards || []).length}`],
  ]);
  table('classes', ['class', 'senders', 'packets', 'port/protocols', 'top port/protocols'],
        ov.classes.map((c) => [c.class, c.senders, c.packets, c.pp, topPP(c.top_pp)]));
  const sel = $('class'), keep = sel.value;
  const names = ov.classes.map((c) => c.class);
  if (sel.options.length - 1 !== names.length) {
    sel.innerHTML = '<option value="">all</option>' + names.map((n) => `<option>${n}</option>`).join('');
    sel.value = names.includes(keep) ? keep : '';
  }
}

function drawPorts(ov) {
  const rank = ov.port_ranking.slice(0, 5000);
  chart('chart-ports').setOption({
    tooltip: { trigger: 'axis', formatter: (p) => `rank ${p[0].data[0]}: port ${rank[p[0].data[0] - 1].port}<br>${fmt(p[0].data[1])} packets` },
    grid: { left: 70, right: 20, top: 20, bottom: 40 },
    xAxis: { type: 'log', name: 'rank', nameLocation: 'middle', nameGap: 25 },
    yAxis: { type: 'log', name: 'packets' },
    dataZoom: [{ type: 'inside' }],
    series: [{ type: 'line', showSymbol: false, data: rank.map((r, i) => [i + 1, r.packets]) }],
  });
  mark('chart-ports', rank.length);
}

function drawEcdf(ov) {
  const e = ov.sender_ecdf;
  chart('chart-ecdf').setOption({
    tooltip: { trigger: 'axis', formatter: (p) => `≤ ${fmt(p[0].data[0])} packets: ${(100 * p[0].data[1]).toFixed(2)}% of sources` },
    grid: { left: 60, right: 20, top: 20, bottom: 40 },
    xAxis: { type: 'log', name: 'packets per source', nameLocation: 'middle', nameGap: 25 },
    yAxis: { type: 'value', min: 0, max: 1, name: 'ECDF' },
    series: [{ type: 'line', step: 'end', showSymbol: false, data: e.map((p) => [p.packets, p.fraction]) }],
  });
  mark('chart-ecdf', e.length);
}

function drawDaily(ov) {
  const d = ov.daily;
  const keys = [['sources', 'sources'], ['sources_filtered', `≥ ${ov.min_packets} packets`],
                ['cumulative', 'cumulative'], ['cumulative_filtered', `cumulative ≥ ${ov.min_packets}`]];
  chart('chart-daily').setOption({
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 70, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'category', data: d.map((x) => x.day) },
    yAxis: { type: 'value', name: 'sources' },
    series: keys.map(([k, name]) => ({ type: 'line', name, data: d.map((x) => x[k]) })),
  });
  mark('chart-daily', d.length);
}

function drawHeatmap(ov) {
  const h = ov.heatmap, data = [];
  h.fraction.forEach((row, s) => row.forEach((v, c) => data.push([s, c, v])));
  chart('chart-heatmap').setOption({
    tooltip: { formatter: (p) => `${h.classes[p.data[1]]} / ${h.services[p.data[0]]}: ${(100 * p.data[2]).toFixed(1)}%` },
    grid: { left: 110, right: 20, top: 10, bottom: 80 },
    xAxis: { type: 'category', data: h.services, axisLabel: { rotate: 45 } },
    yAxis: { type: 'category', data: h.classes },
    visualMap: { min: 0, max: 1, calculable: true, orient: 'vertical', right: 0, top: 'center', itemHeight: 120, show: false },
    series: [{ type: 'heatmap', data }],
  });
  mark('chart-heatmap', data.length);
}

function drawPattern(p) {
  const cells = p.raster_cells || [], data = [];
  let max = 1;
  cells.forEach((row, r) => row.forEach((v, c) => { if (v) { data.push([c, r, v, Math.log10(v)]); if (v > max) max = v; } }));
  const w = p.width, h = p.height;
  const colUs = p.bins > 0 && w > 0 ? (p.bins / w) * p.bin_s * 1e6 : 0;
  const when = (c) => new Date((p.x0_us + c * colUs) / 1000).toISOString().slice(0, 16).replace('T', ' ');
  const tokens = (r) => `${Math.floor(r * p.sources / h)}–${Math.max(Math.floor((r + 1) * p.sources / h) - 1, 0)}`;
  $('pattern-note').textContent = `${fmt(p.sources)} sources, ${fmt(p.points)} (source, ${p.bin_s} s) points, raster ${w}×${h}`;
  chart('chart-pattern').setOption({
    tooltip: { formatter: (q) => `${when(q.data[0])} UTC<br>sources ${tokens(q.data[1])}<br>${fmt(q.data[2])} points` },
    grid: { left: 70, right: 20, top: 10, bottom: 60 },
    xAxis: { type: 'category', data: Array.from({ length: w }, (_, c) => when(c)), axisLabel: { hideOverlap: true } },
    yAxis: { type: 'category', data: Array.from({ length: h }, (_, r) => r), name: 'source (by first packet)',
             inverse: true, axisLabel: { show: false } },
    visualMap: { min: 0, max: Math.max(Math.log10(max), 0.01), dimension: 3, show: false,
                 inRange: { color: ['#9ecae1', '#08306b'] } },
    dataZoom: [{ type: 'inside', xAxisIndex: 0 }, { type: 'slider', xAxisIndex: 0, height: 15, bottom: 5 }],
    series: [{ type: 'heatmap', data, progressive: 20000 }],
  }, { replaceMerge: ['series'] });
  mark('chart-pattern', data.length);
}

async function refresh() {
  const state = $('state');
  try {
    const [st, ov] = await Promise.all([api('status'), api('overview')]);
    if (first && ov.window && ov.window.first_day) {
      $('first_day').value ||= ov.window.first_day;
      $('last_day').value ||= ov.window.last_day;
      first = false;
    }
    drawTables(ov, st);
    drawPorts(ov);
    drawEcdf(ov);
    drawDaily(ov);
    drawHeatmap(ov);
    const pat = await api('pattern', { class: $('class').value, width: 480, height: 200, limit: 0 });
    drawPattern(pat);
    const recs = (st.shards || []).reduce((a, s) => a + ((s.status && s.status.store && s.status.store.records) || 0), 0);
    state.textContent = st.complete ? `complete · ${fmt(recs)} records` : `streaming · ${fmt(recs)} records`;
    state.className = 'state ' + (st.complete ? 'ok' : 'busy');
    document.body.dataset.refreshed = new Date().toISOString();
  } catch (e) {
    state.textContent = String(e.message || e);
    state.className = 'state err';
  }
}

function schedule() {
  clearInterval(timer);
  if ($('auto').checked) timer = setInterval(refresh, Math.max(1, +$('every').value || 5) * 1000);
}

$('apply').addEventListener('click', refresh);
for (const id of ['first_day', 'last_day', 'min_packets', 'class']) $(id).addEventListener('change', refresh);
for (const id of ['auto', 'every']) $(id).addEventListener('change', schedule);
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
refresh();
schedule();
