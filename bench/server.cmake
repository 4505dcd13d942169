# Server benchmark (issue 4): HTTPS screening throughput and latency of a real
# hashscreend against in-process hashing of the same files in the same run,
# and the cost of the durable audit (group commit on, off, no fsync).
add_executable(server_bench ${CMAKE_CURRENT_LIST_DIR}/server_bench.cc)
target_link_libraries(server_bench PRIVATE hashscreen_hashing PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(server_bench PRIVATE HASHSCREEND="$<TARGET_FILE:hashscreend>"
  HASHSCREEN_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(server_bench hashscreend)
set_target_properties(server_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
