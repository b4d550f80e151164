#include "venus/venus.h"
#include "coda/dir.h"
#include "main.c"
