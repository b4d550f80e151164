#include "trap/trap.h"
