# The tests of a -DTRYGGD_SANITIZE=ON build (build-asan/, scripts/test).
#
# The programs carry their options (default_options.c: exit status 86 for
# any finding, leaks included), so a unit test with a finding fails, its
# report on the stderr that CTest shows.  A Python test that starts tryggd
# or tryggctl captures their stderr, and may not look at the exit status
# of a tryggd it killed at the end: the folders of such tests call
# tryggd_sanitizer_reports_to_files() after their last add_test, which
# sends each report of their tests to a file named after the test in
# ${TRYGGD_SANITIZER_REPORTS} and makes them need the fixture
# sanitizer_reports, whose cleanup, sanitizers.reports, prints the files
# and fails if there is one (reports.py).  Without the sanitizers the
# function does nothing.

set(TRYGGD_SANITIZER_REPORTS ${PROJECT_BINARY_DIR}/sanitizer-reports)

if(TRYGGD_SANITIZE)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  add_test(NAME sanitizers.clear
           COMMAND Python3::Interpreter ${CMAKE_CURRENT_LIST_DIR}/reports.py clear ${TRYGGD_SANITIZER_REPORTS})
  add_test(NAME sanitizers.reports
           COMMAND Python3::Interpreter ${CMAKE_CURRENT_LIST_DIR}/reports.py check ${TRYGGD_SANITIZER_REPORTS})
  set_tests_properties(sanitizers.clear PROPERTIES FIXTURES_SETUP sanitizer_reports TIMEOUT 30)
  set_tests_properties(sanitizers.reports PROPERTIES FIXTURES_CLEANUP sanitizer_reports TIMEOUT 30)
endif()

function(tryggd_sanitizer_reports_to_files)
  if(NOT TRYGGD_SANITIZE)
    return()
  endif()
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test IN LISTS tests)
    set(log_path ${TRYGGD_SANITIZER_REPORTS}/${test})
    set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT
                 "ASAN_OPTIONS=log_path=${log_path}" "UBSAN_OPTIONS=log_path=${log_path}")
    set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED sanitizer_reports)
  endforeach()
endfunction()
