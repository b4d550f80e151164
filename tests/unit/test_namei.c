/* Path resolution (supervisor/coda/namei.c, the walk, and
 * supervisor/syscalls/lookup.c, where it starts for a process) against an
 * in-memory Coda volume.
 *
 * Both are compiled as they are; the functions they call are doubles below:
 * coda_root, coda_lookup (with a name cache that behaves as dir.c's: the
 * answer is written first, then the entry is keyed by *dir), coda_permission,
 * coda_readlink, coda_file_lookup and call_valid, and the switch to the
 * caller's credentials for host calls (the test's own are the caller's).
 * The volume is a small tree
 * of directories, files and symlinks with fids. Host-relative cases that need
 * /proc/PID/cwd name the test process itself (each Criterion test runs in its
 * own process, so chdir() is private to the test). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coda/coda.h"
#include "syscalls/fdtable.h"
#include "syscalls/host.h"
#include "syscalls/syscalls.h"
#include "syscalls/vfs.h"
#include "trap/trap.h"

/* ---- The volume ---- */

#define MAX_NODES 128

struct node {
	char name[CODA_MAXNAMLEN + 1];
	int parent; /* -1 for the root */
	int vtype;
	char target[128]; /* C_VLNK */
	bool deny_x;	  /* coda_permission refuses C_A_X_OK */
};

static struct node nodes[MAX_NODES];
static int nnodes;

/* Named nodes of the tree built by make_volume(). */
static int n_root, n_a, n_dir, n_b, n_sub, n_c, n_up, n_rel, n_abs, n_out, n_esc, n_dlink, n_flink,
    n_loop1, n_loop2, n_empty, n_dangling, n_locked, n_inner, n_long, n_chain[42];

static int add(int parent, const char *name, int vtype, const char *target)
{
	struct node *n = &nodes[nnodes];

	cr_assert_lt(nnodes, MAX_NODES);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->parent = parent;
	n->vtype = vtype;
	snprintf(n->target, sizeof(n->target), "%s", target ? target : "");
	n->deny_x = false;
	return nnodes++;
}

static struct CodaFid fid_of(int i)
{
	struct CodaFid f = {{0x7f000001u, (uint32_t)i, (uint32_t)i * 2654435761u, 0xc0dau}};

	return f;
}

static int node_of(const struct CodaFid *f)
{
	int i = (int)f->opaque[1];
	struct CodaFid want;

	cr_assert(i >= 0 && i < nnodes, "namei passed a fid that is not one of the volume's");
	want = fid_of(i);
	cr_assert(coda_fid_eq(f, &want), "namei passed a fid that is not one of the volume's");
	return i;
}

/* /coda
 *   a                 file
 *   dir/              dir
 *     b               file
 *     sub/            dir
 *       c             file
 *     up -> ../a
 *   rel -> dir/b
 *   abs -> /coda/dir/sub/c   (built on the mount point in use)
 *   out -> /etc/hosts
 *   esc -> ../tmp
 *   dlink -> dir
 *   flink -> a
 *   loop1 -> loop2, loop2 -> loop1
 *   empty -> ""
 *   dangling -> nothere
 *   locked/           dir, search permission denied
 *     inner           file
 *   nnn...n           file, a 255-byte name
 *   l1 -> a, l2 -> l1, ..., l41 -> l40
 */
static void make_volume(const char *mnt)
{
	char buf[CODA_MAXNAMLEN + 1];

	memset(nodes, 0, sizeof(nodes));
	nnodes = 0;
	n_root = add(-1, "", C_VDIR, NULL);
	n_a = add(n_root, "a", C_VREG, NULL);
	n_dir = add(n_root, "dir", C_VDIR, NULL);
	n_b = add(n_dir, "b", C_VREG, NULL);
	n_sub = add(n_dir, "sub", C_VDIR, NULL);
	n_c = add(n_sub, "c", C_VREG, NULL);
	n_up = add(n_dir, "up", C_VLNK, "../a");
	n_rel = add(n_root, "rel", C_VLNK, "dir/b");
	snprintf(buf, sizeof(buf), "%s/dir/sub/c", mnt);
	n_abs = add(n_root, "abs", C_VLNK, buf);
	n_out = add(n_root, "out", C_VLNK, "/etc/hosts");
	n_esc = add(n_root, "esc", C_VLNK, "../tmp");
	n_dlink = add(n_root, "dlink", C_VLNK, "dir");
	n_flink = add(n_root, "flink", C_VLNK, "a");
	n_loop1 = add(n_root, "loop1", C_VLNK, "loop2");
	n_loop2 = add(n_root, "loop2", C_VLNK, "loop1");
	n_empty = add(n_root, "empty", C_VLNK, "");
	n_dangling = add(n_root, "dangling", C_VLNK, "nothere");
	n_locked = add(n_root, "locked", C_VDIR, NULL);
	nodes[n_locked].deny_x = true;
	n_inner = add(n_locked, "inner", C_VREG, NULL);
	memset(buf, 'n', 255);
	buf[255] = '\0';
	n_long = add(n_root, buf, C_VREG, NULL);
	n_chain[0] = n_a;
	for (int i = 1; i <= 41; i++) {
		char name[8], target[8];

		snprintf(name, sizeof(name), "l%d", i);
		snprintf(target, sizeof(target), i == 1 ? "a" : "l%d", i - 1);
		n_chain[i] = add(n_root, name, C_VLNK, target);
	}
}

