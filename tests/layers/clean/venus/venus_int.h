#ifndef VENUS_INT_H
#define VENUS_INT_H
int fid_enter(void);
#endif
