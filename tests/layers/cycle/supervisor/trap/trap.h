#include "task.h"