/* ---- Doubles of what namei.c calls ---- */

static int root_calls, lookup_calls, venus_lookups, perm_calls, readlink_calls, valid_calls;
static int root_error; /* coda_root fails with this when set */

struct cached_name {
	struct CodaFid dir;
	char name[CODA_MAXNAMLEN + 1];
	struct CodaFid fid;
	int vtype;
};
static struct cached_name name_cache[256];
static int ncached;

int coda_root(struct coda_req *r, struct CodaFid *root)
{
	(void)r;
	root_calls++;
	if (root_error)
		return root_error;
	*root = fid_of(n_root);
	return 0;
}

static bool cache_get(const struct CodaFid *dir, const char *name, size_t len, struct CodaFid *fid,
		      int *vtype)
{
	for (int i = 0; i < ncached; i++) {
		struct cached_name *e = &name_cache[i];

		if (coda_fid_eq(&e->dir, dir) && strlen(e->name) == len &&
		    memcmp(e->name, name, len) == 0) {
			*fid = e->fid;
			*vtype = e->vtype;
			return true;
		}
	}
	return false;
}

static void cache_put(const struct CodaFid *dir, const char *name, size_t len,
		      const struct CodaFid *fid, int vtype)
{
	struct cached_name *e = &name_cache[ncached];

	cr_assert_lt(ncached, 256);
	e->dir = *dir;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->fid = *fid;
	e->vtype = vtype;
	ncached++;
}

/* As supervisor/dir.c: cache first; otherwise "venus" answers into *fid and
 * *vtype, and the answer is then cached under *dir. */
int coda_lookup(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len,
		struct CodaFid *fid, int *vtype)
{
	int d = node_of(dir);

	(void)r;
	lookup_calls++;
	cr_assert_leq(len, CODA_MAXNAMLEN, "namei must refuse names over CODA_MAXNAMLEN itself");
	cr_assert_eq(nodes[d].vtype, C_VDIR, "lookup in a non-directory");
	if (cache_get(dir, name, len, fid, vtype))
		return *vtype == C_VNON ? -ENOENT : 0;
	venus_lookups++;
	for (int i = 0; i < nnodes; i++) {
		if (nodes[i].parent == d && strlen(nodes[i].name) == len &&
		    memcmp(nodes[i].name, name, len) == 0) {
			*fid = fid_of(i);
			*vtype = nodes[i].vtype;
			cache_put(dir, name, len, fid, *vtype);
			return 0;
		}
	}
	cache_put(dir, name, len, &(struct CodaFid){{0}}, C_VNON);
	return -ENOENT;
}

/* As dir.c's: the cache alone; a name it does not know is missing, and
 * venus is not asked. */
int coda_lookup_excl(struct coda_req *r, const struct CodaFid *dir, const char *name, size_t len,
		     struct CodaFid *fid, int *vtype, bool *unasked)
{
	(void)r;
	lookup_calls++;
	*unasked = !cache_get(dir, name, len, fid, vtype);
	if (*unasked)
		return -ENOENT;
	return *vtype == C_VNON ? -ENOENT : 0;
}

int coda_permission(struct coda_req *r, const struct CodaFid *fid, int mask)
{
	int i = node_of(fid);

	(void)r;
	perm_calls++;
	if (nodes[i].deny_x && (mask & C_A_X_OK))
		return -EACCES;
	return 0;
}

ssize_t coda_get_link(struct coda_req *r, const struct CodaFid *fid, char *buf, size_t cap)
{
	int i = node_of(fid);
	size_t len = strlen(nodes[i].target);

	(void)r;
	readlink_calls++;
	cr_assert_eq(nodes[i].vtype, C_VLNK, "readlink of a non-symlink");
	if (len > cap)
		len = cap;
	memcpy(buf, nodes[i].target, len);
	return (ssize_t)len;
}

/* Target fds that are /coda files: 600 is "dir", 601 "dir/sub", 900 "a". */
static struct coda_file files[3];
static char file_paths[3][PATH_MAX];
static const long file_fds[3] = {600, 601, 900};

struct coda_file *coda_file_lookup(struct call *c, long fd)
{
	(void)c;
	for (int i = 0; i < 3; i++)
		if (file_fds[i] == fd)
			return &files[i];
	return NULL;
}

bool call_valid(struct call *c)
{
	(void)c;
	valid_calls++;
	return true;
}

int host_creds_override(struct call *c, bool real)
{
	(void)c;
	(void)real;
	return 0;
}

void host_creds_revert(struct call *c)
{
	(void)c;
}

/* ---- The calling task ---- */

static struct sup sup;
static struct seccomp_notif notif;
static struct fs_state fs;
static struct proc proc;
static struct call call;
static struct nameidata nd;

