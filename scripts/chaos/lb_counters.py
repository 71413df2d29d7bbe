#!/usr/bin/env python3
"""Print the load_balancer's request counters, read from its admin server.

Usage: lb_counters.py ADMIN_PORT   (on 127.0.0.1)

Prints one line: answered relayed relayed_5xx failures sent active healthy
  answered    = sum of lb_responses_total (every response the load balancer sent
                a client, its own errors included)
  relayed     = sum of lb_backend_requests_total (backend answers relayed, all
                classes); relayed_5xx = those of class="5xx"
  failures    = sum of lb_backend_failures_total
  sent        = sum of backends[].requests of /status (requests sent to backends)
  active      = sum of lb_backend_active_requests
  healthy     = sum of lb_backend_healthy
Used by scripts/chaos.sh. Standard library only.
"""
import json
import re
import sys
import urllib.request

base = "http://127.0.0.1:%s" % sys.argv[1]
text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
status = json.loads(urllib.request.urlopen(base + "/status", timeout=5).read())
sums = {}
for line in text.splitlines():
    m = re.match(r'^([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)$', line)
    if not m:
        continue
    name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
    sums[name] = sums.get(name, 0) + value
    if name == "lb_backend_requests_total" and 'class="5xx"' in labels:
        sums["relayed_5xx"] = sums.get("relayed_5xx", 0) + value
sent = sum(b.get("requests", 0) for b in status["backends"])
print("%d %d %d %d %d %d %d" % (sums.get("lb_responses_total", 0), sums.get("lb_backend_requests_total", 0),
      sums.get("relayed_5xx", 0), sums.get("lb_backend_failures_total", 0), sent,
      sums.get("lb_backend_active_requests", 0), sums.get("lb_backend_healthy", 0)))
