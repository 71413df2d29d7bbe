#include "lb/operations/dashboard_page.h"

namespace lb {

// The whole page is one string so the binary needs no files at run time.
// Every URL it fetches is relative ("status", "backends/ID/drain"), so the page
// also works behind a reverse proxy that serves the admin API under a prefix.
//
// How it works, top to bottom in the script:
//   poll()      fetches status every second (with the bearer token, if one was typed)
//   render()    a section per pool (poolSection()), a card per new backend in its pool's
//               section, updates every card in place, drops removed ones
//   compare()   writes a line to the event log for each health, circuit or drain change
//   sparkline() draws the last 60 s of requests/s, from the growth of `requests` between polls
// Tests read the data-* attributes: each pool's section has data-pool, each card
// data-backend-id, data-backend-url, data-healthy, data-circuit and
// data-draining; #events lists the changes.
const std::string& dashboard_html() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load balancer dashboard</title>
<style>
  :root { --ok: #1a7f37; --bad: #c62828; --warn: #b26a00; --muted: #57606a; --line: #d0d7de; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin: 0; padding: 24px 32px; background: #f6f8fa; color: #1f2328;
         font: 18px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  h1 { margin: 0; font-size: 28px; }
  header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: 12px 32px; margin-bottom: 20px; }
  .facts { display: flex; gap: 28px; flex-wrap: wrap; }
  .fact b { display: block; font-size: 24px; font-variant-numeric: tabular-nums; }
  .fact span, dt, .sub, .check, #conn { color: var(--muted); font-size: 15px; }
  #conn.down { color: var(--bad); font-weight: 600; }
  form { display: flex; gap: 8px; margin: 0 0 20px; }
  form#add { margin: 20px 0 0; }
  input, button { font: inherit; font-size: 16px; padding: 6px 12px; border: 1px solid var(--line);
                  border-radius: 6px; background: #fff; }
  button { cursor: pointer; } button:hover { background: #eaeef2; } button:disabled { opacity: .4; cursor: default; }
  .pool { margin: 0 0 28px; }
  .pool > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; margin: 0 0 10px; }
  .pool > header h2 { margin: 0; font-size: 22px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 20px; }
  .card { background: #fff; border: 2px solid var(--line); border-left: 10px solid var(--ok);
          border-radius: 10px; padding: 16px 18px; transition: background .5s, border-color .5s; }
  .card[data-healthy="false"], .card[data-ejected="true"] { border-color: var(--bad); background: #fff5f5; }
  .card[data-circuit="half-open"], .card[data-draining="true"] { border-left-color: var(--warn); }
  .card[data-circuit="open"] { border-left-color: var(--bad); }
  .card.flash { animation: flash 1.5s; }
  @keyframes flash { from { box-shadow: 0 0 0 8px #ffd33d; } to { box-shadow: 0 0 0 0 transparent; } }
  .card h2 { margin: 0; font-size: 18px; overflow-wrap: anywhere; }
  .title { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 4px 12px; }
  .badge { padding: 2px 8px; border-radius: 999px; color: #fff; font-size: 13px; font-weight: 700;
           letter-spacing: .04em; background: var(--ok); }
  .badge.bad { background: var(--bad); }
  dl { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 16px; margin: 12px 0; }
  dd { margin: 0; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
  dd.open { color: var(--bad); } dd.half-open, dd.yes { color: var(--warn); }
  svg.spark { width: 100%; height: 56px; display: block; background: #f6f8fa; border-radius: 6px; }
  svg.spark polyline { fill: none; stroke: #0969da; stroke-width: 2; vector-effect: non-scaling-stroke; }
  svg.spark polygon { fill: #0969da22; }
  .actions { display: flex; gap: 8px; margin-top: 12px; }
  #events { list-style: none; padding: 0; margin: 8px 0 0; font: 16px/1.6 ui-monospace, Menlo, Consolas, monospace; }
  #events li.bad { color: var(--bad); } #events li.ok { color: var(--ok); } #events li.warn { color: var(--warn); }
  h3 { margin: 28px 0 0; font-size: 18px; }
</style>
</head>
<body>
<header class="top">
  <h1>Load balancer</h1>
  <div class="facts">
    <div class="fact"><b id="algorithm">-</b><span>algorithm</span></div>
    <div class="fact"><b id="pool-count">-</b><span>pools</span></div>
    <div class="fact"><b id="uptime">-</b><span>uptime</span></div>
    <div class="fact"><b id="connections">-</b><span>open connections</span></div>
    <div class="fact"><b id="total-rps">-</b><span>requests/s</span></div>
  </div>
  <span id="conn">connecting...</span>
</header>
<form id="auth" hidden>
  <input id="token" type="password" placeholder="admin token" autocomplete="current-password">
  <button>Use token</button>
</form>
<main id="pools"></main>
<form id="add">
  <select id="new-pool" aria-label="pool"></select>
  <input id="new-url" placeholder="http://127.0.0.1:8004" size="28" required>
  <input id="new-weight" type="number" min="1" max="1000" value="1" style="width: 5em">
  <button>Add backend</button>
</form>
<h3>Events</h3>
<ul id="events"></ul>
<script>
'use strict';
const WINDOW_SECONDS = 60;
let token = sessionStorage.getItem('lb-admin-token') || '';
const seen = new Map();  // backend id -> {status, samples: [{t, rps}], lastRequests, lastTime}
let firstRender = true;  // backends already there when the page opened are not "added"

const byId = id => document.getElementById(id);

function api(path, options = {}) {
  const headers = token ? {Authorization: 'Bearer ' + token} : {};
  return fetch(path, {...options, headers, cache: 'no-store'});
}

async function errorText(response) {
  try { return (await response.json()).error; } catch { return 'HTTP ' + response.status; }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function clock(date) { return date.toLocaleTimeString([], {hour12: false}); }

function uptime(seconds) {
  const s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
  return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + (s % 60) + 's';
}

function logEvent(text, kind) {
  const events = byId('events');
  events.prepend(el('li', {class: kind}, clock(new Date()) + ' ' + text));
  while (events.children.length > 50) events.lastChild.remove();
}

// One card per backend; the values are filled in by update().
function createCard(b) {
  const stat = (label, field) => el('div', {}, el('dt', {}, label), el('dd', {'data-field': field}));
  const button = (label, action) => el('button', {type: 'button', 'data-action': action}, label);
  const card = el('article', {class: 'card', id: 'backend-' + b.id, 'data-backend-id': b.id, 'data-backend-url': b.url},
    el('div', {class: 'title'}, el('h2', {}, b.url), el('span', {class: 'badge', 'data-field': 'health'})),
    el('div', {class: 'sub', 'data-field': 'sub'}),
    el('dl', {}, stat('circuit', 'circuit'), stat('draining', 'draining'), stat('in flight', 'active_requests'),
       stat('requests', 'requests'), stat('failures', 'failures'), stat('req/s', 'rps')),
    document.createElementNS('http://www.w3.org/2000/svg', 'svg'),
    el('div', {class: 'check', 'data-field': 'check'}),
    el('div', {class: 'actions'}, button('Drain', 'drain'), button('Enable', 'enable'), button('Remove', 'remove')));
  const svg = card.querySelector('svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${WINDOW_SECONDS} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.innerHTML = '<polygon/><polyline/>';
  card.addEventListener('click', event => {
    const action = event.target.dataset.action;
    if (action) backendAction(b, action);
  });
  return card;
}

async function backendAction(b, action) {
  if (action === 'remove' && !confirm('Remove ' + b.url + '? In-flight requests finish.')) return;
  const response = action === 'remove' ? await api('backends/' + b.id, {method: 'DELETE'})
                                       : await api('backends/' + b.id + '/' + action, {method: 'POST', body: ''});
  if (!response.ok) logEvent(action + ' ' + b.url + ' failed: ' + await errorText(response), 'bad');
  poll();
}

// Requests/s over the last WINDOW_SECONDS. All cards share one scale (`peak`),
// so a backend with twice the weight draws a line twice as high.
function sparkline(svg, samples, now, peak) {
  const x = s => (WINDOW_SECONDS - (now - s.t) / 1000).toFixed(2), y = s => (95 - 88 * s.rps / peak).toFixed(1);
  const points = samples.map(s => x(s) + ',' + y(s));
  svg.querySelector('polyline').setAttribute('points', points.join(' '));
  const area = samples.length ? [`${x(samples[0])},100`, ...points, `${WINDOW_SECONDS},100`] : [];
  svg.querySelector('polygon').setAttribute('points', area.join(' '));
}

// Logs what changed since the previous poll, so a flip is visible as it happens.
function compare(before, b, card) {
  const changes = [];  // [text, colour class]
  if (before.healthy !== b.healthy) {
    const why = !b.healthy && b.last_check.detail ? ' (' + b.last_check.detail + ')' : '';
    changes.push(['became ' + (b.healthy ? 'HEALTHY' : 'UNHEALTHY') + why, b.healthy ? 'ok' : 'bad']);
  }
  if (before.circuit !== b.circuit) {
    changes.push(['circuit ' + before.circuit + ' -> ' + b.circuit, {closed: 'ok', open: 'bad'}[b.circuit] || 'warn']);
  }
  if (before.draining !== b.draining) {
    changes.push([b.draining ? 'is draining' : 'is enabled again', b.draining ? 'warn' : 'ok']);
  }
  if (before.ejected !== b.ejected) {
    changes.push([b.ejected ? `is EJECTED for ${Math.round(b.ejected_seconds_left)} s` : 'is back from ejection',
                  b.ejected ? 'bad' : 'ok']);
  }
  for (const [text, kind] of changes) logEvent(b.url + ' ' + text, kind);
  if (changes.length) {
    card.classList.remove('flash');
    void card.offsetWidth;  // restart the animation
    card.classList.add('flash');
  }
}

function update(card, b, state, now, peak) {
  const set = (field, text) => { card.querySelector(`[data-field="${field}"]`).textContent = text; };
  card.dataset.healthy = b.healthy;
  card.dataset.circuit = b.circuit;
  card.dataset.draining = b.draining;
  card.dataset.ejected = b.ejected;
  const badge = card.querySelector('.badge');
  badge.textContent = !b.healthy ? 'UNHEALTHY' : b.ejected ? 'EJECTED' : 'HEALTHY';
  badge.classList.toggle('bad', !b.healthy || b.ejected);
  const ramp = b.weight_percent < 100 ? ` · slow start ${b.weight_percent}%` : '';
  set('sub', `id ${b.id} · weight ${b.weight}${ramp} · ejections ${b.ejections}`);
  set('circuit', b.circuit);
  card.querySelector('[data-field="circuit"]').className = b.circuit;
  set('draining', b.draining ? 'yes' : 'no');
  card.querySelector('[data-field="draining"]').className = b.draining ? 'yes' : '';
  set('active_requests', b.active_requests);
  set('requests', b.requests.toLocaleString());
  set('failures', b.failures.toLocaleString());
  const rps = state.samples.length ? state.samples[state.samples.length - 1].rps : 0;
  set('rps', rps.toFixed(rps < 10 ? 1 : 0));
  const check = b.last_check;
  const detail = check.detail || (check.passed ? 'passed' : 'failed');
  set('check', check.time ? `last check ${clock(new Date(check.time))}: ${detail}` : 'not checked yet');
  card.querySelector('[data-action="drain"]').disabled = b.draining;
  card.querySelector('[data-action="enable"]').disabled = !b.draining;
  sparkline(card.querySelector('svg'), state.samples, now, peak);
  return rps;
}

// One section per pool, holding its backends' cards.
function poolSection(pool) {
  let section = byId('pool-' + pool.name);
  if (!section) {
    section = el('section', {class: 'pool', id: 'pool-' + pool.name, 'data-pool': pool.name},
      el('header', {}, el('h2', {}, pool.name), el('span', {class: 'sub', 'data-field': 'pool-sub'})),
      el('div', {class: 'cards'}));
    byId('pools').append(section);
    byId('new-pool').append(el('option', {value: pool.name}, pool.name));
  }
  const sticky = pool.sticky_cookie ? ` · sticky cookie ${pool.sticky_cookie}` : '';
  section.querySelector('[data-field="pool-sub"]').textContent =
    `${pool.algorithm}${sticky} · health ${pool.health_path} every ${pool.health_interval_seconds} s`;
  return section;
}

function render(status) {
  const now = Date.now();
  const shown = [];  // [card, backend, state] in /status order
  const backends = status.pools.flatMap(pool => {
    const cards = poolSection(pool).querySelector('.cards');
    return pool.backends.map(b => [b, cards]);
  });
  for (const [b, cards] of backends) {
    let state = seen.get(b.id), card = byId('backend-' + b.id);
    if (!state) {
      state = {samples: [], lastRequests: b.requests, lastTime: now};
      seen.set(b.id, state);
      card = createCard(b);
      cards.append(card);
      if (!firstRender) logEvent(b.url + ' added', 'ok');
      else if (!b.healthy) logEvent(`${b.url} is UNHEALTHY (${b.last_check.detail || 'not checked yet'})`, 'bad');
    } else {
      compare(state.status, b, card);
      const seconds = (now - state.lastTime) / 1000;
      if (seconds > 0) state.samples.push({t: now, rps: Math.max(0, b.requests - state.lastRequests) / seconds});
      state.samples = state.samples.filter(s => now - s.t <= WINDOW_SECONDS * 1000);
      state.lastRequests = b.requests;
      state.lastTime = now;
    }
    state.status = b;
    shown.push([card, b, state]);
  }
  const peak = Math.max(1, ...shown.flatMap(([, , state]) => state.samples.map(s => s.rps)));
  let totalRps = 0;
  for (const [card, b, state] of shown) totalRps += update(card, b, state, now, peak);
  for (const [id, state] of seen) {
    if (shown.some(([, b]) => b.id === id)) continue;
    logEvent(state.status.url + ' removed', 'bad');
    byId('backend-' + id).remove();
    seen.delete(id);
  }
  for (const section of [...document.querySelectorAll('section.pool')]) {  // a pool a reload took away
    if (status.pools.some(pool => pool.name === section.dataset.pool)) continue;
    section.remove();
    document.querySelector(`#new-pool option[value="${section.dataset.pool}"]`)?.remove();
  }
  byId('algorithm').textContent = [...new Set(status.pools.map(pool => pool.algorithm))].join(', ');
  byId('pool-count').textContent = status.pools.length;
  byId('uptime').textContent = uptime(status.uptime_seconds);
  byId('connections').textContent = status.open_connections;
  byId('total-rps').textContent = totalRps.toFixed(totalRps < 10 ? 1 : 0);
  firstRender = false;
}

let polls = 0, rendered = 0;  // a button's extra poll may overlap the timer's: render only the newest

async function poll() {
  const conn = byId('conn'), number = ++polls;
  try {
    const response = await api('status');
    byId('auth').hidden = response.status !== 401;
    if (response.status === 401) throw new Error('admin token missing or wrong');
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const status = await response.json();
    if (number < rendered) return;
    rendered = number;
    render(status);
    conn.textContent = 'updated ' + clock(new Date());
    conn.className = '';
  } catch (error) {
    conn.textContent = 'admin server: ' + error.message;
    conn.className = 'down';
  }
}

byId('auth').addEventListener('submit', event => {
  event.preventDefault();
  token = byId('token').value.trim();
  sessionStorage.setItem('lb-admin-token', token);
  poll();
});

byId('add').addEventListener('submit', async event => {
  event.preventDefault();
  const body = {url: byId('new-url').value.trim(), weight: Number(byId('new-weight').value),
                pool: byId('new-pool').value || 'default'};
  const response = await api('backends', {method: 'POST', body: JSON.stringify(body)});
  if (!response.ok) logEvent('add ' + body.url + ' failed: ' + await errorText(response), 'bad');
  else byId('new-url').value = '';
  poll();
});

// Each poll starts a second after the previous one ended, so slow answers never pile up.
(async function loop() {
  await poll();
  setTimeout(loop, 1000);
})();
</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace lb