static void set_file(int slot, int node, const char *rel)
{
	snprintf(file_paths[slot], sizeof(file_paths[slot]), "%s%s", sup.sb.mnt, rel);
	files[slot] = (struct coda_file){.refs = 1,
					 .fid = fid_of(node),
					 .vtype = nodes[node].vtype,
					 .host_fd = -1,
					 .container = -1,
					 .path = file_paths[slot]};
}

static void setup_mount(const char *mnt)
{
	memset(&sup, 0, sizeof(sup));
	snprintf(sup.sb.mnt, sizeof(sup.sb.mnt), "%s", mnt);
	sup.sb.mnt_len = strlen(sup.sb.mnt);
	memset(&notif, 0, sizeof(notif));
	notif.pid = (uint32_t)getpid();
	memset(&fs, 0, sizeof(fs));
	fs.shared.refs = 1;
	fs.kind = CWD_HOST;
	memset(&proc, 0, sizeof(proc));
	proc.tid = proc.tgid = getpid();
	proc.shared[PROC_FS] = &fs.shared;
	call = (struct call){.trap = &sup.trap, .n = &notif, .proc = &proc, .uid_override = -1};
	make_volume(mnt);
	set_file(0, n_dir, "/dir");
	set_file(1, n_sub, "/dir/sub");
	set_file(2, n_a, "/a");
	root_calls = lookup_calls = venus_lookups = perm_calls = readlink_calls = valid_calls = 0;
	root_error = 0;
	ncached = 0;
}

static void setup_coda(void)
{
	setup_mount("/coda");
}

static void setup_mnt_vol(void)
{
	setup_mount("/mnt/vol");
}

static void set_cwd(enum cwd_kind kind, const char *path, int node)
{
	fs.kind = kind;
	snprintf(fs.path, sizeof(fs.path), "%s", path);
	fs.fid = node >= 0 ? fid_of(node) : (struct CodaFid){{0}};
}

/* ---- Resolving and checking ---- */

static const char *cur; /* the name being resolved, for messages */

static int resolve_at(long dirfd, const char *name, int flags)
{
	cur = name;
	memset(&nd, 0xa5, sizeof(nd));
	return vfs_lookup(&call, dirfd, name, flags, &nd);
}

static int resolve(const char *name, int flags)
{
	return resolve_at(AT_FDCWD, name, flags);
}

static void expect_coda(int rc, const char *path, int node)
{
	struct CodaFid want = fid_of(node);

	cr_assert_eq(rc, 0, "\"%s\": rc %d (%s)", cur, rc, strerror(-rc));
	cr_assert_eq(nd.kind, NAMEI_CODA, "\"%s\": kind %d", cur, nd.kind);
	cr_assert_not(nd.missing, "\"%s\": missing", cur);
	cr_assert_str_eq(nd.path, path, "\"%s\": path \"%s\", want \"%s\"", cur, nd.path, path);
	cr_assert(coda_fid_eq(&nd.fid, &want), "\"%s\": fid of node %u, want %d (%s)", cur,
		  nd.fid.opaque[1], node, nodes[node].name);
	cr_assert_eq(nd.vtype, nodes[node].vtype, "\"%s\": vtype %d", cur, nd.vtype);
}

static void expect_missing(int rc, const char *parent_path, int parent, const char *last)
{
	struct CodaFid want = fid_of(parent);

	cr_assert_eq(rc, 0, "\"%s\": rc %d (%s)", cur, rc, strerror(-rc));
	cr_assert_eq(nd.kind, NAMEI_CODA, "\"%s\": kind %d", cur, nd.kind);
	cr_assert(nd.missing, "\"%s\": not missing (path %s)", cur, nd.path);
	cr_assert_str_eq(nd.path, parent_path, "\"%s\": path \"%s\"", cur, nd.path);
	cr_assert(coda_fid_eq(&nd.fid, &want), "\"%s\": parent fid of node %u, want %d", cur,
		  nd.fid.opaque[1], parent);
	cr_assert_eq(nd.vtype, C_VDIR, "\"%s\": parent vtype %d", cur, nd.vtype);
	cr_assert_str_eq(nd.last, last, "\"%s\": last \"%s\"", cur, nd.last);
}

static void expect_host(int rc, const char *path)
{
	cr_assert_eq(rc, 0, "\"%s\": rc %d (%s)", cur, rc, strerror(-rc));
	cr_assert_eq(nd.kind, NAMEI_HOST, "\"%s\": kind %d (path %s)", cur, nd.kind, nd.path);
	cr_assert_not(nd.missing, "\"%s\": missing", cur);
	cr_assert_str_eq(nd.path, path, "\"%s\": path \"%s\", want \"%s\"", cur, nd.path, path);
}

static void expect_continue(int rc)
{
	cr_assert_eq(rc, 0, "\"%s\": rc %d (%s)", cur, rc, strerror(-rc));
	cr_assert_eq(nd.kind, NAMEI_CONTINUE, "\"%s\": kind %d (path %s)", cur, nd.kind, nd.path);
	cr_assert_not(nd.missing, "\"%s\": missing", cur);
}

