// The ids the server gives what it stores: counter decisions and reviews.
#pragma once

#include <chrono>
#include <string>

namespace dalil::server {

/// 32 lowercase hex digits of 128 random bits (OpenSSL's generator): a review's id.
std::string random_id();

/// A counter decision's id: 32 lowercase hex digits, of which the first 12 are the Unix time of
/// `now` in milliseconds (48 bits, until the year 10889) and the other 20 are 80 random bits
/// (the layout of a UUIDv7, without its version and variant bits). Ids made later sort after
/// those made a millisecond or more before, so a new decision's id goes to the end of the
/// decisions' primary-key index (SQLite's and PostgreSQL's) instead of a random place: a group
/// of decisions then changes one page of that index instead of one page each (with 16 KiB
/// pages, half the WAL bytes a decision wrote; docs/server-performance.md). 80 random bits keep
/// an id unguessable and two ids of one millisecond distinct; the time it shows is the
/// decision's, which every reader of the decision sees anyway.
std::string decision_id(std::chrono::system_clock::time_point now);

}  // namespace dalil::server
