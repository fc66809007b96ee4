# Integration: Go stacks across runtime.systemstack (root). workloads/gosys runs its hot loop on
# the g0 stack; built with the go tool of the test packages, offline, with its own GOCACHE.
find_program(GO_TOOL go)
find_program(SMOLDER_OBJDUMP objdump)
if(GO_TOOL AND SMOLDER_OBJDUMP)
	set(GOSYS ${CMAKE_CURRENT_BINARY_DIR}/gosys)
	add_custom_command(OUTPUT ${GOSYS}
		COMMAND ${CMAKE_COMMAND} -E env HOME=${CMAKE_CURRENT_BINARY_DIR}
			GOCACHE=${CMAKE_CURRENT_BINARY_DIR}/gocache GO111MODULE=off GOFLAGS=
			GOPROXY=off ${GO_TOOL} build -o ${GOSYS} .
		WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/workloads/gosys
		DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/workloads/gosys/main.go
			${CMAKE_CURRENT_SOURCE_DIR}/workloads/gosys/stub.s
		COMMENT "go build gosys")
	add_custom_target(wl_gosys DEPENDS ${GOSYS})
	smolder_add_integration(test_gostack_record
		SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_gostack.c
		LIBS itest_harness
		TIMEOUT 120)
	target_compile_definitions(test_gostack_record PRIVATE WORKLOAD_GOSYS="${GOSYS}"
		OBJDUMP="${SMOLDER_OBJDUMP}")
	add_dependencies(test_gostack_record smolder wl_gosys)
endif()
