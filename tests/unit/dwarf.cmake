# symbolizer DWARF tests (no root) and their fixtures, built here with gcc/g++
# and fixed flags whatever the project's compiler and sanitizers:
# - dwarf_inline: always-inlined chain, -O2 -g (DWARF in the binary);
#   copies with -gz=zlib, with objcopy --compress-debug-sections=zstd
#   (Debian 12's libdw 0.188 cannot read zstd: debug_image.c inflates it)
#   and with the older GNU .zdebug_* sections (zlib-gnu); the zstd copy with
#   an empty, uncompressed .debug_ranges added (nothing to copy into the image);
# - its debug info split off (objcopy --only-keep-debug) into a build-id tree
#   under dwarf_root/, and the binary stripped to .dynsym (strip --strip-all);
# - a stripped copy with .gnu_debuglink next to its debug file, and one whose
#   debug file was changed after linking (CRC mismatch), and one in huge/
#   whose debug file the test makes a 4000 MB sparse file (refused unread);
# - dwarf_inline_mini: the stripped binary with MiniDebugInfo (.gnu_debugdata,
#   an xz'ed symbol-table-only ELF, as Fedora builds them; needs xz);
# - dwarf_lto: two units, -flto, cross-unit inlining;
# - dwarf_units: the same two sources without -flto: two units with code;
# - dwarf_cxx: namespaces and templates (g++).
find_program(SMOLDER_FIXTURE_CC gcc REQUIRED)
find_program(SMOLDER_FIXTURE_CXX g++)
set(DW_SRC ${PROJECT_SOURCE_DIR}/tests/data/dwarf)
set(DW_OUT ${CMAKE_CURRENT_BINARY_DIR}/dwarf)
set(DW_FLAGS -O2 -g -fno-omit-frame-pointer -Wl,--build-id)

add_custom_command(OUTPUT ${DW_OUT}/dwarf_inline ${DW_OUT}/dwarf_inline_zlib
		${DW_OUT}/dwarf_inline_zstd ${DW_OUT}/dwarf_inline_zgnu ${DW_OUT}/dwarf_inline_stripped
		${DW_OUT}/dwarf_inline_zstd_empty
		${DW_OUT}/link/dwarf_inline ${DW_OUT}/link/dwarf_inline.debug
		${DW_OUT}/badcrc/dwarf_inline ${DW_OUT}/badcrc/dwarf_inline.debug
		${DW_OUT}/huge/dwarf_inline ${DW_OUT}/dwarf_root/.stamp ${DW_OUT}/dwarf_inline_mini
	COMMAND ${CMAKE_COMMAND} -E rm -rf ${DW_OUT}
	COMMAND ${CMAKE_COMMAND} -E make_directory ${DW_OUT}/link ${DW_OUT}/badcrc ${DW_OUT}/huge
		${DW_OUT}/dwarf_root ${DW_OUT}/empty_root
	COMMAND ${SMOLDER_FIXTURE_CC} ${DW_FLAGS} -o ${DW_OUT}/dwarf_inline ${DW_SRC}/inline.c
	COMMAND ${SMOLDER_FIXTURE_CC} ${DW_FLAGS} -gz=zlib -o ${DW_OUT}/dwarf_inline_zlib
		${DW_SRC}/inline.c
	COMMAND objcopy --compress-debug-sections=zstd ${DW_OUT}/dwarf_inline
		${DW_OUT}/dwarf_inline_zstd
	COMMAND objcopy --compress-debug-sections=zlib-gnu ${DW_OUT}/dwarf_inline
		${DW_OUT}/dwarf_inline_zgnu
	COMMAND ${CMAKE_COMMAND} -E touch ${DW_OUT}/empty_section
	COMMAND objcopy --add-section .debug_ranges=${DW_OUT}/empty_section
		--set-section-flags .debug_ranges=readonly,debug ${DW_OUT}/dwarf_inline_zstd
		${DW_OUT}/dwarf_inline_zstd_empty
	COMMAND objcopy --only-keep-debug ${DW_OUT}/dwarf_inline ${DW_OUT}/dwarf_inline.debug
	COMMAND strip --strip-all -o ${DW_OUT}/dwarf_inline_stripped ${DW_OUT}/dwarf_inline
	COMMAND sh ${DW_SRC}/place_build_id.sh ${DW_OUT}/dwarf_inline.debug ${DW_OUT}/dwarf_root
	COMMAND ${CMAKE_COMMAND} -E copy ${DW_OUT}/dwarf_inline.debug ${DW_OUT}/link/
	COMMAND ${CMAKE_COMMAND} -E chdir ${DW_OUT}/link objcopy
		--add-gnu-debuglink=dwarf_inline.debug ${DW_OUT}/dwarf_inline_stripped
		${DW_OUT}/link/dwarf_inline
	COMMAND ${CMAKE_COMMAND} -E copy ${DW_OUT}/link/dwarf_inline ${DW_OUT}/badcrc/
	COMMAND ${CMAKE_COMMAND} -E copy ${DW_OUT}/link/dwarf_inline ${DW_OUT}/huge/
	COMMAND ${CMAKE_COMMAND} -E copy ${DW_OUT}/dwarf_inline.debug ${DW_OUT}/badcrc/
	COMMAND sh ${DW_SRC}/append_byte.sh ${DW_OUT}/badcrc/dwarf_inline.debug
	COMMAND sh ${DW_SRC}/add_minidebuginfo.sh ${DW_OUT}/dwarf_inline
		${DW_OUT}/dwarf_inline_stripped ${DW_OUT}/dwarf_inline_mini
	COMMAND ${CMAKE_COMMAND} -E touch ${DW_OUT}/dwarf_root/.stamp
	DEPENDS ${DW_SRC}/inline.c ${DW_SRC}/place_build_id.sh ${DW_SRC}/append_byte.sh
		${DW_SRC}/add_minidebuginfo.sh
	COMMENT "Building the DWARF fixtures")
