// SPDX-License-Identifier: MIT
/* smolder report: not written yet. */
#include <stdio.h>
#include "commands.h"

int cmd_report(int argc, char **argv)
{
	fprintf(stderr, "smolder report: not implemented yet\n");
	return 1;
}
