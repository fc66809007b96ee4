# debuginfod through the symbolizer (no root), against debuginfod_server: a tiny
# HTTP server on 127.0.0.1 serving the DWARF fixtures' build-id tree (dwarf.cmake,
# included first), or accepting and never answering. It exits on its own.
add_executable(debuginfod_server ${CMAKE_CURRENT_LIST_DIR}/debuginfod_server.c)
smolder_add_unit(test_debuginfod SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_debuginfod.c
	LIBS smolder_symbolizer)
add_dependencies(test_debuginfod dwarf_fixtures debuginfod_server)
target_compile_definitions(test_debuginfod PRIVATE
	"DW_OUT=\"${DW_OUT}\""
	"DEBUGINFOD_SERVER=\"$<TARGET_FILE:debuginfod_server>\"")
set_tests_properties(test_debuginfod PROPERTIES TIMEOUT 60)
