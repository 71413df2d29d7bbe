-- wrk script for scripts/chaos.sh (wrk -s count.lua): counts requests sent, answers and
-- non-2xx answers by status, and prints them in done() as one line:
--   CHAOS sent=N answers=N non2xx=N statuses=502x3 503x10   (statuses=- when none)
-- Per thread: sent, answers, non2xx, seen ("502,504") and s<STATUS> = its count.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0; answers = 0; non2xx = 0; seen = "" end
function request() sent = sent + 1; return wrk.request() end
function response(status, headers, body)
  answers = answers + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = "s" .. status
    local n = _G[key]
    if n == nil then
      seen = seen == "" and tostring(status) or (seen .. "," .. status)
      n = 0
    end
    _G[key] = n + 1
  end
end
function done(summary, latency, requests)
  local s, a, n, by = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); a = a + t:get("answers"); n = n + t:get("non2xx")
    for st in string.gmatch(t:get("seen") or "", "%d+") do
      by[st] = (by[st] or 0) + (t:get("s" .. st) or 0)
    end
  end
  local parts = {}
  for st, c in pairs(by) do table.insert(parts, st .. "x" .. c) end
  table.sort(parts)
  io.write(string.format("CHAOS sent=%d answers=%d non2xx=%d statuses=%s\n", s, a, n,
    #parts > 0 and table.concat(parts, " ") or "-"))
end
