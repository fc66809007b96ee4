// SPDX-License-Identifier: MIT
/* LTO workload, second unit: names_lto_helper() is inlined into names_lto_a.c. */
volatile unsigned long names_lto_sink;

__attribute__((noipa)) int names_lto_burn(int x)
{
	unsigned long i, v = names_lto_sink;

	for (i = 0; i < 2000000UL; i++)
		v = v * 6364136223846793005UL + 1442695040888963407UL;
	names_lto_sink = v;
	return x - (int)(v & 1);
}

__attribute__((always_inline)) inline int names_lto_helper(int x)
{
	return names_lto_burn(x) + 7; /* CALL_BURN */
}

extern int names_lto_helper(int x);