add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/dwarf_lto
	COMMAND ${SMOLDER_FIXTURE_CC} ${DW_FLAGS} -flto -o ${CMAKE_CURRENT_BINARY_DIR}/dwarf_lto
		${DW_SRC}/lto_a.c ${DW_SRC}/lto_b.c
	DEPENDS ${DW_SRC}/lto_a.c ${DW_SRC}/lto_b.c
	COMMENT "Building the LTO DWARF fixture")
add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/dwarf_units
	COMMAND ${SMOLDER_FIXTURE_CC} ${DW_FLAGS} -o ${CMAKE_CURRENT_BINARY_DIR}/dwarf_units
		${DW_SRC}/lto_a.c ${DW_SRC}/lto_b.c
	DEPENDS ${DW_SRC}/lto_a.c ${DW_SRC}/lto_b.c
	COMMENT "Building the two-unit DWARF fixture")
set(DW_FIXTURES ${DW_OUT}/dwarf_inline ${CMAKE_CURRENT_BINARY_DIR}/dwarf_lto
	${CMAKE_CURRENT_BINARY_DIR}/dwarf_units)
set(DW_CXX "")
if(SMOLDER_FIXTURE_CXX)
	set(DW_CXX ${CMAKE_CURRENT_BINARY_DIR}/dwarf_cxx)
	add_custom_command(OUTPUT ${DW_CXX}
		COMMAND ${SMOLDER_FIXTURE_CXX} ${DW_FLAGS} -o ${DW_CXX} ${DW_SRC}/cxx.cc
		DEPENDS ${DW_SRC}/cxx.cc
		COMMENT "Building the C++ DWARF fixture")
	list(APPEND DW_FIXTURES ${DW_CXX})
endif()
add_custom_target(dwarf_fixtures DEPENDS ${DW_FIXTURES})

smolder_add_unit(test_dwarf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dwarf.c
	LIBS smolder_symbolizer)
add_dependencies(test_dwarf dwarf_fixtures)
target_compile_definitions(test_dwarf PRIVATE
	"DW_OUT=\"${DW_OUT}\""
	"DW_LTO=\"${CMAKE_CURRENT_BINARY_DIR}/dwarf_lto\""
	"DW_UNITS=\"${CMAKE_CURRENT_BINARY_DIR}/dwarf_units\""
	"DW_CXX=\"${DW_CXX}\""
	"DW_SRC=\"${DW_SRC}\"")
