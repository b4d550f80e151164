#ifndef VENUS_INT_H
#define VENUS_INT_H
#include "venus.h"
int fid_enter(void);
#endif