static void expect_error(int rc, int err)
{
	cr_assert_eq(rc, -err, "\"%s\": rc %d (%s), want -%d (%s)", cur, rc,
		     rc < 0 ? strerror(-rc) : "success", err, strerror(err));
}

/* ---- Absolute paths ---- */

TestSuite(namei, .init = setup_coda);

Test(namei, absolute_path_inside_volume_gives_object_and_canonical_path)
{
	expect_coda(resolve("/coda/a", 0), "/coda/a", n_a);
	expect_coda(resolve("/coda/dir/sub/c", 0), "/coda/dir/sub/c", n_c);
	expect_coda(resolve("/coda/dir/sub", LOOKUP_DIRECTORY), "/coda/dir/sub", n_sub);
}

Test(namei, mount_point_is_the_root)
{
	expect_coda(resolve("/coda", 0), "/coda", n_root);
	cr_assert_eq(root_calls, 1);
	cr_assert_eq(lookup_calls, 0);
}

Test(namei, mount_point_with_trailing_slash_is_the_root)
{
	expect_coda(resolve("/coda/", LOOKUP_DIRECTORY), "/coda", n_root);
}

Test(namei, host_absolute_path_continues)
{
	expect_continue(resolve("/usr/bin/ls", LOOKUP_FOLLOW));
	expect_continue(resolve("/", 0));
	expect_continue(resolve("/etc/../usr", 0));
	cr_assert_eq(root_calls, 0);
	cr_assert_eq(lookup_calls, 0);
}

Test(namei, names_sharing_a_prefix_with_the_mount_continue)
{
	expect_continue(resolve("/coda2/x", 0));
	expect_continue(resolve("/cod", 0));
	expect_continue(resolve("/codax", 0));
	expect_continue(resolve("/cod/a", 0));
	cr_assert_eq(root_calls, 0);
}

Test(namei, dotdot_out_of_the_mount_gives_host_path)
{
	expect_host(resolve("/coda/../etc/passwd", 0), "/etc/passwd");
}

Test(namei, dotdot_twice_from_a_subdirectory_gives_host_path)
{
	expect_host(resolve("/coda/dir/../../tmp", 0), "/tmp");
}

Test(namei, host_file_reached_through_the_mount_with_trailing_slash_gives_enotdir)
{
	expect_error(resolve("/coda/../etc/passwd/", 0), ENOTDIR);
	expect_error(resolve("/coda/../etc/passwd/.", 0), ENOTDIR);
	expect_host(resolve("/coda/../tmp/", 0), "/tmp");
}

Test(namei, dotdot_of_the_mount_point_is_host_root)
{
	expect_host(resolve("/coda/..", 0), "/");
	expect_host(resolve("/coda/../..", 0), "/");
}

Test(namei, host_dotdot_into_the_mount_gives_object)
{
	expect_coda(resolve("/tmp/../coda/a", 0), "/coda/a", n_a);
	expect_coda(resolve("/tmp/x/../../coda/dir", 0), "/coda/dir", n_dir);
}

Test(namei, out_of_the_mount_and_back_in_gives_object)
{
	expect_coda(resolve("/coda/dir/../../coda/dir/b", 0), "/coda/dir/b", n_b);
}

Test(namei, root_failure_is_returned)
{
	root_error = -ENXIO;
	expect_error(resolve("/coda/a", 0), ENXIO);
}

Test(namei, path_in_mount)
{
	cr_assert(coda_path_in_mount(&sup.sb, "/coda"));
	cr_assert(coda_path_in_mount(&sup.sb, "/coda/a"));
	cr_assert_not(coda_path_in_mount(&sup.sb, "/coda2"));
	cr_assert_not(coda_path_in_mount(&sup.sb, "/cod"));
	cr_assert_not(coda_path_in_mount(&sup.sb, "/"));
}

/* ---- Relative paths: cwd in the volume ---- */

Test(namei, cwd_coda_plain_name)
{
	set_cwd(CWD_CODA, "/coda", n_root);
	expect_coda(resolve("a", 0), "/coda/a", n_a);
	cr_assert_eq(root_calls, 0, "the cwd's fid is the start, not the root");
}

Test(namei, cwd_coda_dot_slash_name)
{
	set_cwd(CWD_CODA, "/coda", n_root);
	expect_coda(resolve("./a", 0), "/coda/a", n_a);
}

Test(namei, cwd_coda_dotdot_inside_the_volume)
{
	set_cwd(CWD_CODA, "/coda", n_root);
	expect_coda(resolve("dir/../a", 0), "/coda/a", n_a);
}

Test(namei, cwd_coda_dotdot_from_the_root_gives_host_path)
{
	set_cwd(CWD_CODA, "/coda", n_root);
	expect_host(resolve("../x", 0), "/x");
}

Test(namei, cwd_coda_subdirectory_dotdot)
{
	set_cwd(CWD_CODA, "/coda/dir/sub", n_sub);
	expect_coda(resolve("../b", 0), "/coda/dir/b", n_b);
	expect_coda(resolve("../../a", 0), "/coda/a", n_a);
	expect_coda(resolve("..", 0), "/coda/dir", n_dir);
	expect_host(resolve("../../../etc", 0), "/etc");
}

