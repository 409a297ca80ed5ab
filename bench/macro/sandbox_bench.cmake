# Sandbox benchmarks, included from bench/CMakeLists.txt.
scar_add_bench(sandbox SOURCES micro/sandbox_bench.cpp DEPS scar::sandbox)

add_executable(scar_sandbox_macro_bench macro/sandbox_vs_crun.cpp)
target_link_libraries(scar_sandbox_macro_bench PRIVATE scar::sandbox)
scar_warnings(scar_sandbox_macro_bench)
if(SCAR_BUILD_TESTS)
  add_test(NAME bench.sandbox_macro.smoke COMMAND scar_sandbox_macro_bench --runs 3)
  set_tests_properties(bench.sandbox_macro.smoke PROPERTIES LABELS bench TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
