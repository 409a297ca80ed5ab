// toml++'s implementation, compiled once for programs linked without shared libraries
// (SCAR_STATIC_DEPS, cmake/ScarDeps.cmake); the other programs use Debian's libtomlplusplus.
// Compiled with the same options as its users (TOML_HEADER_ONLY=0, from the imported target).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
