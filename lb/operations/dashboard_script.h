// The dashboard page's script (see dashboard_page.cpp), kept apart from its
// markup and style so each reads on its own.
#pragma once

#include <string>

namespace lb {

const char* dashboard_script();
// Each pool's section: its algorithm select and numbers (dashboard_pool_script.cpp).
std::string dashboard_pool_script();

}  // namespace lb
