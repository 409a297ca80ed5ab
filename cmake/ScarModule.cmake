# scar_add_module(<name> SOURCES ... [DEPS scar::x ...] [PRIVATE_DEPS ...])
#
# Makes the static library scar_<name> with alias scar::<name>, public headers under
# modules/<name>/include, the project's warnings, and checks the dependency table of
# DESIGN.md: a module may only depend on the modules listed for it below.

set(SCAR_ALLOWED_DEPS_core "")
set(SCAR_ALLOWED_DEPS_sigv4 core)
set(SCAR_ALLOWED_DEPS_s3 core sigv4)
set(SCAR_ALLOWED_DEPS_lambda core sigv4)
set(SCAR_ALLOWED_DEPS_batch core sigv4)
set(SCAR_ALLOWED_DEPS_apigw core sigv4)
set(SCAR_ALLOWED_DEPS_image core)
set(SCAR_ALLOWED_DEPS_sandbox core)
set(SCAR_ALLOWED_DEPS_config core)
set(SCAR_ALLOWED_DEPS_supervisor core s3 lambda batch apigw config)
set(SCAR_ALLOWED_DEPS_deploy core sigv4 s3 lambda image config batch apigw)

# -Wnull-dereference is left out: with g++ 12 at -O2 it fires on boost::system::result and
# std::string internals (false positives), which -Werror in CI would turn into failures;
# -Wrestrict is off for the same reason (GCC bug 105329: std::string appends at -O3).
function(scar_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  if(SCAR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A program linked statically, to run inside containers that have no libc of ours. A
# sanitizer runtime cannot be linked that way, so sanitized builds leave these programs out
# of their instrumentation.
function(scar_static_program target)
  target_compile_options(${target} PRIVATE -fno-sanitize=all)
  target_link_options(${target} PRIVATE -static -fno-sanitize=all)
endfunction()

# scar_fast_start(<target> [STATIC_RUNTIME])
# For programs whose start time is a target (scar-supervisor: every Lambda cold start;
# scar-emulator): the static stand-ins of the modules' shared libraries (SCAR_STATIC_DEPS,
# cmake/ScarDeps.cmake), the C++ runtime linked statically with STATIC_RUNTIME (only when no
# shared library left needs libstdc++), and the relative relocations packed as DT_RELR
# (glibc >= 2.36 runs them). Each spares the loader work at exec; docs/benchmarks.md has
# the figures.
include(CheckLinkerFlag)
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" SCAR_LINKER_HAS_RELR)
function(scar_fast_start target)
  cmake_parse_arguments(ARG "STATIC_RUNTIME" "" "" ${ARGN})
  if(SCAR_STATIC_DEPS_AVAILABLE)
    set_target_properties(${target} PROPERTIES SCAR_STATIC_DEPS ON)
    if(ARG_STATIC_RUNTIME)
      target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
    endif()
  endif()
  if(SCAR_LINKER_HAS_RELR)
    target_link_options(${target} PRIVATE -Wl,-z,pack-relative-relocs)
  endif()
endfunction()

# The link items for `deps`: each library with a static stand-in (SCAR_STATIC_<id>,
# cmake/ScarDeps.cmake) becomes that stand-in in programs whose SCAR_STATIC_DEPS property is
# on, and stays itself in every other target.
function(scar_link_items out)
  set(items "")
  set(static "$<BOOL:$<TARGET_PROPERTY:SCAR_STATIC_DEPS>>")
  foreach(dep IN LISTS ARGN)
    string(MAKE_C_IDENTIFIER "${dep}" id)
    if(SCAR_STATIC_DEPS_AVAILABLE AND DEFINED SCAR_STATIC_${id})
      list(APPEND items "$<$<NOT:${static}>:${dep}>")
      foreach(alt IN LISTS SCAR_STATIC_${id})
        list(APPEND items "$<${static}:${alt}>")
      endforeach()
    else()
      list(APPEND items ${dep})
    endif()
  endforeach()
  set(${out} ${items} PARENT_SCOPE)
endfunction()

function(scar_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT DEFINED SCAR_ALLOWED_DEPS_${name})
    message(FATAL_ERROR "module '${name}' is not in the dependency table (cmake/ScarModule.cmake); "
                        "add it there and to DESIGN.md first")
  endif()
  foreach(dep IN LISTS ARG_DEPS ARG_PRIVATE_DEPS)
    if(dep MATCHES "^scar::(.+)$")
      set(dep_name ${CMAKE_MATCH_1})
      if(NOT dep_name STREQUAL "boost_impl" AND NOT dep_name IN_LIST SCAR_ALLOWED_DEPS_${name})
        message(FATAL_ERROR "module '${name}' may not depend on '${dep}': allowed are "
                            "'${SCAR_ALLOWED_DEPS_${name}}' (DESIGN.md, module table)")
      endif()
    endif()
  endforeach()

  add_library(scar_${name} STATIC ${ARG_SOURCES})
  add_library(scar::${name} ALIAS scar_${name})
  set_target_properties(scar_${name} PROPERTIES EXPORT_NAME ${name})
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/include/*.hpp)
  target_sources(scar_${name} PUBLIC FILE_SET HEADERS BASE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include
                 FILES ${headers})
  target_include_directories(scar_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  scar_link_items(public_deps ${ARG_DEPS})
  scar_link_items(private_deps ${ARG_PRIVATE_DEPS})
  target_link_libraries(scar_${name} PUBLIC ${public_deps} PRIVATE ${private_deps})
  scar_warnings(scar_${name})
endfunction()

# scar_add_tests(<name> SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s])
# One GoogleTest executable scar_<name>_tests, each test registered with CTest at test time.
# Adds `program` to the custom target `group`, made on first use.
function(scar_test_group group program)
  if(NOT TARGET ${group})
    add_custom_target(${group})
  endif()
  add_dependencies(${group} ${program})
endfunction()

function(scar_add_tests name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  add_executable(scar_${name}_tests ${ARG_SOURCES})
  target_link_libraries(scar_${name}_tests PRIVATE ${ARG_DEPS} scar::testing GTest::gtest_main GTest::gmock)
  target_compile_definitions(scar_${name}_tests PRIVATE
    SCAR_SOURCE_DIR="${PROJECT_SOURCE_DIR}" SCAR_BINARY_DIR="${PROJECT_BINARY_DIR}")
  scar_warnings(scar_${name}_tests)
  # `scar_unit_tests` builds every program with unit tests (and what they need) and nothing
  # else: scripts/sanitize.sh --unit. `scar_sanitize_tests` builds every program not
  # labelled `slow` (whole workflows, load): what CI runs under the sanitizers,
  # scripts/sanitize.sh --ci.
  if("unit" IN_LIST ARG_LABELS)
    scar_test_group(scar_unit_tests scar_${name}_tests)
  endif()
  if(NOT "slow" IN_LIST ARG_LABELS)
    scar_test_group(scar_sanitize_tests scar_${name}_tests)
  endif()
  gtest_discover_tests(scar_${name}_tests
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()
