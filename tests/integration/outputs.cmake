# Output paths as root: planted symlinks, device nodes and FIFOs at -o are
# refused and left alone, "-o -" is stdout, existing files are replaced by
# rename (flamegraph, diff, query, record).
add_test(NAME test_outputs
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/outputs.sh $<TARGET_FILE:smolder>
		$<TARGET_FILE:viz_genprofile> ${PROJECT_SOURCE_DIR}/tests/data/go-cpu.pb.gz)
set_tests_properties(test_outputs PROPERTIES LABELS integration TIMEOUT 300
	SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