/* ".." walks the canonical path again from the root. Each answer must be
 * cached under the directory it was looked up in, not under the answer. */
Test(namei, cwd_coda_dotdot_keeps_the_name_cache_right)
{
	set_cwd(CWD_CODA, "/coda/dir/sub", n_sub);
	expect_missing(resolve("../dir", 0), "/coda/dir", n_dir, "dir");
	expect_missing(resolve("/coda/dir/dir", 0), "/coda/dir", n_dir, "dir");
	expect_coda(resolve("/coda/dir", 0), "/coda/dir", n_dir);
}

Test(namei, cwd_coda_whose_parent_is_gone_gives_enoent)
{
	set_cwd(CWD_CODA, "/coda/gone/deeper", n_sub);
	expect_error(resolve("..", 0), ENOENT);
	set_cwd(CWD_CODA, "/coda/a/deeper", n_sub); /* "a" is now a file */
	expect_error(resolve("../x", 0), ENOENT);
}

/* ---- Relative paths: emulated host cwd ---- */

Test(namei, cwd_emulated_name_gives_host_path)
{
	set_cwd(CWD_EMULATED, "/tmp", -1);
	expect_host(resolve("x", 0), "/tmp/x");
	expect_host(resolve("x/../y", 0), "/tmp/y");
	cr_assert_eq(valid_calls, 0, "no /proc lookup for an emulated cwd");
}

Test(namei, cwd_emulated_dotdot_into_the_mount_gives_object)
{
	set_cwd(CWD_EMULATED, "/tmp", -1);
	expect_coda(resolve("../coda/a", 0), "/coda/a", n_a);
}

Test(namei, cwd_emulated_empty_name_is_the_cwd)
{
	set_cwd(CWD_EMULATED, "/tmp", -1);
	expect_host(resolve("", LOOKUP_EMPTY), "/tmp");
}

/* ---- Relative paths: the kernel's cwd (read from /proc/PID/cwd) ---- */

Test(namei, cwd_host_name_not_reaching_the_mount_continues)
{
	cr_assert_eq(chdir("/"), 0);
	expect_continue(resolve("x", 0));
	expect_continue(resolve("usr/bin", 0));
	expect_continue(resolve(".", 0));
	cr_assert_eq(valid_calls, 0, "/proc/PID/cwd was read");
}

Test(namei, cwd_host_root_then_mount_name_gives_object)
{
	cr_assert_eq(chdir("/"), 0);
	expect_coda(resolve("coda/a", 0), "/coda/a", n_a);
	cr_assert_eq(valid_calls, 1);
}

Test(namei, cwd_host_dot_slash_mount_name_gives_object)
{
	cr_assert_eq(chdir("/"), 0);
	expect_coda(resolve("./coda/a", 0), "/coda/a", n_a);
	expect_coda(resolve(".//./coda", 0), "/coda", n_root);
}

Test(namei, cwd_host_dotdot_into_the_mount_gives_object)
{
	cr_assert_eq(chdir("/tmp"), 0);
	expect_coda(resolve("../coda/dir", 0), "/coda/dir", n_dir);
}

Test(namei, cwd_host_dotdot_staying_on_the_host_continues)
{
	cr_assert_eq(chdir("/tmp"), 0);
	expect_continue(resolve("x/../y", 0));
	expect_continue(resolve("../etc", 0));
}

Test(namei, cwd_host_empty_name_with_lookup_empty_continues)
{
	expect_continue(resolve("", LOOKUP_EMPTY));
}

Test(namei, host_dirfd_then_mount_name_gives_object)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY);

	cr_assert_geq(fd, 0);
	expect_coda(resolve_at(fd, "coda/dir/b", 0), "/coda/dir/b", n_b);
	close(fd);
}

Test(namei, bad_host_dirfd_continues)
{
	expect_continue(resolve_at(4000, "coda/a", 0)); /* the kernel says EBADF */
}

/* ---- A /coda dirfd ---- */

Test(namei, coda_dirfd_with_relative_name)
{
	expect_coda(resolve_at(600, "sub/c", 0), "/coda/dir/sub/c", n_c);
	expect_coda(resolve_at(600, "../a", 0), "/coda/a", n_a);
	expect_coda(resolve_at(601, "..", 0), "/coda/dir", n_dir);
	expect_coda(resolve_at(600, "/coda/a", 0), "/coda/a", n_a); /* absolute: fd unused */
}

Test(namei, coda_dirfd_that_is_a_file_with_a_name_gives_enotdir)
{
	expect_error(resolve_at(900, "x", 0), ENOTDIR);
}

Test(namei, empty_name_without_lookup_empty_gives_enoent)
{
	expect_error(resolve("", 0), ENOENT);
	expect_error(resolve_at(600, "", LOOKUP_FOLLOW), ENOENT);
}

Test(namei, empty_name_with_lookup_empty_on_coda_dirfd_is_that_object)
{
	expect_coda(resolve_at(900, "", LOOKUP_EMPTY), "/coda/a", n_a);
	expect_coda(resolve_at(600, "", LOOKUP_EMPTY), "/coda/dir", n_dir);
	set_cwd(CWD_CODA, "/coda/dir/sub", n_sub);
	expect_coda(resolve("", LOOKUP_EMPTY), "/coda/dir/sub", n_sub);
}

