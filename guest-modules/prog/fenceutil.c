// SPDX-License-Identifier: GPL-2.0
/*
 * fenceutil - guest-side ioctls for the harness scenarios (static binary).
 *
 *   fenceutil info FD|PATH            SYNC_IOC_FILE_INFO on a sync_file
 *   fenceutil swsync                  sw_sync timeline: create fence, info,
 *                                     deadline, signal, info, close
 *   fenceutil udmabuf-attach [--export]
 *                                     create a udmabuf, add fence_holder's
 *                                     fences to its dma_resv (resv_attach),
 *                                     optionally export a sync_file + info;
 *                                     the holder keeps the dma-buf
 *   fenceutil hold --ctl CTL [--log F] SOURCE
 *                                     daemon keeping fds open across steps;
 *                                     returns once SOURCE is set up:
 *       holder    sync_file from /sys/kernel/debug/fence_holder/syncfd
 *       vgem      /dev/dri/card0: dumb BO, vgem fence attach (write), PRIME
 *                 export, EXPORT_SYNC_FILE, fence signal, close dma-buf,
 *                 GEM handle and card; keeps only the sync_file
 *       vgem-nosignal   same without DRM_IOCTL_VGEM_FENCE_SIGNAL
 *       udmabuf   a udmabuf dma-buf fd (see ctl attach/export)
 *       swsync    a sw_sync timeline and a fence on it (see ctl inc)
 *   fenceutil ctl CTL CMD [ARG]       ask the daemon:
 *       info | poll MS | deadline MS | attach | export | inc N |
 *       close-sync | close-buf | close | exit | ping
 *     prints the daemon's output; exit status is the command's (0 ok),
 *     3 when the daemon died while handling it (e.g. killed by an oops).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

/* ---- uapi, defined here so the program builds with any host headers ---- */

struct fu_sync_fence_info {
	char obj_name[32];
	char driver_name[32];
	__s32 status;
	__u32 flags;
	__u64 timestamp_ns;
};

struct fu_sync_file_info {
	char name[32];
	__s32 status;
	__u32 flags;
	__u32 num_fences;
	__u32 pad;
	__u64 sync_fence_info;
};

struct fu_sync_set_deadline {
	__u64 deadline_ns;
	__u64 pad;
};

#define FU_SYNC_IOC_MAGIC '>'
#define FU_SYNC_IOC_FILE_INFO _IOWR(FU_SYNC_IOC_MAGIC, 4, struct fu_sync_file_info)
#define FU_SYNC_IOC_SET_DEADLINE _IOW(FU_SYNC_IOC_MAGIC, 5, struct fu_sync_set_deadline)

struct fu_sw_sync_create_fence_data {
	__u32 value;
	char name[32];
	__s32 fence;
};
#define FU_SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct fu_sw_sync_create_fence_data)
#define FU_SW_SYNC_IOC_INC _IOW('W', 1, __u32)

struct fu_dma_buf_export_sync_file {
	__u32 flags;
	__s32 fd;
};
#define FU_DMA_BUF_SYNC_READ (1 << 0)
#define FU_DMA_BUF_SYNC_WRITE (2 << 0)
#define FU_DMA_BUF_SYNC_RW (FU_DMA_BUF_SYNC_READ | FU_DMA_BUF_SYNC_WRITE)
#define FU_DMA_BUF_BASE 'b'
#define FU_DMA_BUF_IOCTL_EXPORT_SYNC_FILE _IOWR(FU_DMA_BUF_BASE, 2, struct fu_dma_buf_export_sync_file)

struct fu_udmabuf_create {
	__u32 memfd;
	__u32 flags;
	__u64 offset;
	__u64 size;
};
#define FU_UDMABUF_FLAGS_CLOEXEC 0x01
#define FU_UDMABUF_CREATE _IOW('u', 0x42, struct fu_udmabuf_create)

