#include "coda.h"
#include "syscalls/syscalls.h"
