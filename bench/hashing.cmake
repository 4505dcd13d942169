# Hashing benchmark (issue 2): decode, hash-after-decode per SIMD path,
# end-to-end, against libjpeg-turbo decode alone measured in the same run.
add_executable(hash_bench ${CMAKE_CURRENT_LIST_DIR}/hash_bench.cc)
target_link_libraries(hash_bench PRIVATE hashscreen_hashing JPEG::JPEG)
set_target_properties(hash_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
