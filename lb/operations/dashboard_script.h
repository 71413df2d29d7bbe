// The dashboard page's script (see dashboard_page.cpp), kept apart from its
// markup and style so each reads on its own.
#pragma once

namespace lb {

const char* dashboard_script();

}  // namespace lb
