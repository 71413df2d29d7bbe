#include "lb/operations/dashboard_script.h"

#include <nlohmann/json.hpp>

#include "lb/balancing/selector.h"

namespace lb {

// Each pool's section of the dashboard (dashboard_script.cpp draws the cards in
// it): its algorithm as a <select> that sends PUT pools/NAME, and its balancing
// numbers from /status: requests waiting in its queue, the recent p50 and p99
// of time to first byte, the request limit and when requests are hedged.
// Tests read data-pool and data-algorithm on the section and data-field on
// the select and each number. It follows the main script in the page's one
// <script>, and only declares: the first render comes after the first fetch.
std::string dashboard_pool_script() {
  // The select offers the algorithms the load balancer knows (selector.cpp's table).
  return "\nconst ALGORITHMS = " + nlohmann::json(algorithm_names()).dump() + ";\n" + R"JS(
// A time in ms, as seconds from 10 s up; "-" while /status sends no number.
function millisText(value) {
  if (typeof value !== 'number') return '-';
  return value < 10000 ? value.toFixed(value < 10 ? 1 : 0) + ' ms' : (value / 1000).toFixed(0) + ' s';
}

// A request limit: 0 is none; "auto" is learned from latency.
function limitText(value) {
  return value === 0 ? 'no limit' : value === undefined || value === null ? '-' : String(value);
}

function hedgeText(value) {
  return typeof value === 'number' ? value + ' ms' : value || '-';
}

async function setAlgorithm(poolName, select) {
  select.dataset.sending = 'true';  // a poll answered meanwhile must not undo the choice
  const response = await api('pools/' + encodeURIComponent(poolName),
                             {method: 'PUT', body: JSON.stringify({algorithm: select.value})});
  delete select.dataset.sending;
  if (!response.ok) logEvent(`algorithm of pool ${poolName} not changed: ` + await errorText(response), 'bad');
  poll();
}

function createPoolSection(pool) {
  const select = el('select', {'data-field': 'algorithm', 'aria-label': 'algorithm of pool ' + pool.name},
                    ...ALGORITHMS.map(name => el('option', {value: name}, name)));
  select.addEventListener('change', () => setAlgorithm(pool.name, select));
  const number = (label, field) => el('span', {class: 'pool-stat'}, label + ' ', el('b', {'data-field': field}, '-'));
  return el('section', {class: 'pool', id: 'pool-' + pool.name, 'data-pool': pool.name},
    el('header', {}, el('h2', {}, pool.name), select, el('span', {class: 'sub', 'data-field': 'pool-sub'})),
    el('div', {class: 'pool-stats'}, number('queued', 'queued'), number('p50', 'latency_p50_ms'),
       number('p99', 'latency_p99_ms'), number('limit per backend', 'max_requests'),
       number('hedge after', 'hedge_after')),
    el('div', {class: 'cards'}));
}

// One section per pool, holding its backends' cards; made once, then updated.
function poolSection(pool) {
  let section = byId('pool-' + pool.name);
  if (!section) {
    section = createPoolSection(pool);
    byId('pools').append(section);
    byId('new-pool').append(el('option', {value: pool.name}, pool.name));
  } else if (section.dataset.algorithm !== pool.algorithm) {
    logEvent(`pool ${pool.name}: ${section.dataset.algorithm} -> ${pool.algorithm}`, 'warn');
  }
  section.dataset.algorithm = pool.algorithm;
  const select = section.querySelector('select[data-field="algorithm"]');
  if (![...select.options].some(option => option.value === pool.algorithm)) {
    select.append(el('option', {value: pool.algorithm}, pool.algorithm));
  }
  if (!select.dataset.sending && select.value !== pool.algorithm) select.value = pool.algorithm;
  const set = (field, text) => { section.querySelector(`.pool-stats [data-field="${field}"]`).textContent = text; };
  set('queued', typeof pool.queued === 'number' ? pool.queued : '-');
  set('latency_p50_ms', millisText(pool.latency_p50_ms));
  set('latency_p99_ms', millisText(pool.latency_p99_ms));
  set('max_requests', limitText(pool.max_requests));
  set('hedge_after', hedgeText(pool.hedge_after));
  const sticky = pool.sticky_cookie ? `sticky cookie ${pool.sticky_cookie} · ` : '';
  section.querySelector('[data-field="pool-sub"]').textContent =
    `${sticky}health ${pool.health_path} every ${pool.health_interval_seconds} s`;
  return section;
}
)JS";
}

}  // namespace lb
