// The one translation unit that compiles Boost.Asio and Beast (see ScarDeps.cmake).
// Boost.Process v2 is not used: in Boost 1.81 it needs Boost.Filesystem (its std::filesystem
// mode does not compile); child processes are started with posix_spawn or clone instead.
//
// Asio's TLS streams are not compiled: nothing serves or speaks TLS through Asio (outgoing
// HTTPS is libcurl's), and linking libssl cost every program ~3 ms at exec
// (docs/benchmarks.md, emulator start).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
