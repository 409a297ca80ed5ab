// The one translation unit that compiles Boost.Asio, Beast and Process v2 (see ScarDeps.cmake).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/process/v2/src.hpp>
