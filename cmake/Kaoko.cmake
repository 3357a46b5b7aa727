# Build helpers shared by every kaoko folder (after Abseil's absl_cc_library).

# Flags that only our own targets get: strict warnings, the Boost/GCC 12 prelude, sanitizers.
add_library(kaoko_build_flags INTERFACE)
target_compile_options(kaoko_build_flags INTERFACE -Wall -Wextra -Wpedantic
  # Boost 1.74 + GCC 12 + C++20: asio/awaitable.hpp uses std::exchange without <utility> (STACK.md trap 1).
  -include utility)
if(KAOKO_WERROR)
  target_compile_options(kaoko_build_flags INTERFACE -Werror)
endif()
if(KAOKO_SANITIZE)
  string(REPLACE ";" "," _kaoko_san "${KAOKO_SANITIZE}")
  target_compile_options(kaoko_build_flags INTERFACE -fsanitize=${_kaoko_san} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(kaoko_build_flags INTERFACE -fsanitize=${_kaoko_san})
  # GCC 12 at -O2 with ASan reports -Wmaybe-uninitialized inside libstdc++ itself (std::regex's std::function
  # state): a known false positive (GCC bug 105562). The plain build keeps the warning as an error.
  target_compile_options(kaoko_build_flags INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
endif()

# kaoko_library(NAME <name> SOURCES ... [DEPS ...]) -> target kaoko_<name>, alias kaoko::<name>,
# public headers in ${CMAKE_CURRENT_SOURCE_DIR}/include.
function(kaoko_library)
  cmake_parse_arguments(K "" "NAME;INCLUDE" "SOURCES;DEPS" ${ARGN})
  if(NOT K_INCLUDE)
    set(K_INCLUDE ${CMAKE_CURRENT_SOURCE_DIR}/include)
  endif()
  add_library(kaoko_${K_NAME} STATIC ${K_SOURCES})
  add_library(kaoko::${K_NAME} ALIAS kaoko_${K_NAME})
  target_include_directories(kaoko_${K_NAME} PUBLIC ${K_INCLUDE})
  target_link_libraries(kaoko_${K_NAME} PUBLIC ${K_DEPS} PRIVATE kaoko_build_flags)
endfunction()

# kaoko_executable(NAME <name> SOURCES ... DEPS ...)
function(kaoko_executable)
  cmake_parse_arguments(K "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${K_NAME} ${K_SOURCES})
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS} kaoko_build_flags)
endfunction()

# kaoko_unit_test(NAME <name> SOURCES ... DEPS ...): Catch2 tests, label "unit".
# Every catch_discover_tests in the project passes `--warn NoTests`: a ctest entry that matches no test case fails
# instead of passing without running anything. catch_discover_tests splits a test case's name at a ';' (a CMake list),
# and each piece then matched nothing: eight tests named with a ';' passed that way without ever running.
function(kaoko_unit_test)
  cmake_parse_arguments(K "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${K_NAME} ${K_SOURCES})
  target_link_libraries(${K_NAME} PRIVATE ${K_DEPS} Catch2::Catch2WithMain kaoko_build_flags)
  catch_discover_tests(${K_NAME} EXTRA_ARGS --warn NoTests PROPERTIES LABELS unit)
endfunction()
