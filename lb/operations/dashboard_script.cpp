#include "lb/operations/dashboard_script.h"

namespace lb {

// How it works, top to bottom:
//   poll()          fetches status every second (with the bearer token, if one was typed)
//   render()        a section per pool (poolSection(), dashboard_pool_script.cpp), a card per
//                   new backend in its pool's section, updates every card in place, drops removed ones
//   compare()       writes a line to the event log for each health, circuit, drain or fault change
//   sparkline()     draws requests/s since the page opened, from the growth of `requests` between polls
//   faultAction()   the fault buttons: PUT /backends/ID/fault with their part added, or DELETE
//   pollRequests()  the request view: the requests since the last poll, newest on top
// Tests read the data-* attributes: each pool's section has data-pool, each card
// data-backend-id, data-backend-url, data-healthy, data-circuit, data-draining and
// data-fault, and its numbers data-field (latency_ms, in_flight, ...); each request
// row data-request and data-status; #events lists the changes.
const char* dashboard_script() {
  return R"JS('use strict';
// The sparklines keep every sample since the page was opened (up to an hour)
// and draw all of it, over at least a minute of width.
const HISTORY_SECONDS = 3600, MIN_SPAN_SECONDS = 60;
const opened = Date.now();
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
  const stat = (label, field, wide) => el('div', wide ? {class: 'wide'} : {}, el('dt', {}, label),
                                         el('dd', {'data-field': field}));
  const button = (label, action) => el('button', {type: 'button', 'data-action': action}, label);
  const card = el('article', {class: 'card', id: 'backend-' + b.id, 'data-backend-id': b.id, 'data-backend-url': b.url},
    el('div', {class: 'title'}, el('h2', {}, b.url), el('span', {class: 'badge', 'data-field': 'health'})),
    el('div', {class: 'sub', 'data-field': 'sub'}),
    el('dl', {}, stat('in flight / limit', 'in_flight', true), stat('latency', 'latency_ms'),
       stat('req/s', 'rps'), stat('requests', 'requests'), stat('failures', 'failures'),
       stat('circuit', 'circuit'), stat('draining', 'draining')),
    document.createElementNS('http://www.w3.org/2000/svg', 'svg'),
    el('div', {class: 'check', 'data-field': 'check'}),
    el('div', {class: 'fault', 'data-field': 'fault'}),
    el('div', {class: 'actions'}, button('Drain', 'drain'), button('Enable', 'enable'), button('Remove', 'remove')),
    el('div', {class: 'actions faults'}, button('Fail health', 'fail-health'), button('Errors 50%', 'errors'),
       button('Slow 500 ms', 'slow'), button('Slow 5x', 'slow-5x'), button('Clear', 'clear-fault')));
  const svg = card.querySelector('svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${MIN_SPAN_SECONDS} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.innerHTML = '<polygon/><polyline/>';
  card.addEventListener('click', event => {
    const action = event.target.dataset.action;
    if (action) backendAction(b, action);
  });
  return card;
}

// The fault buttons add their part to the backend's fault (PUT replaces the
// whole fault, so the current one is sent along); Clear deletes it. "Slow 5x"
// holds each answer back so it comes five times later, health passing (a gray failure).
const FAULTS = {
  'fail-health': {fail_health: true},
  'errors': {abort_percent: 50, abort_status: 503},
  'slow': {delay_ms: 500, delay_percent: 100},
  'slow-5x': {slow_factor: 5},
};
const FAULT_ON = {  // whether a button's part is in the backend's fault
  'fail-health': fault => fault?.fail_health,
  'errors': fault => fault?.abort_percent > 0,
  'slow': fault => fault?.delay_ms > 0,
  'slow-5x': fault => fault?.slow_factor > 1,
};

function faultText(fault) {
  if (!fault) return 'none';
  const parts = [];
  if (fault.fail_health) parts.push('fail health');
  if (fault.abort_percent > 0) parts.push(`errors ${fault.abort_percent}% (${fault.abort_status})`);
  if (fault.delay_ms > 0 && fault.delay_percent > 0) {
    parts.push(`slow ${fault.delay_ms} ms` + (fault.delay_percent < 100 ? ` (${fault.delay_percent}%)` : ''));
  }
  if (fault.slow_factor > 1) parts.push(`slow ${fault.slow_factor}x`);
  return parts.join(' · ');
}

async function faultAction(b, action) {
  const path = 'backends/' + b.id + '/fault';
  const current = seen.get(b.id)?.status?.fault || {};
  const response = action === 'clear-fault'
    ? await api(path, {method: 'DELETE'})
    : await api(path, {method: 'PUT', body: JSON.stringify({...current, ...FAULTS[action]})});
  if (!response.ok) logEvent('fault on ' + b.url + ' failed: ' + await errorText(response), 'bad');
  poll();
}

async function backendAction(b, action) {
  if (action in FAULTS || action === 'clear-fault') return faultAction(b, action);
  if (action === 'remove' && !confirm('Remove ' + b.url + '? In-flight requests finish.')) return;
  const response = action === 'remove' ? await api('backends/' + b.id, {method: 'DELETE'})
                                       : await api('backends/' + b.id + '/' + action, {method: 'POST', body: ''});
  if (!response.ok) logEvent(action + ' ' + b.url + ' failed: ' + await errorText(response), 'bad');
  poll();
}

// Requests/s since the page was opened. All cards share one scale (`peak`),
// so a backend with twice the weight draws a line twice as high.
function sparkline(svg, samples, now, peak) {
  const span = Math.round(Math.min(HISTORY_SECONDS, Math.max(MIN_SPAN_SECONDS, (now - opened) / 1000)));
  svg.setAttribute('viewBox', `0 0 ${span} 100`);
  const x = s => (span - (now - s.t) / 1000).toFixed(2), y = s => (95 - 88 * s.rps / peak).toFixed(1);
  const points = samples.map(s => x(s) + ',' + y(s));
  svg.querySelector('polyline').setAttribute('points', points.join(' '));
  const area = samples.length ? [`${x(samples[0])},100`, ...points, `${span},100`] : [];
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
  if (faultText(before.fault) !== faultText(b.fault)) {
    changes.push([b.fault ? 'fault: ' + faultText(b.fault) : 'fault cleared', b.fault ? 'warn' : 'ok']);
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
  card.dataset.fault = faultText(b.fault);
  const badge = card.querySelector('.badge');
  badge.textContent = !b.healthy ? 'UNHEALTHY' : b.ejected ? 'EJECTED' : 'HEALTHY';
  badge.classList.toggle('bad', !b.healthy || b.ejected);
  const ramp = b.weight_percent < 100 ? ` · slow start ${b.weight_percent}%` : '';
  set('sub', `id ${b.id} · weight ${b.weight}${ramp} · ejections ${b.ejections}`);
  set('circuit', b.circuit);
  card.querySelector('[data-field="circuit"]').className = b.circuit;
  set('draining', b.draining ? 'yes' : 'no');
  card.querySelector('[data-field="draining"]').className = b.draining ? 'yes' : '';
  const limit = b.max_requests === 0 ? 'no limit' : b.max_requests ?? '-';  // 0: none
  set('in_flight', `${b.in_flight ?? b.active_requests} / ${limit}`);
  set('latency_ms', b.latency_ms ? millisText(b.latency_ms) : '-');  // 0: no estimate yet
  set('requests', b.requests.toLocaleString());
  set('failures', b.failures.toLocaleString());
  const rps = state.samples.length ? state.samples[state.samples.length - 1].rps : 0;
  set('rps', rps.toFixed(rps < 10 ? 1 : 0));
  const check = b.last_check;
  const detail = check.detail || (check.passed ? 'passed' : 'failed');
  set('check', check.time ? `last check ${clock(new Date(check.time))}: ${detail}` : 'not checked yet');
  set('fault', 'injected fault: ' + faultText(b.fault));
  for (const [action, on] of Object.entries(FAULT_ON)) {
    card.querySelector(`[data-action="${action}"]`).setAttribute('aria-pressed', on(b.fault) ? 'true' : 'false');
  }
  card.querySelector('[data-action="clear-fault"]').disabled = !b.fault;
  card.querySelector('[data-action="drain"]').disabled = b.draining;
  card.querySelector('[data-action="enable"]').disabled = !b.draining;
  sparkline(card.querySelector('svg'), state.samples, now, peak);
  return rps;
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
      state.samples = state.samples.filter(s => now - s.t <= HISTORY_SECONDS * 1000);
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
  showCertificates(status.certificates);
  firstRender = false;
}

// Automatic HTTPS: each name's certificate, red while a placeholder or past
// an error, amber in its last third (when renewal is due).
function showCertificates(certificates) {
  byId('certificates').hidden = !certificates;
  if (!certificates) return;
  byId('certificate-list').replaceChildren(...certificates.map(c => {
    const days = c.expires_in_seconds / 86400;
    const left = days >= 2 ? Math.floor(days) + ' days' : Math.max(0, Math.round(c.expires_in_seconds / 60)) + ' min';
    const text = c.source === 'placeholder'
      ? c.name + ': self-signed placeholder until the first certificate'
      : c.name + ': ' + c.source + ', expires ' + c.expires + ' (in ' + left + '), renewal from ' + c.next_attempt;
    const kind = c.source === 'placeholder' || c.last_error ? 'bad' : Date.parse(c.next_attempt) <= Date.now() ? 'warn' : 'ok';
    return el('li', {class: kind}, text + (c.last_error ? ' · last error: ' + c.last_error : ''));
  }));
}

// The live request view: GET requests?after=N each second (newest first),
// the rows kept newest on top. A row's class says how it went, so a retry or
// an error stands out; its last cell is the decision trace in words.
const REQUEST_ROWS = 40;
let lastRequest = 0;

function shortBackend(url) { return url ? url.replace(/^http:\/\//, '') : '-'; }

function requestRow(r) {
  const kind = r.status >= 500 ? 'bad' : r.status >= 400 ? 'warn' : 'ok';
  const retried = r.trace.includes('retrying');
  const row = el('tr', {'data-request': r.id, 'data-status': r.status, class: kind + (retried ? ' retried' : '')},
    el('td', {}, clock(new Date(r.time))), el('td', {}, r.method), el('td', {class: 'target'}, r.target),
    el('td', {}, String(r.status)), el('td', {}, shortBackend(r.backend)),
    el('td', {class: 'number'}, r.duration_ms.toFixed(r.duration_ms < 10 ? 1 : 0)), el('td', {class: 'trace'}, r.trace));
  row.title = (r.request_id ? 'request id ' + r.request_id + ' · ' : '') + 'client ' + r.client + ' · pool ' + r.pool;
  return row;
}

async function pollRequests() {
  const response = await api('requests?after=' + lastRequest);
  if (!response.ok) return;
  const newest = (await response.json()).requests;  // newest first
  if (!newest.length) return;
  lastRequest = newest[0].id;
  const body = byId('requests').tBodies[0];
  body.prepend(...newest.slice(0, REQUEST_ROWS).map(requestRow));
  while (body.rows.length > REQUEST_ROWS) body.lastChild.remove();
  byId('requests-empty').hidden = true;
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
    await pollRequests();
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
)JS";
}

}  // namespace lb