#define FU_DRM_IOCTL_BASE 'd'
#define FU_DRM_COMMAND_BASE 0x40
struct fu_drm_gem_close {
	__u32 handle;
	__u32 pad;
};
struct fu_drm_prime_handle {
	__u32 handle;
	__u32 flags;
	__s32 fd;
};
struct fu_drm_mode_create_dumb {
	__u32 height;
	__u32 width;
	__u32 bpp;
	__u32 flags;
	__u32 handle;
	__u32 pitch;
	__u64 size;
};
struct fu_drm_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
	__u32 out_fence;
	__u32 pad;
};
struct fu_drm_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};
#define FU_VGEM_FENCE_WRITE 0x1
#define FU_DRM_IOCTL_GEM_CLOSE _IOW(FU_DRM_IOCTL_BASE, 0x09, struct fu_drm_gem_close)
#define FU_DRM_IOCTL_PRIME_HANDLE_TO_FD _IOWR(FU_DRM_IOCTL_BASE, 0x2d, struct fu_drm_prime_handle)
#define FU_DRM_IOCTL_MODE_CREATE_DUMB _IOWR(FU_DRM_IOCTL_BASE, 0xB2, struct fu_drm_mode_create_dumb)
#define FU_DRM_IOCTL_VGEM_FENCE_ATTACH \
	_IOWR(FU_DRM_IOCTL_BASE, FU_DRM_COMMAND_BASE + 0x1, struct fu_drm_vgem_fence_attach)
#define FU_DRM_IOCTL_VGEM_FENCE_SIGNAL \
	_IOW(FU_DRM_IOCTL_BASE, FU_DRM_COMMAND_BASE + 0x2, struct fu_drm_vgem_fence_signal)
#ifndef O_CLOEXEC
#define O_CLOEXEC 02000000
#endif
#define FU_DRM_CLOEXEC O_CLOEXEC
#define FU_DRM_RDWR O_RDWR

#define HOLDER_DIR "/sys/kernel/debug/fence_holder"

/* ---- output: to stdout, or into the daemon's reply buffer ---- */

static char *reply_buf;
static size_t reply_len, reply_cap;

static void out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (!reply_buf) {
		fputs(line, stdout);
		fflush(stdout);
		return;
	}
	if (reply_len + n + 1 > reply_cap) {
		reply_cap = (reply_len + n + 1) * 2;
		reply_buf = realloc(reply_buf, reply_cap);
		if (!reply_buf)
			exit(2);
	}
	memcpy(reply_buf + reply_len, line, n);
	reply_len += n;
	reply_buf[reply_len] = 0;
}

static int fail(const char *what)
{
	int e = errno;

	out("error: %s: %s\n", what, strerror(e));
	return e ? e : 1;
}

/* ---- primitives ---- */

static int sync_info(int fd)
{
	struct fu_sync_file_info info;
	struct fu_sync_fence_info *fi;
	unsigned int i, n;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, FU_SYNC_IOC_FILE_INFO, &info) < 0)
		return fail("SYNC_IOC_FILE_INFO");
	out("sync_file fd %d: name '%s' status %d num_fences %u\n", fd, info.name, info.status,
	    info.num_fences);
	n = info.num_fences;
	if (!n)
		return 0;
	fi = calloc(n, sizeof(*fi));
	if (!fi)
		return ENOMEM;
	memset(&info, 0, sizeof(info));
	info.num_fences = n;
	info.sync_fence_info = (uintptr_t)fi;
	if (ioctl(fd, FU_SYNC_IOC_FILE_INFO, &info) < 0) {
		free(fi);
		return fail("SYNC_IOC_FILE_INFO (fences)");
	}
	for (i = 0; i < info.num_fences; i++)
		out("  fence %u: driver '%s' timeline '%s' status %d timestamp %llu\n", i,
		    fi[i].driver_name, fi[i].obj_name, fi[i].status,
		    (unsigned long long)fi[i].timestamp_ns);
	free(fi);
	return 0;
}

static int sync_poll(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, ms);

	if (r < 0)
		return fail("poll");
	out("poll fd %d: %s (revents %#x)\n", fd, r ? "signaled" : "timeout", p.revents);
	return r ? 0 : ETIME;
}

