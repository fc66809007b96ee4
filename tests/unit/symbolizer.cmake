# symbolizer unit tests (no root) and the fixture binaries they symbolize.
# Fixtures are built with fixed flags (no sanitizers) so that their layout is
# that of ordinary binaries: a PIE, a non-PIE, a shared library and its
# stripped copy (only .dynsym left).
set(SYM_FIXTURE_DIR ${PROJECT_SOURCE_DIR}/tests/data/symbolizer)

add_executable(sym_fixture_pie ${SYM_FIXTURE_DIR}/fixture_exe.c)
set_target_properties(sym_fixture_pie PROPERTIES
	COMPILE_OPTIONS "-O1;-fPIE" LINK_OPTIONS "-pie;-Wl,--build-id")
add_executable(sym_fixture_nopie ${SYM_FIXTURE_DIR}/fixture_exe.c)
set_target_properties(sym_fixture_nopie PROPERTIES
	COMPILE_OPTIONS "-O1;-fno-pie" LINK_OPTIONS "-no-pie;-Wl,--build-id")
add_library(sym_fixture_lib SHARED ${SYM_FIXTURE_DIR}/fixture_lib.c)
set_target_properties(sym_fixture_lib PROPERTIES NO_SONAME ON
	COMPILE_OPTIONS "-O1;-fPIC" LINK_OPTIONS "-Wl,--build-id")
add_library(sym_fixture_alias SHARED ${SYM_FIXTURE_DIR}/fixture_alias.c)
set_target_properties(sym_fixture_alias PROPERTIES NO_SONAME ON
	COMPILE_OPTIONS "-O1;-fPIC" LINK_OPTIONS "-Wl,--build-id")
# PLT layouts: lazy .plt, IBT .plt.sec (+ 16-byte .plt.got), -z now, -fno-plt.
set(SYM_FIXTURE_PLT_VARIANTS lazy ibt now noplt)
set(SYM_FIXTURE_PLT_lazy_FLAGS "-fcf-protection=none" "")
set(SYM_FIXTURE_PLT_ibt_FLAGS "-fcf-protection=full" "-Wl,-z,ibtplt")
set(SYM_FIXTURE_PLT_now_FLAGS "-fcf-protection=none" "-Wl,-z,now")
set(SYM_FIXTURE_PLT_noplt_FLAGS "-fno-plt" "")
set(SYM_FIXTURE_PLT_DEFS "")
# binutils' objdump names .plt.got entries too (llvm-objdump, CMake's choice
# with clang, does not): the test's independent reading of the relocations.
find_program(GNU_OBJDUMP NAMES objdump REQUIRED)
foreach(v ${SYM_FIXTURE_PLT_VARIANTS})
	list(GET SYM_FIXTURE_PLT_${v}_FLAGS 0 cflag)
	list(GET SYM_FIXTURE_PLT_${v}_FLAGS 1 lflag)
	add_executable(sym_fixture_plt_${v} ${SYM_FIXTURE_DIR}/fixture_plt.c)
	set_target_properties(sym_fixture_plt_${v} PROPERTIES
		COMPILE_OPTIONS "-O1;-fPIE;-fno-builtin;${cflag}" LINK_OPTIONS "-pie;${lflag}")
	string(TOUPPER ${v} V)
	list(APPEND SYM_FIXTURE_PLT_DEFS
		"SYM_FIXTURE_PLT_${V}=\"$<TARGET_FILE:sym_fixture_plt_${v}>\"")
endforeach()
set(SYM_FIXTURE_STRIPPED ${CMAKE_CURRENT_BINARY_DIR}/libsym_fixture_stripped.so)
add_custom_command(OUTPUT ${SYM_FIXTURE_STRIPPED}
	COMMAND ${CMAKE_STRIP} --strip-all -o ${SYM_FIXTURE_STRIPPED} $<TARGET_FILE:sym_fixture_lib>
	DEPENDS sym_fixture_lib
	COMMENT "Stripping the symbolizer fixture library")
add_custom_target(sym_fixture_stripped DEPENDS ${SYM_FIXTURE_STRIPPED})

smolder_add_unit(test_maps SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_maps.c
	LIBS smolder_symbolizer)
smolder_add_unit(test_kallsyms SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kallsyms.c
	LIBS smolder_symbolizer)
target_compile_definitions(test_kallsyms PRIVATE
	"SYM_DATA_DIR=\"${PROJECT_SOURCE_DIR}/tests/data\"")
smolder_add_unit(test_elf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_elf.c
	LIBS smolder_symbolizer ${CMAKE_DL_LIBS})
add_dependencies(test_elf sym_fixture_pie sym_fixture_nopie sym_fixture_lib sym_fixture_stripped
	sym_fixture_alias sym_fixture_plt_lazy sym_fixture_plt_ibt sym_fixture_plt_now
	sym_fixture_plt_noplt)
target_compile_definitions(test_elf PRIVATE
	"SYM_FIXTURE_PIE=\"$<TARGET_FILE:sym_fixture_pie>\""
	"SYM_FIXTURE_NOPIE=\"$<TARGET_FILE:sym_fixture_nopie>\""
	"SYM_FIXTURE_LIB=\"$<TARGET_FILE:sym_fixture_lib>\""
	"SYM_FIXTURE_ALIAS=\"$<TARGET_FILE:sym_fixture_alias>\""
	${SYM_FIXTURE_PLT_DEFS}
	"SYM_OBJDUMP=\"${GNU_OBJDUMP}\""
	"SYM_FIXTURE_STRIPPED=\"${SYM_FIXTURE_STRIPPED}\""
	"SYM_DATA_DIR=\"${PROJECT_SOURCE_DIR}/tests/data\"")
