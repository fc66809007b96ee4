# The agent's parts in profiler/: configuration, cgroup labels, local store.
# They are compiled into the smolder executable; the tests compile them too.
smolder_add_unit(test_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_config.c
	${PROJECT_SOURCE_DIR}/profiler/config.c LIBS smolder_uploader smolder_safefile)
target_include_directories(test_config PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
smolder_add_unit(test_cgroup SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cgroup.c
	${PROJECT_SOURCE_DIR}/profiler/cgroup.c ${PROJECT_SOURCE_DIR}/profiler/readfile.c
	LIBS smolder_safefile)
target_include_directories(test_cgroup PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
smolder_add_unit(test_store SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_store.c
	${PROJECT_SOURCE_DIR}/profiler/store.c ${PROJECT_SOURCE_DIR}/profiler/readfile.c
	LIBS smolder_safefile)
target_include_directories(test_store PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
