#include "coda/coda.h"
#include "coda/file.h"
