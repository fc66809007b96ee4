# Integration: processes in other mount / PID namespaces, deleted and memfd binaries, and JIT
# code named by /tmp/perf-PID.map (root). Workloads built like record.cmake's: -O0 with frame
# pointers, so the hot leaf is a real function with its own frame.
foreach(wl ns_spin fake_jit)
	add_executable(wl_${wl} ${CMAKE_CURRENT_SOURCE_DIR}/workloads/${wl}.c)
	target_compile_options(wl_${wl} PRIVATE -O0 -fno-omit-frame-pointer
		-fno-optimize-sibling-calls -Wno-missing-prototypes)
	set_target_properties(wl_${wl} PROPERTIES OUTPUT_NAME ${wl})
endforeach()

smolder_add_integration(test_namespaces
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_namespaces.c
	LIBS itest_harness
	TIMEOUT 180)
target_compile_definitions(test_namespaces PRIVATE
	WORKLOAD_NS_SPIN="$<TARGET_FILE:wl_ns_spin>"
	WORKLOAD_FAKE_JIT="$<TARGET_FILE:wl_fake_jit>")
add_dependencies(test_namespaces smolder wl_ns_spin wl_fake_jit)
