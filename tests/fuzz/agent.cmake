# The agent's parsers of untrusted text: the config file and /proc/PID/cgroup.
smolder_add_fuzzer(fuzz_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c
	${PROJECT_SOURCE_DIR}/profiler/config.c LIBS smolder_uploader smolder_safefile)
target_include_directories(fuzz_config_replay PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
smolder_add_fuzzer(fuzz_cgroup SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_cgroup.c
	${PROJECT_SOURCE_DIR}/profiler/cgroup.c ${PROJECT_SOURCE_DIR}/profiler/readfile.c
	LIBS smolder_safefile)
target_include_directories(fuzz_cgroup_replay PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
if(SMOLDER_FUZZ)
	target_include_directories(fuzz_config PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
	target_include_directories(fuzz_cgroup PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
endif()
