/* The command as a job: signals passed on, children reaped, its status. */
#ifndef CODA_JOB_H
#define CODA_JOB_H

struct sup;

/* Our signals come through a signalfd in the loop; we are the subreaper of
 * the command's tree. 0 or -errno. */
int job_init(struct sup *s);

/* Runs until the command has exited and its last closes have reached
 * venus; returns its status as a shell reports it. */
int job_run(struct sup *s);

/* With no command (s->venus_only): serves the hosted venus's calls until a
 * signal asks us to stop or venus exits. 0 or -errno. */
int job_host_venus(struct sup *s);

#endif
