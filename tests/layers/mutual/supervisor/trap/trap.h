#ifndef TRAP_H
#define TRAP_H
void loop_add(void);
void proc_exit(void);
#endif
