#include "coda/dir.h"
