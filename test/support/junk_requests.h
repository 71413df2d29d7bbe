// Hostile requests for cross-talk tests: smuggling seeds (bodies a backend
// may ignore carrying a second request, CL/TE conflicts, disguised and folded
// framing headers, control bytes, duplicate Host, absolute targets, pipelined
// pairs) and a mutator that bends them at random (seeded, reproducible).
#pragma once

#include <random>
#include <string>
#include <vector>

namespace test_support {

std::vector<std::string> junk_seeds();

// One to three random changes: a bit flipped, a CR/LF/NUL/space/colon/tab
// inserted, a line duplicated or deleted, a digit changed, a few bytes
// repeated, or the end cut off.
void mutate(std::string& bytes, std::mt19937& rng);

}  // namespace test_support
