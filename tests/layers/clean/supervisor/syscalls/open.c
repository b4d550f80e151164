#include "coda/coda.h"
#include "syscalls.h"
