/* The fd band: /coda files are injected into the target at fd numbers in
 * [CODA_FD_BAND_LO, CODA_FD_BAND_HI), so that the filter can trap fd calls
 * (fstat, getdents64, ...) on them alone and let every other fd call run
 * untrapped. Below the usual 1024 soft RLIMIT_NOFILE, so select() still works. */
#ifndef CODA_FD_BAND_H
#define CODA_FD_BAND_H

#define CODA_FD_BAND_LO	  512
#define CODA_FD_BAND_HI	  1024
#define CODA_FD_BAND_SIZE (CODA_FD_BAND_HI - CODA_FD_BAND_LO)

static inline int coda_fd_in_band(long fd)
{
	return fd >= CODA_FD_BAND_LO && fd < CODA_FD_BAND_HI;
}

#endif
