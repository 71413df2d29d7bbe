// compression_levels: the CPU cost per MB and the size of each encoding at
// each level, as the relay runs them (lb/http/response_compressor.h: 16 KiB
// pieces, a flush after each, as lb/proxy/exchange_relay.cpp does once per
// read). The numbers behind the default levels (README "Compression").
//
//   build/bin/compression_levels [--no-flush] [FILE...]
//
// --no-flush: one flush at the end only, to see what flushing per read costs.
// Without files it times a generated JSON API answer and HTML page (~1 MB
// each); with files, those (a real page saved with curl is the best test).
#include <time.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lb/http/response_compressor.h"

using namespace lb;

namespace {

constexpr size_t kPiece = 16 * 1024;  // one relay read (ConnectionBuffers::kBufferBytes)
constexpr double kMinSeconds = 0.3;   // time each level at least this long
bool flush_each_piece = true;         // as the relay does; --no-flush: only at the end

struct CountingSink : EncodedSink {
  size_t bytes = 0;
  bool on_encoded(const char*, size_t len) override {
    bytes += len;
    return true;
  }
};

double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// One body through a fresh encoder; the encoded size.
size_t encode_once(ContentCoding coding, int level, const std::string& body) {
  CompressionLevels levels;
  levels.zstd = levels.brotli = levels.gzip = level;
  auto compressor = make_compressor(coding, levels);
  CountingSink sink;
  for (size_t at = 0; at < body.size(); at += kPiece) {
    compressor->write(body.data() + at, std::min(kPiece, body.size() - at), sink);
    if (flush_each_piece) compressor->flush(sink);
  }
  compressor->finish(sink);
  return sink.bytes;
}

std::string generated_json() {
  std::string out = "{\"items\":[";
  for (int i = 0; i < 6000; ++i) {
    if (i) out += ",";
    out += "{\"id\":" + std::to_string(100000 + i * 7919 % 900000) + ",\"sku\":\"SKU-" + std::to_string(i * 104729 % 99991) +
           "\",\"name\":\"Product " + std::to_string(i) + "\",\"price\":" + std::to_string(i * 37 % 10000 / 100.0) +
           ",\"in_stock\":" + (i % 4 ? "true" : "false") + ",\"tags\":[\"" + (i % 2 ? "sale" : "new") +
           "\",\"category-" + std::to_string(i % 17) + "\"],\"updated\":\"2026-11-" + std::to_string(10 + i % 20) +
           "T12:" + std::to_string(10 + i % 50) + ":00Z\"}";
  }
  return out + "]}";
}

std::string generated_html() {
  std::string out = "<!doctype html><html><head><title>Catalogue</title></head><body><table>\n";
  for (int i = 0; i < 9000; ++i) {
    out += "<tr class=\"row" + std::to_string(i % 2) + "\"><td><a href=\"/product/" + std::to_string(i * 7919 % 100003) +
           "\">Product " + std::to_string(i) + "</a></td><td class=\"price\">" + std::to_string(i * 37 % 10000) +
           "</td><td>" + (i % 3 ? "In stock" : "Ships in 3 days") + "</td></tr>\n";
  }
  return out + "</table></body></html>\n";
}

void measure(const std::string& label, const std::string& body) {
  const std::pair<ContentCoding, std::pair<int, int>> codings[] = {
      {ContentCoding::Zstd, {1, 19}}, {ContentCoding::Brotli, {0, 11}}, {ContentCoding::Gzip, {1, 9}}};
  const double mb = static_cast<double>(body.size()) / 1e6;
  std::printf("\n%s: %.2f MB\n\n| encoding | level | CPU ms per MB | MB/s | size |\n|---|---|---|---|---|\n",
              label.c_str(), mb);
  for (const auto& [coding, range] : codings) {
    for (int level = range.first; level <= range.second; ++level) {
      size_t encoded = 0;
      int runs = 0;
      const double start = cpu_seconds();
      double spent = 0;
      do {
        encoded = encode_once(coding, level, body);
        ++runs;
        spent = cpu_seconds() - start;
      } while (spent < kMinSeconds);
      const double per_mb_ms = spent * 1000 / (runs * mb);
      std::printf("| %s | %d | %.2f | %.0f | %.1f%% |\n", std::string(coding_name(coding)).c_str(), level, per_mb_ms,
                  1000 / per_mb_ms, 100.0 * static_cast<double>(encoded) / static_cast<double>(body.size()));
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--no-flush") {
    flush_each_piece = false;
    --argc;
    ++argv;
  }
  if (argc == 1) {
    measure("generated JSON (an API answer)", generated_json());
    measure("generated HTML (a table page)", generated_html());
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    std::ifstream file(argv[i], std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "compression_levels: cannot read %s\n", argv[i]);
      return 2;
    }
    std::stringstream text;
    text << file.rdbuf();
    measure(argv[i], text.str());
  }
  return 0;
}
