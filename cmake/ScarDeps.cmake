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
target_link_libraries(scar_boost_impl PUBLIC Boost::headers Threads::Threads)
target_compile_definitions(scar_boost_impl PUBLIC
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)
add_library(scar::boost_impl ALIAS scar_boost_impl)

# Static stand-ins for the shared libraries modules link, used by programs that set the
# target property SCAR_STATIC_DEPS (scar-supervisor, whose start is every Lambda cold
# start: relocating libstdc++, libcrypto, Boost.JSON, pugixml and toml++ at exec cost it
# about half its start, docs/supervisor.md). scar_add_module links dependency X of a module
# as SCAR_STATIC_<X as a C identifier> in those programs, X elsewhere. Debian ships the
# archives with the -dev packages; toml++ has none, so its implementation is compiled here.
# SCAR_STATIC_DEPS_AVAILABLE is false when one is missing (or under sanitizers): programs
# then link the shared libraries as everywhere else.
set(SCAR_STATIC_DEPS_AVAILABLE ON)
foreach(pair IN ITEMS "OpenSSL::Crypto=libcrypto.a" "Boost::json=libboost_json.a;libboost_container.a"
                      "pugixml::pugixml=libpugixml.a")
  string(REPLACE "=" ";" pair "${pair}")
  list(POP_FRONT pair dep)
  string(MAKE_C_IDENTIFIER "${dep}" id)
  set(SCAR_STATIC_${id} "")
  foreach(archive IN LISTS pair)
    string(MAKE_C_IDENTIFIER "${archive}" archive_id)
    find_library(SCAR_ARCHIVE_${archive_id} NAMES ${archive})
    if(NOT SCAR_ARCHIVE_${archive_id})
      set(SCAR_STATIC_DEPS_AVAILABLE OFF)
    endif()
    list(APPEND SCAR_STATIC_${id} ${SCAR_ARCHIVE_${archive_id}})
  endforeach()
endforeach()
add_library(scar_tomlplusplus_static STATIC EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/tomlplusplus_impl.cpp)
# toml++'s headers and options (TOML_HEADER_ONLY=0), not its shared library.
target_include_directories(scar_tomlplusplus_static SYSTEM PRIVATE
  $<TARGET_PROPERTY:tomlplusplus::tomlplusplus,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_options(scar_tomlplusplus_static PRIVATE
  $<TARGET_PROPERTY:tomlplusplus::tomlplusplus,INTERFACE_COMPILE_OPTIONS>)
set(SCAR_STATIC_tomlplusplus__tomlplusplus scar_tomlplusplus_static)
if(SCAR_SANITIZE OR SCAR_FUZZ)
  set(SCAR_STATIC_DEPS_AVAILABLE OFF)
endif()
