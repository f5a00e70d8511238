// Boost.JSON's implementation, compiled once for the server (the header-only form).
#include <boost/json/src.hpp>
