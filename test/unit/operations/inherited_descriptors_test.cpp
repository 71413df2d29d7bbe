#include "lb/operations/inherited_descriptors.h"

#include <catch2/catch.hpp>

using lb::parse_inherited_descriptors;

TEST_CASE("inherited listeners: named by a predecessor, taken only by the process they are meant for",
          "[inherited]") {
  const lb::InheritedDescriptors all = parse_inherited_descriptors("42", "3", "proxy:admin:redirect", "6", 42);
  CHECK(all.proxy == 3);
  CHECK(all.admin == 4);
  CHECK(all.redirect == 5);
  CHECK(all.ready_pipe == 6);

  const lb::InheritedDescriptors reordered = parse_inherited_descriptors("42", "2", "admin:proxy", nullptr, 42);
  CHECK(reordered.admin == 3);
  CHECK(reordered.proxy == 4);
  CHECK(reordered.redirect == -1);
  CHECK(reordered.ready_pipe == -1);

  // Another process's (a parent that left the variables set), or none at all.
  const lb::InheritedDescriptors other = parse_inherited_descriptors("41", "1", "proxy", "4", 42);
  CHECK(other.proxy == -1);
  CHECK(other.ready_pipe == -1);
  CHECK(parse_inherited_descriptors(nullptr, nullptr, nullptr, nullptr, 42).proxy == -1);
  CHECK(parse_inherited_descriptors(nullptr, "1", nullptr, nullptr, 42).proxy == -1);
}

TEST_CASE("inherited listeners: systemd socket activation's single socket is the listener", "[inherited]") {
  CHECK(parse_inherited_descriptors("7", "1", nullptr, nullptr, 7).proxy == 3);
  CHECK(parse_inherited_descriptors("7", "1", "load_balancer.socket", nullptr, 7).proxy == 3);
  CHECK(parse_inherited_descriptors("7", "0", nullptr, nullptr, 7).proxy == -1);
}

TEST_CASE("inherited listeners: malformed variables are refused with a reason", "[inherited]") {
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "two", nullptr, nullptr, 7),
                    Catch::Contains("LISTEN_FDS: 'two' is not a number"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "1x", nullptr, nullptr, 7), Catch::Contains("LISTEN_FDS"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "-1", nullptr, nullptr, 7), Catch::Contains("LISTEN_FDS"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "99", nullptr, nullptr, 7), Catch::Contains("LISTEN_FDS"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("seven", "1", nullptr, nullptr, 7), Catch::Contains("LISTEN_PID"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "2", nullptr, nullptr, 7),
                    Catch::Contains("'' is not proxy, admin or redirect"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "2", "proxy", nullptr, 7),
                    Catch::Contains("1 names for 2 descriptors"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "2", "proxy:proxy", nullptr, 7),
                    Catch::Contains("two descriptors named 'proxy'"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "2", "proxy:web", nullptr, 7),
                    Catch::Contains("'web' is not proxy, admin or redirect"));
  CHECK_THROWS_WITH(parse_inherited_descriptors("7", "1", "proxy", "2", 7), Catch::Contains("LB_UPGRADE_READY_FD"));
}
