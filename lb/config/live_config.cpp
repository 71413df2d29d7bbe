#include "lb/config/live_config.h"

#include <algorithm>
#include <stdexcept>

#include "lb/protection/redis_rate_limiter.h"

namespace lb {

namespace {

std::shared_ptr<const TlsServerContext> build_tls(const Options& options, const acme::CertificateManager* acme) {
  std::vector<TlsCertificate> certificates;
  for (size_t i = 0; i < options.tls_certs.size(); ++i) {
    certificates.push_back({options.tls_certs[i], options.tls_keys[i]});
  }
  AlpnChallengeLookup challenges;
  if (acme) {
    for (const acme::NamedCertificate& named : acme->certificates()) {
      certificates.push_back({"", "", named.pem.chain_pem, named.pem.key_pem});
    }
    challenges = [&board = acme->board()](const std::string& name) -> std::optional<TlsCertificate> {
      std::optional<acme::PemPair> challenge = board.tls_alpn01(name);
      if (!challenge) return std::nullopt;
      return TlsCertificate{"", "", challenge->certificate, challenge->key};
    };
  }
  if (certificates.empty()) return nullptr;
  const ClientCertificatePolicy clients{options.tls_client_ca, options.tls_client_verify != "optional"};
  return std::make_shared<TlsServerContext>(certificates, /*offer_h2=*/!options.no_http2, clients, challenges);
}

}  // namespace

std::shared_ptr<const LiveSettings> build_live_settings(const Options& options, const LiveSettings* running,
                                                        Metrics& metrics, const acme::CertificateManager* acme) {
  auto live = std::make_shared<LiveSettings>();
  live->proxy = options.proxy;
  live->trusted_proxies = TrustedProxies::parse(options.trusted_proxies);  // checked by parse_options()
  live->proxy_protocol_from = TrustedProxies::parse(options.proxy_protocol_from);
  live->access = AccessList::parse(options.allow, options.deny);  // checked by parse_options() too
  live->tls = build_tls(options, acme);
  if (options.rate_limit > 0) {
    const auto& kept = running ? running->rate_limiter : nullptr;
    if (kept && kept->rate() == options.rate_limit && kept->burst() == options.rate_burst &&
        kept->store() == options.rate_limit_redis) {
      live->rate_limiter = kept;
    } else if (!options.rate_limit_redis.empty()) {
      live->rate_limiter = std::make_shared<RedisRateLimiter>(options.rate_limit_redis, options.rate_limit,
                                                              options.rate_burst, &metrics.rate_limit_local_decisions);
    } else {
      live->rate_limiter = std::make_shared<RateLimiter>(options.rate_limit, options.rate_burst);
    }
  }
  return live;
}

void load_backend_tls(std::vector<PoolSpec>& pools) {
  std::vector<const PoolSettings*> loaded;  // the first pool with each set of files
  for (auto& pool : pools) {
    PoolSettings& settings = pool.settings;
    auto same = std::find_if(loaded.begin(), loaded.end(),
                             [&](const PoolSettings* other) { return other->backend_tls == settings.backend_tls; });
    if (same != loaded.end()) {
      settings.backend_tls_context = (*same)->backend_tls_context;
      continue;
    }
    try {
      settings.backend_tls_context = std::make_shared<TlsClientContext>(settings.backend_tls);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("pool '" + settings.name + "' backends: " + e.what());
    }
    loaded.push_back(&settings);
  }
}

}  // namespace lb
