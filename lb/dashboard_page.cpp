#include "lb/dashboard_page.h"

namespace lb {

// Placeholder page until the dashboard lands; it already polls /status.
const std::string& dashboard_html() {
  static const std::string page = R"HTML(<!doctype html>
<html><head><meta charset="utf-8"><title>Load balancer</title></head>
<body><h1>Load balancer</h1><pre id="status">loading...</pre>
<script>
async function refresh() {
  const response = await fetch('status', {cache: 'no-store'});
  document.getElementById('status').textContent = JSON.stringify(await response.json(), null, 2);
}
refresh(); setInterval(refresh, 1000);
</script></body></html>
)HTML";
  return page;
}

}  // namespace lb
