#include "proto/msg.h"