/* ---- Symlinks ---- */

Test(namei, relative_symlink_is_followed)
{
	expect_coda(resolve("/coda/rel", LOOKUP_FOLLOW), "/coda/dir/b", n_b);
	expect_coda(resolve("/coda/dir/up", LOOKUP_FOLLOW), "/coda/a", n_a);
	cr_assert_eq(readlink_calls, 2);
}

Test(namei, absolute_symlink_into_the_mount_is_followed)
{
	expect_coda(resolve("/coda/abs", LOOKUP_FOLLOW), "/coda/dir/sub/c", n_c);
}

Test(namei, absolute_symlink_out_of_the_mount_gives_host_path)
{
	expect_host(resolve("/coda/out", LOOKUP_FOLLOW), "/etc/hosts");
}

Test(namei, relative_symlink_out_of_the_mount_gives_host_path)
{
	expect_host(resolve("/coda/esc/x", 0), "/tmp/x");
}

Test(namei, symlink_to_a_directory_then_more_components)
{
	expect_coda(resolve("/coda/dlink/sub/c", 0), "/coda/dir/sub/c", n_c);
	expect_coda(resolve("/coda/dlink/up", LOOKUP_FOLLOW), "/coda/a", n_a);
}

Test(namei, last_symlink_followed_only_with_lookup_follow)
{
	expect_coda(resolve("/coda/rel", 0), "/coda/rel", n_rel);
	cr_assert_eq(readlink_calls, 0);
	expect_coda(resolve("/coda/rel", LOOKUP_FOLLOW), "/coda/dir/b", n_b);
	cr_assert_eq(readlink_calls, 1);
	expect_coda(resolve("/coda/out", 0), "/coda/out", n_out);
}

Test(namei, trailing_slash_follows_symlink_to_a_directory)
{
	expect_coda(resolve("/coda/dlink/", 0), "/coda/dir", n_dir);
	expect_coda(resolve("/coda/dlink//", LOOKUP_DIRECTORY), "/coda/dir", n_dir);
}

Test(namei, trailing_slash_on_symlink_to_a_file_gives_enotdir)
{
	expect_error(resolve("/coda/flink/", 0), ENOTDIR);
}

Test(namei, name_calls_take_a_symlink_with_a_trailing_slash_as_itself)
{
	expect_coda(resolve("/coda/dlink/", LOOKUP_NAME), "/coda/dlink", n_dlink);
	cr_assert(nd.trailing);
	expect_coda(resolve("/coda/flink/", LOOKUP_NAME), "/coda/flink", n_flink);
	expect_coda(resolve("/coda/a//", LOOKUP_NAME), "/coda/a", n_a);
	cr_assert(nd.trailing);
	cr_assert_eq(readlink_calls, 0);
	expect_coda(resolve("/coda/a", LOOKUP_NAME), "/coda/a", n_a);
	cr_assert_not(nd.trailing);
}

Test(namei, name_calls_see_a_trailing_slash_on_a_missing_name)
{
	expect_missing(resolve("/coda/dir/new/", LOOKUP_NAME), "/coda/dir", n_dir, "new");
	cr_assert(nd.trailing);
}

Test(namei, create_with_a_trailing_slash_gives_eisdir)
{
	expect_error(resolve("/coda/dir/new/", LOOKUP_CREATE | LOOKUP_FOLLOW), EISDIR);
	expect_error(resolve("/coda/a/", LOOKUP_CREATE | LOOKUP_FOLLOW), EISDIR);
	expect_error(resolve("/coda/dlink/", LOOKUP_CREATE | LOOKUP_FOLLOW), EISDIR);
	expect_error(resolve("/coda/nothere/new", LOOKUP_CREATE), ENOENT);
	expect_missing(resolve("/coda/dir/new", LOOKUP_CREATE), "/coda/dir", n_dir, "new");
}

/* open(O_CREAT|O_EXCL): CODA_CREATE says whether the name exists, so the
 * last name is asked of venus only if the caches know it; the directories
 * on the way are looked up as ever. */
Test(namei, exclusive_create_asks_venus_nothing_of_the_last_name)
{
	expect_missing(resolve("/coda/dir/new", LOOKUP_CREATE | LOOKUP_EXCL), "/coda/dir", n_dir,
		       "new");
	cr_assert(nd.unasked);
	cr_assert_eq(venus_lookups, 1, "venus asked %d times, for more than dir", venus_lookups);
	expect_missing(resolve("/coda/dir/b", LOOKUP_CREATE | LOOKUP_EXCL), "/coda/dir", n_dir,
		       "b");
	cr_assert(nd.unasked, "a name the caches do not know is unasked even if it is there");
	cr_assert_eq(venus_lookups, 1);
	expect_missing(resolve("/coda/dir/new", LOOKUP_CREATE), "/coda/dir", n_dir, "new");
	cr_assert_not(nd.unasked, "a plain O_CREAT walk asks venus");
	expect_missing(resolve("/coda/dir/new", LOOKUP_CREATE | LOOKUP_EXCL), "/coda/dir", n_dir,
		       "new");
	cr_assert_not(nd.unasked, "a name venus said is missing is known missing");
}

