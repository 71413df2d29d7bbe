// A route's header rules (README "Several services"): `remove` drops every
// field of a name, `set` replaces every field of a name with one, `add`
// appends one. Applied while a head is written, field by field, so the head
// is never copied twice: a field is skipped when drops() says so, and
// append_to() writes the rule's own fields at the end.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lb {

struct HeaderRules {
  std::vector<std::string> remove;                       // names
  std::vector<std::pair<std::string, std::string>> set;  // name, value
  std::vector<std::pair<std::string, std::string>> add;  // name, value

  bool empty() const { return remove.empty() && set.empty() && add.empty(); }
  // True when a field called `name` (any case) must not be passed on as it came:
  // `remove` names it, or `set` replaces it.
  bool drops(std::string_view name) const;
  // Appends the `set` and `add` fields, in that order, as "Name: value\r\n".
  void append_to(std::string& head) const;
  // Calls `field(name, value)` for the `set` and `add` fields, in that order.
  template <typename Field>
  void for_each_added(Field&& field) const {
    for (const auto& [name, value] : set) field(name, value);
    for (const auto& [name, value] : add) field(name, value);
  }
};

// Why a rule may not name `name` or write `value`, or "" when it may: hop-by-hop
// and framing fields (Connection, Content-Length, Transfer-Encoding, Host, ...)
// are the proxy's own, or the two sides could read the message differently; a
// value with control bytes (CR, LF, NUL) would split or end the head.
std::string header_rule_refusal(std::string_view name, std::string_view value = "");

}  // namespace lb
