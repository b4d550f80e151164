#include "loop.h"
#include "task.h"
