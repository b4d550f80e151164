/* Start-up on the device, in stock venus's order: probe it with a
 * CODA_FLUSH, reopen it, ask the kernel's protocol version, flush again;
 * then mount from a grandchild while the main process goes on serving. */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testvenus.h"

/* What stock venus passes to mount(2): MS_MGC_VAL | MS_NOATIME | MS_NODEV |
 * MS_NOSUID, and the kernel's struct coda_mount_data. */
#define TV_MOUNT_FLAGS 0xc0ed0406UL
struct tv_mount_data {
	int version;
	int fd;
};

static const char *const default_devices[] = {"/dev/cfs0", "/dev/coda/0"};

/* A downcall header alone: what venus writes to say "forget everything". */
static int write_flush(int fd)
{
	struct coda_out_hdr oh = {.opcode = CODA_FLUSH};
	ssize_t n = write(fd, &oh, sizeof(oh));

	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(oh) ? 0 : -EIO;
}

static int open_device(const char *path)
{
	int fd = open(path, O_RDWR);

	return fd < 0 ? -errno : fd;
}

int tv_device_probe(struct tv *t)
{
	size_t n = sizeof(default_devices) / sizeof(default_devices[0]);
	int fd = -ENOENT, err;

	if (t->device) {
		fd = open_device(t->device);
	} else {
		for (size_t i = 0; i < n && fd < 0; i++) {
			fd = open_device(default_devices[i]);
			if (fd >= 0)
				t->device = default_devices[i];
		}
	}
	if (fd < 0) {
		fprintf(stderr, "testvenus: open failed for %s: %s\n",
			t->device ? t->device : "/dev/cfs0,/dev/coda/0", strerror(-fd));
		return fd;
	}
	err = write_flush(fd);
	if (err)
		fprintf(stderr, "testvenus: CODA_FLUSH on %s: %s\n", t->device, strerror(-err));
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int tv_device_open(struct tv *t)
{
	int version = 0, err;

	t->devfd = open_device(t->device);
	if (t->devfd < 0) {
		fprintf(stderr, "testvenus: reopen of %s: %s\n", t->device, strerror(-t->devfd));
		return t->devfd;
	}
	/* The kernel writes an int, though the ioctl number says size_t. */
	if (ioctl(t->devfd, CIOC_KERNEL_VERSION, &version) < 0) {
		err = -errno;
		fprintf(stderr, "testvenus: CIOC_KERNEL_VERSION on %s: %s\n", t->device,
			strerror(-err));
		return err;
	}
	if (version < 3 || version > 5) {
		fprintf(stderr, "testvenus: kernel Coda version %d; we speak 3 to 5\n", version);
		return -EPROTO;
	}
	err = write_flush(t->devfd);
	if (err)
		fprintf(stderr, "testvenus: CODA_FLUSH on %s: %s\n", t->device, strerror(-err));
	return err;
}

/* Is a coda file system mounted at the mount point already? No mtab: no. */
static bool mounted_already(const char *mountpoint)
{
	FILE *f = setmntent("/etc/mtab", "r");
	struct mntent *m;
	bool found = false;

	if (!f)
		return false;
	while (!found && (m = getmntent(f)))
		found = !strcmp(m->mnt_dir, mountpoint) && !strcmp(m->mnt_type, "coda");
	endmntent(f);
	return found;
}

/* The grandchild: the kernel answers CODA_ROOT's upcall, which only our
 * main loop can serve, before mount(2) returns. */
static void __attribute__((noreturn)) mounter(const struct tv *t, pid_t venus)
{
	struct tv_mount_data data = {.version = 1, .fd = t->devfd};

	if (mount("coda", t->mountpoint, "coda", TV_MOUNT_FLAGS, &data) < 0) {
		fprintf(stderr, "testvenus: mount %s: %s\n", t->mountpoint, strerror(errno));
		kill(venus, SIGKILL);
		_exit(1);
	}
	kill(venus, SIGUSR1);
	_exit(0);
}

int tv_mount(struct tv *t)
{
	pid_t venus = getpid(), child;
	int status;

	if (mounted_already(t->mountpoint)) {
		fprintf(stderr, "testvenus: %s is already a coda mount\n", t->mountpoint);
		return -EBUSY;
	}
	child = fork();
	if (child < 0) {
		int err = -errno;

		fprintf(stderr, "testvenus: fork: %s\n", strerror(-err));
		return err;
	}
	if (child == 0) {
		/* Double fork: the mounter is nobody's child we must wait for. */
		pid_t grandchild = fork();

		if (grandchild < 0) {
			kill(venus, SIGKILL);
			_exit(1);
		}
		if (grandchild == 0)
			mounter(t, venus);
		_exit(0);
	}
	while (waitpid(child, &status, 0) < 0) {
		int err = -errno;

		if (err != -EINTR) {
			fprintf(stderr, "testvenus: waitpid: %s\n", strerror(-err));
			return err;
		}
	}
	return 0;
}
