#include "syscalls.h"
#include "trap/call.h"

/* Every call the filter traps goes to its handler. A call listed twice is a
 * duplicate case, a call without a handler an undeclared one: neither builds. */
void syscall_dispatch(struct call *c)
{
	switch (c->n->data.nr) {
#define TRAP(name, handler, rule)                                                                  \
	case SYS_##name:                                                                           \
		handler(c);                                                                        \
		return;
#define REFUSE(name, err)
#include "trapped_calls.def"
#undef TRAP
#undef REFUSE
	}
	/* Not in the list, so never trapped by our filter: the kernel's. */
	call_continue(c);
}
