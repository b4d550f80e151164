#include "venus/venus.h"