static int sync_deadline(int fd, int ms)
{
	struct fu_sync_set_deadline d = { 0 };
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	d.deadline_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec + (__u64)ms * 1000000ull;
	if (ioctl(fd, FU_SYNC_IOC_SET_DEADLINE, &d) < 0)
		return fail("SYNC_IOC_SET_DEADLINE");
	out("deadline set on fd %d (+%d ms)\n", fd, ms);
	return 0;
}

static int export_sync_file(int buf_fd, int *sync_fd)
{
	struct fu_dma_buf_export_sync_file e = { .flags = FU_DMA_BUF_SYNC_RW, .fd = -1 };

	if (ioctl(buf_fd, FU_DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e) < 0)
		return fail("DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
	*sync_fd = e.fd;
	out("exported sync_file fd %d from dma-buf fd %d\n", e.fd, buf_fd);
	return 0;
}

static int create_udmabuf(int *buf_fd)
{
	struct fu_udmabuf_create c = { 0 };
	long psz = sysconf(_SC_PAGESIZE);
	int memfd, dev, fd;

	memfd = syscall(SYS_memfd_create, "fenceutil", 0x0002U /* MFD_ALLOW_SEALING */);
	if (memfd < 0)
		return fail("memfd_create");
	if (ftruncate(memfd, psz) < 0)
		return fail("ftruncate");
	if (fcntl(memfd, 1033 /* F_ADD_SEALS */, 0x0002 /* F_SEAL_SHRINK */) < 0)
		return fail("F_ADD_SEALS");
	dev = open("/dev/udmabuf", O_RDWR);
	if (dev < 0)
		return fail("open /dev/udmabuf");
	c.memfd = memfd;
	c.flags = FU_UDMABUF_FLAGS_CLOEXEC;
	c.offset = 0;
	c.size = psz;
	fd = ioctl(dev, FU_UDMABUF_CREATE, &c);
	if (fd < 0)
		return fail("UDMABUF_CREATE");
	close(dev);
	close(memfd);
	*buf_fd = fd;
	out("udmabuf dma-buf fd %d (%ld bytes)\n", fd, psz);
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fail(path);
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int r = fail(path);

		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

static int holder_attach(int buf_fd)
{
	char s[16];
	int r;

	snprintf(s, sizeof(s), "%d\n", buf_fd);
	r = write_str(HOLDER_DIR "/resv_attach", s);
	if (!r)
		out("fence_holder: fences added to dma-buf fd %d's dma_resv\n", buf_fd);
	return r;
}

static int holder_syncfd(int *sync_fd)
{
	char s[32] = { 0 };
	int fd = open(HOLDER_DIR "/syncfd", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fail("open " HOLDER_DIR "/syncfd");
	n = read(fd, s, sizeof(s) - 1);
	if (n <= 0) {
		int r = n < 0 ? fail("read syncfd") : EIO;

		close(fd);
		return r;
	}
	close(fd);
	*sync_fd = atoi(s);
	out("fence_holder: sync_file fd %d\n", *sync_fd);
	return 0;
}

static int vgem_setup(int *sync_fd, int do_signal)
{
	struct fu_drm_mode_create_dumb dumb = { .width = 64, .height = 64, .bpp = 32 };
	struct fu_drm_vgem_fence_attach attach = { 0 };
	struct fu_drm_vgem_fence_signal sig = { 0 };
	struct fu_drm_prime_handle prime = { 0 };
	struct fu_drm_gem_close gclose = { 0 };
	int card, r;

	card = open("/dev/dri/card0", O_RDWR);
	if (card < 0)
		return fail("open /dev/dri/card0");
	if (ioctl(card, FU_DRM_IOCTL_MODE_CREATE_DUMB, &dumb) < 0)
		return fail("DRM_IOCTL_MODE_CREATE_DUMB");
	attach.handle = dumb.handle;
	attach.flags = FU_VGEM_FENCE_WRITE;
	if (ioctl(card, FU_DRM_IOCTL_VGEM_FENCE_ATTACH, &attach) < 0)
		return fail("DRM_IOCTL_VGEM_FENCE_ATTACH");
	out("vgem: BO handle %u, fence %u attached (write)\n", dumb.handle, attach.out_fence);
	prime.handle = dumb.handle;
	prime.flags = FU_DRM_CLOEXEC | FU_DRM_RDWR;
	if (ioctl(card, FU_DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) < 0)
		return fail("DRM_IOCTL_PRIME_HANDLE_TO_FD");
	r = export_sync_file(prime.fd, sync_fd);
	if (r)
		return r;
	if (do_signal) {
		sig.fence = attach.out_fence;
		if (ioctl(card, FU_DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig) < 0)
			return fail("DRM_IOCTL_VGEM_FENCE_SIGNAL");
		out("vgem: fence %u signaled\n", attach.out_fence);
	}
	close(prime.fd);
	gclose.handle = dumb.handle;
	if (ioctl(card, FU_DRM_IOCTL_GEM_CLOSE, &gclose) < 0)
		return fail("DRM_IOCTL_GEM_CLOSE");
	close(card);
	out("vgem: dma-buf, GEM handle and card closed; holding sync_file fd %d\n", *sync_fd);
	return 0;
}

static int swsync_open(int *tl)
{
	*tl = open("/sys/kernel/debug/sync/sw_sync", O_RDWR);
	if (*tl < 0)
		return fail("open /sys/kernel/debug/sync/sw_sync");
	return 0;
}

static int swsync_fence(int tl, unsigned int value, int *sync_fd)
{
	struct fu_sw_sync_create_fence_data d = { .value = value };

	snprintf(d.name, sizeof(d.name), "fenceutil-%u", value);
	if (ioctl(tl, FU_SW_SYNC_IOC_CREATE_FENCE, &d) < 0)
		return fail("SW_SYNC_IOC_CREATE_FENCE");
	*sync_fd = d.fence;
	out("sw_sync: fence at value %u: sync_file fd %d\n", value, d.fence);
	return 0;
}

static int swsync_inc(int tl, unsigned int n)
{
	__u32 v = n;

	if (ioctl(tl, FU_SW_SYNC_IOC_INC, &v) < 0)
		return fail("SW_SYNC_IOC_INC");
	out("sw_sync: timeline += %u\n", n);
	return 0;
}

static int cat_file(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fail(path);
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		out("%s", buf);
	}
	close(fd);
	return n < 0 ? fail(path) : 0;
}

/* ---- one-shot commands ---- */

static int cmd_info(const char *arg)
{
	char *end;
	long fd = strtol(arg, &end, 10);
	int r;

	if (*end) {
		fd = open(arg, O_RDONLY);
		if (fd < 0)
			return fail(arg);
	}
	r = sync_info(fd);
	return r;
}

static int cmd_swsync(void)
{
	int tl, f1, f2, r;

	if ((r = swsync_open(&tl)) || (r = swsync_fence(tl, 1, &f1)) || (r = swsync_fence(tl, 2, &f2)))
		return r;
	if ((r = sync_info(f1)))
		return r;
	if ((r = sync_deadline(f1, 5)))
		out("(deadline not supported here: %d)\n", r);
	out("--- /sys/kernel/debug/sync/info (unsignaled)\n");
	cat_file("/sys/kernel/debug/sync/info");
	if ((r = swsync_inc(tl, 1)) || (r = sync_poll(f1, 1000)) || (r = sync_info(f1)))
		return r;
	if (sync_poll(f2, 10) != ETIME) {
		out("error: fence 2 signaled too early\n");
		return 1;
	}
	if ((r = swsync_inc(tl, 1)) || (r = sync_poll(f2, 1000)) || (r = sync_info(f2)))
		return r;
	out("--- /sys/kernel/debug/sync/info (signaled)\n");
	cat_file("/sys/kernel/debug/sync/info");
	close(f1);
	close(f2);
	/* a fence left unsignaled when its timeline goes away */
	if ((r = swsync_fence(tl, 10, &f1)))
		return r;
	close(tl);
	if ((r = sync_poll(f1, 1000)) || (r = sync_info(f1)))
		return r;
	close(f1);
	out("sw_sync: ok\n");
	return 0;
}

static int cmd_udmabuf_attach(int do_export)
{
	int buf, sf, r;

	if ((r = create_udmabuf(&buf)) || (r = holder_attach(buf)))
		return r;
	if (do_export) {
		if ((r = export_sync_file(buf, &sf)) || (r = sync_info(sf)))
			return r;
		close(sf);
	}
	close(buf);
	out("udmabuf closed here; fence_holder keeps the dma-buf\n");
	return 0;
}

/* ---- daemon ---- */

struct held {
	int sync_fd;
	int buf_fd;
	int tl_fd;
};

static int daemon_cmd(struct held *h, char *line)
{
	char *cmd = strtok(line, " \t\n");
	char *arg = strtok(NULL, " \t\n");

	if (!cmd)
		return EINVAL;
	if (!strcmp(cmd, "ping")) {
		out("pong: sync fd %d, dma-buf fd %d, timeline fd %d\n", h->sync_fd, h->buf_fd, h->tl_fd);
		return 0;
	}
	if (!strcmp(cmd, "info") || !strcmp(cmd, "poll") || !strcmp(cmd, "deadline") ||
	    !strcmp(cmd, "close-sync")) {
		if (h->sync_fd < 0) {
			out("error: no sync_file held\n");
			return ENOENT;
		}
		if (!strcmp(cmd, "info"))
			return sync_info(h->sync_fd);
		if (!strcmp(cmd, "poll"))
			return sync_poll(h->sync_fd, arg ? atoi(arg) : 100);
		if (!strcmp(cmd, "deadline"))
			return sync_deadline(h->sync_fd, arg ? atoi(arg) : 0);
		out("closing sync_file fd %d\n", h->sync_fd);
		close(h->sync_fd);
		h->sync_fd = -1;
		return 0;
	}
	if (!strcmp(cmd, "attach") || !strcmp(cmd, "export") || !strcmp(cmd, "close-buf")) {
		if (h->buf_fd < 0) {
			out("error: no dma-buf held\n");
			return ENOENT;
		}
		if (!strcmp(cmd, "attach"))
			return holder_attach(h->buf_fd);
		if (!strcmp(cmd, "export")) {
			if (h->sync_fd >= 0)
				close(h->sync_fd);
			h->sync_fd = -1;
			return export_sync_file(h->buf_fd, &h->sync_fd);
		}
		out("closing dma-buf fd %d\n", h->buf_fd);
		close(h->buf_fd);
		h->buf_fd = -1;
		return 0;
	}
	if (!strcmp(cmd, "inc")) {
		if (h->tl_fd < 0) {
			out("error: no sw_sync timeline held\n");
			return ENOENT;
		}
		return swsync_inc(h->tl_fd, arg ? atoi(arg) : 1);
	}
	if (!strcmp(cmd, "close") || !strcmp(cmd, "exit")) {
		if (h->sync_fd >= 0)
			close(h->sync_fd);
		if (h->buf_fd >= 0)
			close(h->buf_fd);
		if (h->tl_fd >= 0)
			close(h->tl_fd);
		out("closed all fds\n");
		h->sync_fd = h->buf_fd = h->tl_fd = -1;
		return 0;
	}
	out("error: unknown command '%s'\n", cmd);
	return EINVAL;
}

static char *ctl_path(const char *ctl, const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s%s", ctl, suffix) < 0)
		exit(2);
	return p;
}

static int daemon_setup(struct held *h, const char *source)
{
	if (!strcmp(source, "none"))
		return 0;	/* for testing the daemon itself */
	if (!strcmp(source, "holder"))
		return holder_syncfd(&h->sync_fd);
	if (!strcmp(source, "vgem"))
		return vgem_setup(&h->sync_fd, 1);
	if (!strcmp(source, "vgem-nosignal"))
		return vgem_setup(&h->sync_fd, 0);
	if (!strcmp(source, "udmabuf"))
		return create_udmabuf(&h->buf_fd);
	if (!strcmp(source, "swsync")) {
		int r = swsync_open(&h->tl_fd);

		return r ? r : swsync_fence(h->tl_fd, 1, &h->sync_fd);
	}
	out("error: unknown source '%s'\n", source);
	return EINVAL;
}

static int cmd_hold(const char *ctl, const char *logfile, const char *source)
{
	char *cmd_fifo = ctl_path(ctl, ".cmd"), *reply_fifo = ctl_path(ctl, ".reply");
	char *pidfile = ctl_path(ctl, ".pid");
	struct held h = { -1, -1, -1 };
	int pfd[2], status;
	char buf[4096];
	pid_t pid;
	ssize_t n;

	unlink(cmd_fifo);
	unlink(reply_fifo);
	if (mkfifo(cmd_fifo, 0600) < 0 || mkfifo(reply_fifo, 0600) < 0)
		return fail("mkfifo");
	if (pipe(pfd) < 0)
		return fail("pipe");
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid > 0) {
		/* parent: relay the setup output, exit with the setup status */
		close(pfd[1]);
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			fwrite(buf, 1, n, stdout);
		waitpid(pid, &status, WNOHANG);
		{
			FILE *f = fopen(pidfile, "r");
			int rc = 1;

			if (f) {
				if (fscanf(f, "%d %d", &status, &rc) != 2)
					rc = 1;
				fclose(f);
			}
			if (rc == 0)
				printf("fenceutil: holding (daemon pid %d, ctl %s)\n", status, ctl);
			return rc;
		}
	}
	/* child: detach, set up, report, serve */
	close(pfd[0]);
	setsid();
	{
		int nul = open("/dev/null", O_RDWR);
		int log = logfile ? open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;

		dup2(nul, 0);
		dup2(log >= 0 ? log : nul, 1);
		dup2(log >= 0 ? log : nul, 2);
	}
	signal(SIGPIPE, SIG_IGN);
	reply_buf = malloc(1);
	reply_buf[0] = 0;
	reply_cap = 1;
	{
		int rc = daemon_setup(&h, source);
		FILE *f = fopen(pidfile, "w");

		if (f) {
			fprintf(f, "%d %d\n", getpid(), rc);
			fclose(f);
		}
		if (write(pfd[1], reply_buf, reply_len) < 0)
			rc = rc ? rc : EIO;
		fputs(reply_buf, stdout);
		fflush(stdout);
		close(pfd[1]);
		if (rc)
			_exit(rc);
	}
	for (;;) {
		char line[256];
		int cfd, rfd, rc, len = 0;

		cfd = open(cmd_fifo, O_RDONLY);
		if (cfd < 0)
			_exit(2);
		while (len < (int)sizeof(line) - 1 && (n = read(cfd, line + len, sizeof(line) - 1 - len)) > 0)
			len += n;
		close(cfd);
		line[len] = 0;
		if (!len)
			continue;
		reply_len = 0;
		reply_buf[0] = 0;
		printf("ctl: %s", line);
		fflush(stdout);
		rc = daemon_cmd(&h, line);
		out("rc=%d\n", rc);
		fputs(reply_buf, stdout);
		fflush(stdout);
		rfd = open(reply_fifo, O_WRONLY);
		if (rfd >= 0) {
			if (write(rfd, reply_buf, reply_len) < 0)
				perror("write reply");
			close(rfd);
		}
		if (!strncmp(line, "exit", 4))
			_exit(0);
	}
}

/* gone, or a zombie nobody reaped yet (its parent exited: init reaps late) */
static int pid_dead(int pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	return p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static int cmd_ctl(const char *ctl, int argc, char **argv)
{
	char *cmd_fifo = ctl_path(ctl, ".cmd"), *reply_fifo = ctl_path(ctl, ".reply");
	char *pidfile = ctl_path(ctl, ".pid");
	char line[256] = "", buf[4096], *all = NULL, *p;
	size_t all_len = 0;
	int i, cfd, rfd, pid = 0, rc = 1, waited = 0;
	/* an oops can leave the daemon stuck in D state: do not wait forever */
	int limit_ms = 8000 + (argc > 1 ? atoi(argv[1]) : 0);
	FILE *f;

	f = fopen(pidfile, "r");
	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
		fprintf(stderr, "fenceutil ctl: no daemon for %s\n", ctl);
		return 2;
	}
	fclose(f);
	for (i = 0; i < argc; i++) {
		strncat(line, argv[i], sizeof(line) - strlen(line) - 2);
		strncat(line, i + 1 < argc ? " " : "\n", sizeof(line) - strlen(line) - 1);
	}
	/* open the reply fifo first so the daemon never blocks on it */
	rfd = open(reply_fifo, O_RDONLY | O_NONBLOCK);
	if (rfd < 0)
		return fail("open reply fifo");
	/* the daemon may not be back in open() yet: retry for a while */
	for (i = 0; (cfd = open(cmd_fifo, O_WRONLY | O_NONBLOCK)) < 0 && errno == ENXIO &&
		    i < 100 && !pid_dead(pid); i++)
		usleep(50000);
	if (cfd < 0) {
		fprintf(stderr, "fenceutil ctl: daemon %d not listening: %s\n", pid, strerror(errno));
		return 3;
	}
	if (write(cfd, line, strlen(line)) < 0)
		return fail("write cmd fifo");
	close(cfd);
	for (;;) {
		struct pollfd pf = { .fd = rfd, .events = POLLIN };
		int r = poll(&pf, 1, 200);
		ssize_t n;

		if (r > 0) {
			n = read(rfd, buf, sizeof(buf));
			if (n > 0) {
				all = realloc(all, all_len + n + 1);
				memcpy(all + all_len, buf, n);
				all_len += n;
				all[all_len] = 0;
				continue;
			}
			if (n == 0 && all_len)
				break;	/* writer closed */
			if (n < 0 && errno != EAGAIN)
				break;
			if (n == 0)
				usleep(50000);	/* writer not there yet */
		}
		if (pid_dead(pid)) {
			fprintf(stderr, "fenceutil ctl: daemon %d died while handling '%s'\n", pid,
				strtok(line, "\n"));
			if (all)
				fputs(all, stdout);
			return 3;
		}
		waited += 200;
		if (waited > limit_ms) {
			fprintf(stderr, "fenceutil ctl: no answer from daemon %d\n", pid);
			return 4;
		}
	}
	close(rfd);
	if (!all)
		return 3;
	p = strstr(all, "rc=");
	while (p && strstr(p + 1, "rc="))
		p = strstr(p + 1, "rc=");
	if (p) {
		rc = atoi(p + 3);
		*p = 0;
	}
	fputs(all, stdout);
	return rc ? 1 : 0;
}

static void usage(void)
{
	fputs("usage: fenceutil info FD|PATH | swsync | udmabuf-attach [--export] |\n"
	      "       hold --ctl CTL [--log FILE] holder|vgem|vgem-nosignal|udmabuf|swsync |\n"
	      "       ctl CTL info|poll MS|deadline MS|attach|export|inc N|close-sync|close-buf|close|exit|ping\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "info") && argc == 3)
		r = cmd_info(argv[2]);
	else if (!strcmp(argv[1], "swsync"))
		r = cmd_swsync();
	else if (!strcmp(argv[1], "udmabuf-attach"))
		r = cmd_udmabuf_attach(argc > 2 && !strcmp(argv[2], "--export"));
	else if (!strcmp(argv[1], "hold")) {
		const char *ctl = NULL, *log = NULL, *src = NULL;
		int i;

		for (i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
				ctl = argv[++i];
			else if (!strcmp(argv[i], "--log") && i + 1 < argc)
				log = argv[++i];
			else
				src = argv[i];
		}
		if (!ctl || !src)
			usage();
		r = cmd_hold(ctl, log, src);
	} else if (!strcmp(argv[1], "ctl") && argc >= 4)
		return cmd_ctl(argv[2], argc - 3, argv + 3);
	else
		usage();
	return r ? 1 : 0;
}
