# Match index benchmark (issue 3): strategies, memory, open+load, import.
add_executable(index_bench ${CMAKE_CURRENT_LIST_DIR}/index_bench.cc)
target_link_libraries(index_bench PRIVATE hashscreen_store)
