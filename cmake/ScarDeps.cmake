# Finds the project's dependencies. A miss names the Debian package that provides it,
# because scripts/setup.sh installs exactly those.

macro(scar_find_package name debian_pkg)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "scar-cpp needs ${name}: install the Debian package '${debian_pkg}' "
                        "(scripts/setup.sh installs every dependency)")
  endif()
endmacro()

find_package(Threads REQUIRED)
scar_find_package(Boost libboost1.81-dev 1.81 CONFIG COMPONENTS json url)
scar_find_package(CURL libcurl4-openssl-dev)
scar_find_package(OpenSSL libssl-dev 3)
scar_find_package(LibArchive libarchive-dev)
scar_find_package(tomlplusplus libtomlplusplus-dev)
scar_find_package(pugixml libpugixml-dev)
scar_find_package(CLI11 libcli11-dev)
if(SCAR_BUILD_TESTS)
  scar_find_package(GTest libgtest-dev)
endif()
if(SCAR_BUILD_BENCH)
  scar_find_package(benchmark libbenchmark-dev)
endif()

# Asio and Beast are compiled once here; users get the *_SEPARATE_COMPILATION
# definitions so no other translation unit instantiates their implementation.
add_library(scar_boost_impl STATIC ${CMAKE_CURRENT_LIST_DIR}/boost_impl.cpp)
target_link_libraries(scar_boost_impl PUBLIC Boost::headers Threads::Threads OpenSSL::SSL)
target_compile_definitions(scar_boost_impl PUBLIC
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)
add_library(scar::boost_impl ALIAS scar_boost_impl)