Test(namei, no_symlinks_gives_eloop)
{
	expect_error(resolve("/coda/dlink/b", LOOKUP_NO_SYMLINKS), ELOOP);
	expect_error(resolve("/coda/rel", LOOKUP_NO_SYMLINKS | LOOKUP_FOLLOW), ELOOP);
	expect_error(resolve("/coda/dlink/", LOOKUP_NO_SYMLINKS), ELOOP);
	cr_assert_eq(readlink_calls, 0);
	/* A last component that is not followed is the link itself. */
	expect_coda(resolve("/coda/rel", LOOKUP_NO_SYMLINKS), "/coda/rel", n_rel);
}

Test(namei, symlink_loop_gives_eloop)
{
	expect_error(resolve("/coda/loop1", LOOKUP_FOLLOW), ELOOP);
	cr_assert_eq(readlink_calls, 40, "readlink calls %d", readlink_calls);
	expect_error(resolve("/coda/loop2/x", 0), ELOOP);
}

Test(namei, forty_symlinks_are_followed_and_the_forty_first_gives_eloop)
{
	expect_coda(resolve("/coda/l40", LOOKUP_FOLLOW), "/coda/a", n_a);
	expect_error(resolve("/coda/l41", LOOKUP_FOLLOW), ELOOP);
	expect_coda(resolve("/coda/l41", 0), "/coda/l41", n_chain[41]);
}

Test(namei, empty_symlink_gives_enoent)
{
	expect_error(resolve("/coda/empty", LOOKUP_FOLLOW), ENOENT);
	expect_error(resolve("/coda/empty/x", 0), ENOENT);
	expect_coda(resolve("/coda/empty", 0), "/coda/empty", n_empty);
}

Test(namei, dangling_last_symlink_gives_its_missing_target)
{
	expect_missing(resolve("/coda/dangling", LOOKUP_FOLLOW), "/coda", n_root, "nothere");
	expect_coda(resolve("/coda/dangling", 0), "/coda/dangling", n_dangling);
	expect_error(resolve("/coda/dangling/x", 0), ENOENT);
}

/* ---- Missing names and types ---- */

Test(namei, missing_last_name_gives_parent_and_name)
{
	expect_missing(resolve("/coda/dir/nothere", 0), "/coda/dir", n_dir, "nothere");
	expect_missing(resolve("/coda/nothere", LOOKUP_DIRECTORY), "/coda", n_root, "nothere");
	set_cwd(CWD_CODA, "/coda/dir/sub", n_sub);
	expect_missing(resolve("new", 0), "/coda/dir/sub", n_sub, "new");
}

Test(namei, missing_middle_component_gives_enoent)
{
	expect_error(resolve("/coda/nothere/x", 0), ENOENT);
	expect_error(resolve("/coda/nothere/..", 0), ENOENT);
	expect_error(resolve("/coda/dir/nothere/sub/c", 0), ENOENT);
}

Test(namei, component_through_a_regular_file_gives_enotdir)
{
	expect_error(resolve("/coda/a/x", 0), ENOTDIR);
	expect_error(resolve("/coda/a/..", 0), ENOTDIR);
	expect_error(resolve("/coda/flink/x", 0), ENOTDIR);
}

Test(namei, trailing_slash_on_a_regular_file_gives_enotdir)
{
	expect_error(resolve("/coda/a/", 0), ENOTDIR);
	expect_error(resolve("/coda/a/.", 0), ENOTDIR);
	expect_error(resolve("/coda/rel/", LOOKUP_FOLLOW), ENOTDIR);
}

Test(namei, lookup_directory_on_a_file_gives_enotdir)
{
	expect_error(resolve("/coda/a", LOOKUP_DIRECTORY), ENOTDIR);
	expect_error(resolve("/coda/rel", LOOKUP_DIRECTORY | LOOKUP_FOLLOW), ENOTDIR);
	expect_error(resolve("/coda/rel", LOOKUP_DIRECTORY), ENOTDIR); /* the link itself */
	expect_coda(resolve("/coda/dlink", LOOKUP_DIRECTORY | LOOKUP_FOLLOW), "/coda/dir", n_dir);
}

/* ---- Name length ---- */

static char *long_path(const char *prefix, char fill, size_t len, const char *suffix)
{
	static char buf[PATH_MAX];
	size_t n = strlen(prefix);

	memcpy(buf, prefix, n);
	memset(buf + n, fill, len);
	snprintf(buf + n + len, sizeof(buf) - n - len, "%s", suffix);
	return buf;
}

Test(namei, name_of_256_bytes_gives_enametoolong)
{
	expect_error(resolve(long_path("/coda/", 'n', 256, ""), 0), ENAMETOOLONG);
	expect_error(resolve(long_path("/coda/", 'm', 256, "/x"), 0), ENAMETOOLONG);
	expect_error(resolve(long_path("/coda/dir/", 'm', 256, ""), 0), ENAMETOOLONG);
}

