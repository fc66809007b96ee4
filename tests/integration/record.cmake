# Integration: smolder record on the real kernel (root).
# Workloads: -O0 so every function, leaves included, sets up its frame pointer (gcc omits it
# in frameless leaves even with -fno-omit-frame-pointer) and nothing is inlined but spin(),
# so the expected call chains are exact.
foreach(wl shares syscalls)
	add_executable(wl_${wl} ${CMAKE_CURRENT_SOURCE_DIR}/workloads/${wl}.c)
	target_compile_options(wl_${wl} PRIVATE -O0 -fno-omit-frame-pointer
		-fno-optimize-sibling-calls -Wno-missing-prototypes)
	set_target_properties(wl_${wl} PROPERTIES OUTPUT_NAME ${wl})
endforeach()

add_library(itest_harness STATIC ${CMAKE_CURRENT_SOURCE_DIR}/harness.c)
target_include_directories(itest_harness PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(itest_harness PUBLIC smolder_proto)

smolder_add_integration(test_record
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_record.c
	LIBS itest_harness
	TIMEOUT 180)
target_compile_definitions(test_record PRIVATE
	WORKLOAD_SHARES="$<TARGET_FILE:wl_shares>"
	WORKLOAD_SYSCALLS="$<TARGET_FILE:wl_syscalls>")
add_dependencies(test_record smolder wl_shares wl_syscalls)
