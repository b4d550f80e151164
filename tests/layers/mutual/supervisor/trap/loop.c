#include "trap.h"

void loop_add(void)
{
}

static void on_event(void)
{
	proc_exit();
}
