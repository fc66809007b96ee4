# Flame graph viewer in a real browser (headless Chromium), and the profile
# generator it shares with bench/flamegraph.sh. No root needed.
add_executable(viz_genprofile ${CMAKE_CURRENT_SOURCE_DIR}/viz_genprofile.c)
target_link_libraries(viz_genprofile PRIVATE smolder_proto)

add_test(NAME flamegraph_browser
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/flamegraph_browser.sh $<TARGET_FILE:smolder>
		$<TARGET_FILE:viz_genprofile> ${PROJECT_SOURCE_DIR}/tests/data/go-cpu.pb.gz
		${CMAKE_CURRENT_BINARY_DIR}/flamegraph_browser)
set_tests_properties(flamegraph_browser PROPERTIES LABELS browser TIMEOUT 300
	SKIP_RETURN_CODE 77)
