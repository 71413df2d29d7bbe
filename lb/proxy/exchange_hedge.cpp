// Exchange, part 2b: a hedged request (--hedge-after; README "Hedged
// requests"). A body-less replayable request whose backend has sent nothing
// after the pool's hedge delay is also sent to another backend that has room
// now (a hedge never queues), within the retry budget. The connection's
// thread polls both upstream sockets; the first to answer wins and the
// attempt goes on with it. The other connection is closed, never pooled, and
// its place given back; it is not a failure of its backend.
#include <poll.h>

#include <cmath>

#include "lb/balancing/event_log.h"
#include "lb/proxy/exchange.h"

namespace lb {

namespace {

// Readable within `wait` (bytes, or the peer closed): the first answer has begun.
bool readable_within(Stream& upstream, Millis wait) {
  if (upstream.has_buffered_input()) return true;
  pollfd watch{upstream.fd(), POLLIN, 0};
  return ::poll(&watch, 1, static_cast<int>(wait.count())) > 0;
}

// 0 or 1: the stream that became readable first; -1: neither within `wait`.
int first_readable(Stream& first, Stream& second, Millis wait) {
  if (first.has_buffered_input()) return 0;
  if (second.has_buffered_input()) return 1;
  pollfd watch[2] = {{first.fd(), POLLIN, 0}, {second.fd(), POLLIN, 0}};
  if (::poll(watch, 2, static_cast<int>(std::max(Millis(0), wait).count())) <= 0) return -1;
  return watch[0].revents != 0 ? 0 : 1;
}

double ms_since(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point now) {
  return std::chrono::duration<double, std::milli>(now - start).count();
}

}  // namespace

// How long the first attempt may stay silent before a hedge goes out, or
// nullopt when this request is not hedged.
std::optional<Millis> Exchange::hedge_delay() const {
  const HedgePolicy& hedge = pool_->settings.hedge;
  if (hedge.mode == HedgePolicy::Mode::Off || !replayable_ || request_.has_body() || request_.upgrade) return std::nullopt;
  if (pool_->backends.size() < 2) return std::nullopt;
  if (hedge.mode == HedgePolicy::Mode::Fixed) return hedge.after;
  const double p95 = pool_->shared->response_times.percentile(0.95, Clock::now());
  if (p95 <= 0) return std::nullopt;  // nothing known yet
  return Millis(std::max(1L, std::lround(p95)));
}

// The hedge's backend: the algorithm's pick among the others with a place free now.
Exchange::Choice Exchange::choose_hedge(const Choice& first) {
  SelectionContext selection;
  selection.avoid.push_back(first.backend.get());
  Choice hedge;
  std::shared_ptr<Backend> backend = pool_->selector->pick(selection);
  if (!backend) return hedge;
  if (!pool_->limited) {
    hedge.place = BackendPlace::take(backend);
  } else if (backend->try_take_place()) {
    hedge.place = BackendPlace(backend, pool_->queue_for_places());
  } else {
    return hedge;
  }
  CircuitTransition transition;
  hedge.ticket = backend->passive_health().admit(&transition);
  if (transition.changed) log_circuit_change(*backend, transition);
  if (hedge.ticket) hedge.backend = std::move(backend);
  return hedge;  // without a backend its place is given back here
}

// After the request went out on `upstream` to `choice`'s backend: hedge it
// if it stays silent. True when the hedge answered first: `choice`,
// `upstream`, `latency` and `started` are then the hedge's.
bool Exchange::race_hedge(Choice& choice, std::unique_ptr<Stream>& upstream, Backend::LatencyTicket& latency,
                          Clock::time_point& started, Millis first_byte_wait) {
  const std::optional<Millis> delay = hedge_delay();
  if (!delay || *delay >= first_byte_wait || readable_within(*upstream, *delay)) return false;
  if (!context_.retry_budget.has_room()) return false;
  Choice hedge = choose_hedge(choice);
  if (!hedge.backend || !context_.retry_budget.try_withdraw()) return false;
  bool reused = false;
  AttemptFacts failed;
  const size_t first_span = attempt_span_;
  open_attempt_span(*hedge.backend, /*hedge=*/true);
  std::unique_ptr<Stream> second = connect(*hedge.backend, /*fresh_connection=*/false, reused, failed);
  const auto hedge_started = Clock::now();
  Backend::LatencyTicket hedge_latency = hedge.backend->latency_begin(hedge_started);
  if (second) failed = send_request(*second);
  if (!second || failed.end != AttemptEnd::Answered) {  // the first attempt goes on alone
    hedge.backend->latency_end(hedge_latency, ms_since(hedge_started, Clock::now()), /*failed=*/true, Clock::now());
    hedge.backend->breaker().end_request(hedge.ticket, false);
    settle_hedge_spans(first_span, /*hedge_won=*/false, &failed);
    return false;
  }
  context_.metrics.hedged_requests.fetch_add(1, std::memory_order_relaxed);
  const Millis left = first_byte_wait - std::chrono::duration_cast<Millis>(hedge_started - started);
  const bool hedge_won = first_readable(*upstream, *second, left) == 1;
  trace_.note_hedge(*hedge.backend, *delay, hedge_won);
  const auto now = Clock::now();
  Choice& loser = hedge_won ? choice : hedge;
  if (hedge_won) {  // the first backend is at least this slow
    loser.backend->latency_end(latency, ms_since(started, now), /*failed=*/false, now);
  } else {  // the hedge's time says nothing: it had barely begun
    loser.backend->latency_cancel(hedge_latency);
  }
  loser.backend->breaker().end_request(loser.ticket, true);
  settle_hedge_spans(first_span, hedge_won, nullptr);
  if (!hedge_won) return false;  // `second` closes here, and the hedge's place is given back
  upstream = std::move(second);  // the first connection closes: never pooled
  latency = hedge_latency;
  started = hedge_started;
  choice = std::move(hedge);
  trace_.note_chosen(*choice.backend);
  return true;
}

}  // namespace lb
