#include "trap.h"

/* loop_add() in a comment is no call */
void proc_exit(void)
{
	loop_add();
}
