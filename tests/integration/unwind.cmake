# Integration: complete user stacks for code without frame pointers (root).
add_executable(wl_nofp ${CMAKE_CURRENT_SOURCE_DIR}/workloads/nofp.c)
# Frame pointers omitted on purpose, and no sanitizer: its runtime would be
# in the stacks. The asm barriers in the source keep every call a real call.
target_compile_options(wl_nofp PRIVATE -O2 -g -fomit-frame-pointer -Wno-missing-prototypes
	-fno-sanitize=all)
target_link_options(wl_nofp PRIVATE -fno-sanitize=all)
target_link_libraries(wl_nofp PRIVATE pthread)
set_target_properties(wl_nofp PROPERTIES OUTPUT_NAME nofp)

smolder_add_integration(test_unwind_record
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_unwind.c
	LIBS itest_harness
	TIMEOUT 120)
target_compile_definitions(test_unwind_record PRIVATE WORKLOAD_NOFP="$<TARGET_FILE:wl_nofp>")
add_dependencies(test_unwind_record smolder wl_nofp)

# A Go binary (frame pointers, no .eh_frame), built with the go tool of the test packages.
find_program(GO_TOOL go)
if(GO_TOOL)
	set(GOSPIN ${CMAKE_CURRENT_BINARY_DIR}/gospin)
	add_custom_command(OUTPUT ${GOSPIN}
		COMMAND ${CMAKE_COMMAND} -E env HOME=${CMAKE_CURRENT_BINARY_DIR}
			GOCACHE=${CMAKE_CURRENT_BINARY_DIR}/gocache GO111MODULE=off GOFLAGS=
			${GO_TOOL} build -o ${GOSPIN} main.go
		WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/workloads/gospin
		DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/workloads/gospin/main.go
		COMMENT "go build gospin")
	add_custom_target(wl_gospin DEPENDS ${GOSPIN})
	add_dependencies(test_unwind_record wl_gospin)
	target_compile_definitions(test_unwind_record PRIVATE WORKLOAD_GO="${GOSPIN}")
endif()
