// The live dashboard served at the admin server's GET /: one self-contained
// HTML page (CSS and JavaScript inline, no CDN) that polls /status every second.
#pragma once

#include <string>

namespace lb {

const std::string& dashboard_html();

}  // namespace lb
