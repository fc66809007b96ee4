# Integration: names in `smolder record`'s profile (root). Workloads built here with gcc/g++
# and fixed flags (-O2 -g, whatever the project's compiler and sanitizers), each spinning in
# a known function for the seconds it is given:
# - names_inline: always-inlined chain, DWARF in the binary;
# - names_lto: two units, -flto, cross-unit inlining;
# - names_cxx: namespaces and templates (g++);
# - names_split: its debug info split off (objcopy --only-keep-debug) into names_split_root's
#   build-id tree, the binary stripped (the test installs the file under /usr/lib/debug);
# - names_nsdebug: the same, for a debug file that only a private mount namespace sees;
# - names_stripped: -rdynamic and stripped: only .dynsym names its functions;
# - names_plt: libc's abs() called through the PLT in a loop (-fno-builtin).
# NAMES_VARIANT gives each build of names_inline.c a build-id of its own.
find_program(SMOLDER_NAMES_CC gcc REQUIRED)
find_program(SMOLDER_NAMES_CXX g++)
set(NAMES_SRC ${CMAKE_CURRENT_SOURCE_DIR}/workloads)
set(NAMES_OUT ${CMAKE_CURRENT_BINARY_DIR}/names)
set(NAMES_FLAGS -O2 -g -fno-omit-frame-pointer -Wl,--build-id)
set(NAMES_PLACE ${PROJECT_SOURCE_DIR}/tests/data/dwarf/place_build_id.sh)

add_custom_command(OUTPUT ${NAMES_OUT}/names_inline ${NAMES_OUT}/names_lto
		${NAMES_OUT}/names_split ${NAMES_OUT}/names_split_root/.stamp
		${NAMES_OUT}/names_nsdebug ${NAMES_OUT}/names_ns_root/.stamp
		${NAMES_OUT}/names_stripped ${NAMES_OUT}/names_plt
	COMMAND ${CMAKE_COMMAND} -E rm -rf ${NAMES_OUT}
	COMMAND ${CMAKE_COMMAND} -E make_directory ${NAMES_OUT}/names_split_root
		${NAMES_OUT}/names_ns_root
	COMMAND ${SMOLDER_NAMES_CC} ${NAMES_FLAGS} -o ${NAMES_OUT}/names_inline
		${NAMES_SRC}/names_inline.c
	COMMAND ${SMOLDER_NAMES_CC} ${NAMES_FLAGS} -flto -o ${NAMES_OUT}/names_lto
		${NAMES_SRC}/names_lto_a.c ${NAMES_SRC}/names_lto_b.c
	COMMAND ${SMOLDER_NAMES_CC} ${NAMES_FLAGS} -DNAMES_VARIANT=2 -o ${NAMES_OUT}/names_split.full
		${NAMES_SRC}/names_inline.c
	COMMAND objcopy --only-keep-debug ${NAMES_OUT}/names_split.full ${NAMES_OUT}/names_split.debug
	COMMAND strip --strip-all -o ${NAMES_OUT}/names_split ${NAMES_OUT}/names_split.full
	COMMAND sh ${NAMES_PLACE} ${NAMES_OUT}/names_split.debug ${NAMES_OUT}/names_split_root
	COMMAND ${SMOLDER_NAMES_CC} ${NAMES_FLAGS} -DNAMES_VARIANT=4 -o ${NAMES_OUT}/names_nsdebug.full
		${NAMES_SRC}/names_inline.c
	COMMAND objcopy --only-keep-debug ${NAMES_OUT}/names_nsdebug.full
		${NAMES_OUT}/names_nsdebug.debug
	COMMAND strip --strip-all -o ${NAMES_OUT}/names_nsdebug ${NAMES_OUT}/names_nsdebug.full
	COMMAND sh ${NAMES_PLACE} ${NAMES_OUT}/names_nsdebug.debug ${NAMES_OUT}/names_ns_root
	COMMAND ${SMOLDER_NAMES_CC} ${NAMES_FLAGS} -DNAMES_VARIANT=3 -rdynamic
		-o ${NAMES_OUT}/names_stripped.full ${NAMES_SRC}/names_inline.c
	COMMAND strip --strip-all -o ${NAMES_OUT}/names_stripped ${NAMES_OUT}/names_stripped.full
	COMMAND ${SMOLDER_NAMES_CC} ${NAMES_FLAGS} -fno-builtin -o ${NAMES_OUT}/names_plt
		${NAMES_SRC}/names_plt.c
	COMMAND ${CMAKE_COMMAND} -E touch ${NAMES_OUT}/names_split_root/.stamp
		${NAMES_OUT}/names_ns_root/.stamp
	DEPENDS ${NAMES_SRC}/names_inline.c ${NAMES_SRC}/names_lto_a.c ${NAMES_SRC}/names_lto_b.c
		${NAMES_SRC}/names_plt.c ${NAMES_PLACE}
	COMMENT "Building the naming workloads")
set(NAMES_WORKLOADS ${NAMES_OUT}/names_inline ${NAMES_OUT}/names_split_root/.stamp)
set(NAMES_CXX "")
if(SMOLDER_NAMES_CXX)
	set(NAMES_CXX ${CMAKE_CURRENT_BINARY_DIR}/names_cxx)
	add_custom_command(OUTPUT ${NAMES_CXX}
		COMMAND ${SMOLDER_NAMES_CXX} ${NAMES_FLAGS} -o ${NAMES_CXX} ${NAMES_SRC}/names_cxx.cc
		DEPENDS ${NAMES_SRC}/names_cxx.cc
		COMMENT "Building the C++ naming workload")
	list(APPEND NAMES_WORKLOADS ${NAMES_CXX})
endif()
add_custom_target(names_workloads DEPENDS ${NAMES_WORKLOADS})

smolder_add_integration(test_names
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_names.c
	LIBS itest_harness
	TIMEOUT 240)
target_compile_definitions(test_names PRIVATE
	"NAMES_OUT=\"${NAMES_OUT}\""
	"NAMES_CXX=\"${NAMES_CXX}\""
	"NAMES_SRC=\"${NAMES_SRC}\""
	WORKLOAD_FAKE_JIT="$<TARGET_FILE:wl_fake_jit>")
add_dependencies(test_names smolder names_workloads wl_fake_jit)
