# Integration: smolder agent on the real kernel (root): back-to-back windows in a local store,
# labels, SIGTERM and kill -9, retention, short-lived processes, SIGHUP, query. Workload built
# like record.cmake's: -O0 with frame pointers, so the hot function is a real frame.
add_executable(wl_short_burn ${CMAKE_CURRENT_SOURCE_DIR}/workloads/short_burn.c)
target_compile_options(wl_short_burn PRIVATE -O0 -fno-omit-frame-pointer
	-fno-optimize-sibling-calls -Wno-missing-prototypes)
set_target_properties(wl_short_burn PROPERTIES OUTPUT_NAME short_burn)

smolder_add_integration(test_agent
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_agent.c
	LIBS itest_harness
	TIMEOUT 150)
target_compile_definitions(test_agent PRIVATE
	WORKLOAD_SHARES="$<TARGET_FILE:wl_shares>"
	WORKLOAD_SHORT_BURN="$<TARGET_FILE:wl_short_burn>")
add_dependencies(test_agent smolder wl_shares wl_short_burn)

# The agent on a full store (a small tmpfs the test mounts, root): windows kept in memory,
# one error each, nothing written half, and every one stored once there is room again.
smolder_add_integration(test_agent_disk
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_agent_disk.c
	LIBS itest_harness
	TIMEOUT 150)
target_compile_definitions(test_agent_disk PRIVATE
	WORKLOAD_SHARES="$<TARGET_FILE:wl_shares>")
add_dependencies(test_agent_disk smolder wl_shares)
