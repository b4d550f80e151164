#include "syscalls/syscalls.h"
#include "coda/coda.h"