Test(namei, name_of_255_bytes_is_looked_up)
{
	char want[PATH_MAX], last[CODA_MAXNAMLEN + 1];

	snprintf(want, sizeof(want), "%s", long_path("/coda/", 'n', 255, ""));
	expect_coda(resolve(want, 0), want, n_long);
	memset(last, 'm', 255);
	last[255] = '\0';
	expect_missing(resolve(long_path("/coda/dir/", 'm', 255, ""), 0), "/coda/dir", n_dir, last);
}

/* ---- Permission ---- */

Test(namei, search_permission_denied_gives_eacces)
{
	expect_error(resolve("/coda/locked/inner", 0), EACCES);
	expect_error(resolve("/coda/locked/nothere", 0), EACCES);
	expect_error(resolve("/coda/locked/.", 0), EACCES);
	expect_error(resolve("/coda/locked/..", 0), EACCES);
	/* The directory itself needs search permission on its parent only. */
	expect_coda(resolve("/coda/locked", 0), "/coda/locked", n_locked);
	expect_coda(resolve("/coda/locked/", 0), "/coda/locked", n_locked);
}

/* ---- Dots and slashes ---- */

Test(namei, dot_at_the_volume_root)
{
	expect_coda(resolve("/coda/.", 0), "/coda", n_root);
	expect_coda(resolve("/coda/./././a", 0), "/coda/a", n_a);
	set_cwd(CWD_CODA, "/coda", n_root);
	expect_coda(resolve(".", 0), "/coda", n_root);
}

Test(namei, dot_and_dotdot_deeper)
{
	expect_coda(resolve("/coda/dir/sub/..", 0), "/coda/dir", n_dir);
	expect_coda(resolve("/coda/dir/sub/../..", 0), "/coda", n_root);
	expect_coda(resolve("/coda/dir/./sub/./../sub/c", 0), "/coda/dir/sub/c", n_c);
	expect_coda(resolve("/coda/dir/sub/../../dir/b", 0), "/coda/dir/b", n_b);
}

Test(namei, repeated_slashes)
{
	expect_coda(resolve("//coda///a", 0), "/coda/a", n_a);
	expect_coda(resolve("/coda//dir//sub//", 0), "/coda/dir/sub", n_sub);
	expect_host(resolve("//coda//..//etc//", 0), "/etc");
	set_cwd(CWD_CODA, "/coda", n_root);
	expect_coda(resolve("dir//sub///c", 0), "/coda/dir/sub/c", n_c);
}

/* ---- Another mount point ---- */

TestSuite(namei_mnt, .init = setup_mnt_vol);

Test(namei_mnt, objects_under_another_mount_point)
{
	expect_coda(resolve("/mnt/vol", 0), "/mnt/vol", n_root);
	expect_coda(resolve("/mnt/vol/dir/sub/c", 0), "/mnt/vol/dir/sub/c", n_c);
	expect_coda(resolve("/mnt/./vol/a", 0), "/mnt/vol/a", n_a);
	expect_coda(resolve("/mnt/vol/abs", LOOKUP_FOLLOW), "/mnt/vol/dir/sub/c", n_c);
	expect_coda(resolve("/mnt/x/../vol/a", 0), "/mnt/vol/a", n_a);
}

Test(namei_mnt, host_paths_beside_another_mount_point_continue)
{
	expect_continue(resolve("/mnt", 0));
	expect_continue(resolve("/mnt/vol2/a", 0));
	expect_continue(resolve("/mnt/x", 0));
	expect_continue(resolve("/coda/a", 0));
	cr_assert_eq(root_calls, 0);
}

Test(namei_mnt, dotdot_out_of_another_mount_point)
{
	expect_host(resolve("/mnt/vol/..", 0), "/mnt");
	expect_host(resolve("/mnt/vol/dir/../../x", 0), "/mnt/x");
	set_cwd(CWD_CODA, "/mnt/vol", n_root);
	expect_host(resolve("..", 0), "/mnt");
	expect_host(resolve("../../etc", 0), "/etc");
	set_cwd(CWD_EMULATED, "/mnt", -1);
	expect_coda(resolve("vol/a", 0), "/mnt/vol/a", n_a);
}

/* A mount point two levels under a real host directory, entered from the
 * kernel's cwd by its last components. */
Test(namei, host_cwd_above_a_deeper_mount_point)
{
	char tmpl[] = "/tmp/namei-XXXXXX", real[PATH_MAX], mnt[PATH_MAX + 8], want[PATH_MAX + 16];

	cr_assert_not_null(mkdtemp(tmpl));
	cr_assert_not_null(realpath(tmpl, real));
	snprintf(mnt, sizeof(mnt), "%s/vol", real);
	setup_mount(mnt);
	cr_assert_eq(chdir(real), 0);
	snprintf(want, sizeof(want), "%s/a", mnt);
	expect_coda(resolve("vol/a", 0), want, n_a);
	expect_coda(resolve("./vol/a", 0), want, n_a);
	expect_continue(resolve("other/a", 0));
	cr_assert_eq(chdir("/"), 0);
	rmdir(real);
}
