#include "lb/operations/dashboard_page.h"

#include "lb/operations/dashboard_script.h"

namespace lb {

// The whole page is one string so the binary needs no files at run time: this
// file holds its markup and style, dashboard_script.cpp and
// dashboard_pool_script.cpp its script. Every URL
// it fetches is relative ("status", "backends/ID/drain"), so the page also
// works behind a reverse proxy that serves the admin API under a prefix.
const std::string& dashboard_html() {
  static const std::string page = std::string(R"HTML(<!doctype html>
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
  .pool > header select { font: inherit; font-size: 16px; padding: 4px 8px; border: 1px solid var(--line);
                          border-radius: 6px; background: #fff; }
  .pool-stats { display: flex; flex-wrap: wrap; gap: 4px 24px; margin: 0 0 12px; color: var(--muted); font-size: 15px; }
  .pool-stats b { color: #1f2328; font-size: 20px; font-variant-numeric: tabular-nums; }
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
  dl .wide { grid-column: span 2; }
  dd.open { color: var(--bad); } dd.half-open, dd.yes { color: var(--warn); }
  svg.spark { width: 100%; height: 56px; display: block; background: #f6f8fa; border-radius: 6px; }
  svg.spark polyline { fill: none; stroke: #0969da; stroke-width: 2; vector-effect: non-scaling-stroke; }
  svg.spark polygon { fill: #0969da22; }
  .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
  .actions.faults button[aria-pressed="true"] { background: #fff1c2; border-color: var(--warn); font-weight: 600; }
  .fault { color: var(--muted); font-size: 15px; margin-top: 4px; }
  .card:not([data-fault="none"]) .fault { color: var(--warn); font-weight: 600; }
  table#requests { width: 100%; border-collapse: collapse; margin-top: 8px; background: #fff; font-size: 15px; }
  #requests th, #requests td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  #requests th { color: var(--muted); font-weight: 600; }
  #requests td.number { text-align: right; font-variant-numeric: tabular-nums; }
  #requests td.target { max-width: 16em; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace; }
  #requests td.trace { color: var(--muted); }
  #requests tr.bad td { color: var(--bad); } #requests tr.warn td { color: var(--warn); }
  #requests tr.retried td.trace { color: var(--warn); font-weight: 600; }
  #events { list-style: none; padding: 0; margin: 8px 0 0; font: 16px/1.6 ui-monospace, Menlo, Consolas, monospace; }
  #certificate-list { list-style: none; padding: 0; margin: 8px 0 0; font-size: 16px; line-height: 1.6; }
  #certificate-list li.bad { color: var(--bad); } #certificate-list li.warn { color: var(--warn); }
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
<section id="certificates" hidden>
  <h3>Certificates <span class="sub">from the ACME server: expiry and renewal of each name</span></h3>
  <ul id="certificate-list"></ul>
</section>
<h3>Requests <span class="sub">newest first: what the load balancer decided for each one</span></h3>
<table id="requests">
  <thead><tr><th>time</th><th>method</th><th>path</th><th>status</th><th>backend</th><th>ms</th><th>decision</th></tr></thead>
  <tbody></tbody>
</table>
<p id="requests-empty" class="sub">No requests yet: try <code>curl localhost:8000/</code>.</p>
<h3>Events</h3>
<ul id="events"></ul>
<script>
)HTML") + dashboard_script() + dashboard_pool_script() + R"HTML(</script>
</body>
</html>
)HTML";
  return page;
}

}  // namespace lb
