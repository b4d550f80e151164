#include "coda.h"
