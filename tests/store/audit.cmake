# Audit log and API key tests (issue 4), included by tests/store/CMakeLists.txt.
add_executable(audit_tests
  ${CMAKE_CURRENT_LIST_DIR}/audit_log_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_keys_test.cc
)
target_link_libraries(audit_tests PRIVATE hashscreen_test_support hashscreen_store)
doctest_discover_tests(audit_tests)
