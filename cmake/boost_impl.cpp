// The one translation unit that compiles Boost.Asio and Beast (see ScarDeps.cmake).
// Boost.Process v2 is not used: in Boost 1.81 it needs Boost.Filesystem (its std::filesystem
// mode does not compile); child processes are started with posix_spawn or clone instead.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
