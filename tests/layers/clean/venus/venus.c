#include "venus.h"
#include "venus_int.h"

int venus_run(void)
{
	return 0;
}
