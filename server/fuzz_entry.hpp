// A seam for the server-request fuzz target (tests/fuzz/fuzz_server.cpp): the bytes a client
// sends on one plain-HTTP connection, answered the way the connection layer (server.cpp) answers
// them — TLS detection, Beast's request parser with the server's header and body limits, the
// route table, the service's identity checks and handlers, the response headers — but on the
// caller's thread, without a socket and without deadlines (a read that runs out of bytes is a
// client that has gone).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/context.hpp"

namespace dalil::server {

/// One request and its answer on the connection.
struct exchange {
  bool handled = false;      // the request was read whole and handed to the service
  const route* r = nullptr;  // the route it matched (when handled)
  std::string target;        // the request's target (when handled)
  std::string body;          // the request's body (when handled)
  reply answer;              // what the service (or the connection layer) answered
  response sent;             // the response as written, headers included
  std::string wire;          // its bytes
  bool close = false;        // the connection closes after it
};

/// Answers every request in `bytes` in order, as one keep-alive connection from `address`
/// would get them, until the bytes end, the request asks to close, or one cannot be read.
std::vector<exchange> answer_connection(service& svc, std::string_view bytes,
                                        const std::string& address);

}  // namespace dalil::server
