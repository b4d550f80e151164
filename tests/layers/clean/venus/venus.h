#ifndef VENUS_H
#define VENUS_H
int venus_run(void);
#endif
