/* Keeping a target's thread on the supervisor's CPU while an ADDFD hands it
 * an fd.
 *
 * The listener is set to SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, so a SEND runs
 * the target on the supervisor's CPU, as a pipe's sync wakeup would. ADDFD
 * has no such wakeup (kernel/seccomp.c wakes the target with complete()):
 * while another CPU is idle, the scheduler moves the target there, and on a
 * VM each such wakeup of a halted CPU costs 15-25 us, twice per fd (the
 * target, then the supervisor it wakes when the fd is in). For the ADDFD
 * the thread is allowed the supervisor's CPU alone; its own set is put back
 * as soon as it has the fd. Without the right to (another owner, or more
 * capabilities than ours: sched_setaffinity(2)), the thread is left as is. */
#include <sched.h>

#include "trap.h"

void affinity_hold(struct affinity_hold *h, pid_t tid)
{
	cpu_set_t here;
	int cpu = sched_getcpu();

	h->held = false;
	if (tid <= 0 || cpu < 0 || cpu >= CPU_SETSIZE) /* tid 0: not in our pid namespace */
		return;
	if (sched_getaffinity(tid, sizeof(h->own), &h->own) < 0 || !CPU_ISSET(cpu, &h->own) ||
	    CPU_COUNT(&h->own) == 1)
		return;
	CPU_ZERO(&here);
	CPU_SET(cpu, &here);
	h->tid = tid;
	h->held = sched_setaffinity(tid, sizeof(here), &here) == 0;
}

void affinity_release(struct affinity_hold *h)
{
	/* Fails only if the thread has gone meanwhile. */
	if (h->held)
		(void)sched_setaffinity(h->tid, sizeof(h->own), &h->own);
	h->held = false;
}
