// SPDX-License-Identifier: GPL-2.0
/*
 * fence_holder - keeps references to other modules' fences and exercises
 * them on demand, typically after the issuing module is gone.
 *
 * Issuers hand fences over with fence_holder_stash() (exported); the holder
 * never calls into an issuer, so `rmmod fence_issuer` works while the holder
 * still has the fences.
 *
 * debugfs, /sys/kernel/debug/fence_holder/ (each trigger logs to dmesg):
 *   info        r  held fences: tag, context, seqno, flags, refcount
 *                  (touches neither ops nor lock: always safe)
 *   count       r  number of held fences
 *   names       r  dma_fence_describe() of every leaf fence (unwrapping
 *                  arrays/chains): reads driver/timeline names
 *   driver_name r  dma_fence_driver_name()/timeline_name() under RCU where
 *                  the kernel has them (else "unsupported"; -EOPNOTSUPP)
 *   status      r  dma_fence_get_status() of every held fence (takes the lock)
 *   signaled    r  dma_fence_is_signaled() (reads ops->signaled if unsignaled)
 *   drop        w  drop every reference (fences, wrapped objects, dma-bufs)
 *   wait        w  MS: dma_fence_wait_timeout(MS) on each; -ETIME on timeout
 *   callback    w  dma_fence_add_callback() on each (removed again by drop)
 *   deadline    w  MS: dma_fence_set_deadline(now + MS) on each
 *   enable_signaling w  dma_fence_enable_sw_signaling() on each
 *   wrap        w  "array" | "chain": replace the held fences by one
 *                  dma_fence_array / dma_fence_chain holding them
 *   syncfd      r  create a sync_file over the first held fence, install it
 *                  as a new fd in the reading process, return the fd number
 *   resv_attach w  FD: dma-buf fd of the writing process: add every held
 *                  fence to its dma_resv (usage WRITE) and keep a reference
 *                  to the dma-buf (dropped by drop)
 */
#define pr_fmt(fmt) "fence_holder: " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <linux/file.h>
#include <linux/fcntl.h>
#include <linux/dma-fence.h>
#include <linux/dma-fence-array.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-fence-unwrap.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/sync_file.h>

#include "fence_holder.h"

#define HOLDER_MAX 100000

struct held_fence {
	struct list_head link;
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	bool cb_added;
	char tag[32];
};

struct held_buf {
	struct list_head link;
	struct dma_buf *buf;
};

static DEFINE_MUTEX(holder_mutex);
static LIST_HEAD(holder_fences);
static LIST_HEAD(holder_bufs);
static unsigned int holder_nr;
static struct dentry *holder_dir;

int fence_holder_stash(struct dma_fence *fence, const char *tag)
{
	struct held_fence *h;

	if (!fence)
		return -EINVAL;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	strscpy(h->tag, tag ? tag : "", sizeof(h->tag));
	mutex_lock(&holder_mutex);
	if (holder_nr >= HOLDER_MAX) {
		mutex_unlock(&holder_mutex);
		kfree(h);
		return -ENOSPC;
	}
	h->fence = dma_fence_get(fence);
	list_add_tail(&h->link, &holder_fences);
	holder_nr++;
	mutex_unlock(&holder_mutex);
	return 0;
}
EXPORT_SYMBOL_GPL(fence_holder_stash);

/* add a fence we already own a reference to */
static void holder_add_owned(struct dma_fence *fence, const char *tag)
{
	struct held_fence *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h) {
		dma_fence_put(fence);
		return;
	}
	strscpy(h->tag, tag, sizeof(h->tag));
	h->fence = fence;
	list_add_tail(&h->link, &holder_fences);
	holder_nr++;
}

static void holder_put_entry(struct held_fence *h)
{
	if (h->cb_added)
		dma_fence_remove_callback(h->fence, &h->cb);
	dma_fence_put(h->fence);
	kfree(h);
}

/* the puts run without holder_mutex (they oops after the issuer is gone) */
static unsigned int holder_drop_all(void)
{
	struct held_fence *h, *tmp;
	struct held_buf *b, *btmp;
	LIST_HEAD(fences);
	LIST_HEAD(bufs);
	unsigned int n = 0;

	mutex_lock(&holder_mutex);
	list_splice_init(&holder_fences, &fences);
	list_splice_init(&holder_bufs, &bufs);
	holder_nr = 0;
	mutex_unlock(&holder_mutex);
	list_for_each_entry_safe(h, tmp, &fences, link) {
		list_del(&h->link);
		pr_debug("drop %s ctx %llu seqno %llu refcount %u\n", h->tag,
			h->fence->context, h->fence->seqno,
			kref_read(&h->fence->refcount));
		holder_put_entry(h);
		n++;
	}
	list_for_each_entry_safe(b, btmp, &bufs, link) {
		list_del(&b->link);
		pr_debug("drop dma-buf %p\n", b->buf);
		dma_buf_put(b->buf);
		kfree(b);
	}
	return n;
}

/*
 * Triggers work on a snapshot (own references, taken under holder_mutex) and
 * run the risky calls without the mutex: when one of them oopses (which is
 * the point after the issuer is gone), the mutex is not left locked by a dead
 * task, so later triggers of the scenario still run.
 */
struct holder_snap {
	struct dma_fence *fence;
	char tag[32];
};

static struct holder_snap *holder_snapshot(unsigned int *n)
{
	struct holder_snap *s;
	struct held_fence *h;
	unsigned int i = 0;

	mutex_lock(&holder_mutex);
	s = kvcalloc(max(holder_nr, 1u), sizeof(*s), GFP_KERNEL);
	if (s) {
		list_for_each_entry(h, &holder_fences, link) {
			s[i].fence = dma_fence_get(h->fence);
			strscpy(s[i].tag, h->tag, sizeof(s[i].tag));
			i++;
		}
	}
	mutex_unlock(&holder_mutex);
	*n = i;
	return s;
}

static void holder_put_snapshot(struct holder_snap *s, unsigned int n)
{
	while (n--)
		dma_fence_put(s[n].fence);
	kvfree(s);
}

/* ---- read-side files (seq_file) ---- */

/* pointer value only, never dereferenced: safe after the issuer is gone */
static const char *holder_ops_state(struct dma_fence *f)
{
#ifdef HAVE_DMA_FENCE_RCU_OPS
	return rcu_access_pointer(f->ops) ? "attached" : "detached";
#else
	return "attached";
#endif
}

static bool holder_inline_lock(struct dma_fence *f)
{
#ifdef HAVE_DMA_FENCE_INLINE_LOCK
	return test_bit(DMA_FENCE_FLAG_INLINE_LOCK_BIT, &f->flags);
#else
	return false;
#endif
}

static int info_show(struct seq_file *m, void *v)
{
	struct held_fence *h;
	struct held_buf *b;

	mutex_lock(&holder_mutex);
	seq_printf(m, "features rcu_ops=%d inline_lock=%d name_helpers=%d\n",
		   IS_ENABLED(HAVE_DMA_FENCE_RCU_OPS), IS_ENABLED(HAVE_DMA_FENCE_INLINE_LOCK),
		   IS_ENABLED(HAVE_DMA_FENCE_NAME_HELPERS));
	seq_printf(m, "fences %u\n", holder_nr);
	list_for_each_entry(h, &holder_fences, link)
		seq_printf(m, "fence %s ctx %llu seqno %llu flags %#lx refcount %u ops %s%s%s%s\n",
			   h->tag, h->fence->context, h->fence->seqno,
			   h->fence->flags, kref_read(&h->fence->refcount),
			   holder_ops_state(h->fence),
			   holder_inline_lock(h->fence) ? " inline-lock" : "",
			   test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &h->fence->flags) ? " signaled" : "",
			   h->cb_added ? " cb" : "");
	list_for_each_entry(b, &holder_bufs, link)
		seq_printf(m, "dma-buf %p size %zu\n", b->buf, b->buf->size);
	mutex_unlock(&holder_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(info);

static int count_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%u\n", READ_ONCE(holder_nr));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(count);

static int names_show(struct seq_file *m, void *v)
{
	struct dma_fence_unwrap iter;
	struct holder_snap *s;
	struct dma_fence *f;
	unsigned int i, n;

	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	pr_info("names: dma_fence_describe() of %u fences and their leaves\n", n);
	for (i = 0; i < n; i++) {
		seq_printf(m, "%s: ", s[i].tag);
		dma_fence_describe(s[i].fence, m);
		dma_fence_unwrap_for_each(f, &iter, s[i].fence) {
			if (f == s[i].fence)
				continue;
			seq_puts(m, "  leaf: ");
			dma_fence_describe(f, m);
		}
	}
	holder_put_snapshot(s, n);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(names);

static int driver_name_show(struct seq_file *m, void *v)
{
#ifdef HAVE_DMA_FENCE_NAME_HELPERS
	struct holder_snap *s;
	unsigned int i, n;

	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rcu_read_lock();
		seq_printf(m, "%s: driver %s timeline %s\n", s[i].tag,
			   (const char *)dma_fence_driver_name(s[i].fence),
			   (const char *)dma_fence_timeline_name(s[i].fence));
		rcu_read_unlock();
	}
	holder_put_snapshot(s, n);
	return 0;
#else
	seq_puts(m, "unsupported: kernel has no dma_fence_driver_name()\n");
	return -EOPNOTSUPP;
#endif
}
DEFINE_SHOW_ATTRIBUTE(driver_name);

static int status_show(struct seq_file *m, void *v)
{
	struct holder_snap *s;
	unsigned int i, n;

	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	pr_info("status: dma_fence_get_status() of %u fences\n", n);
	for (i = 0; i < n; i++)
		seq_printf(m, "%s %d\n", s[i].tag, dma_fence_get_status(s[i].fence));
	holder_put_snapshot(s, n);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

static int signaled_show(struct seq_file *m, void *v)
{
	struct holder_snap *s;
	unsigned int i, n;

	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	pr_info("signaled: dma_fence_is_signaled() of %u fences\n", n);
	for (i = 0; i < n; i++)
		seq_printf(m, "%s %d\n", s[i].tag, dma_fence_is_signaled(s[i].fence));
	holder_put_snapshot(s, n);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(signaled);

/* ---- write-side triggers ---- */

static int parse_int(const char __user *ubuf, size_t len, long *val, long def)
{
	char buf[32];
	size_t n = min(len, sizeof(buf) - 1);

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = 0;
	strim(buf);
	if (!buf[0]) {
		*val = def;
		return 0;
	}
	return kstrtol(buf, 0, val);
}

static ssize_t drop_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	unsigned int n;

	pr_info("drop: putting %u fences%s\n", READ_ONCE(holder_nr),
		list_empty(&holder_bufs) ? "" : " and the held dma-bufs");
	n = holder_drop_all();
	pr_info("dropped %u fences\n", n);
	return len;
}

static ssize_t wait_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct holder_snap *s;
	unsigned int i, n;
	long ms, r;
	int ret = 0;

	if (parse_int(ubuf, len, &ms, 100))
		return -EINVAL;
	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	pr_info("wait: dma_fence_wait_timeout(%ld ms) on %u fences\n", ms, n);
	for (i = 0; i < n; i++) {
		r = dma_fence_wait_timeout(s[i].fence, true, msecs_to_jiffies(ms));
		pr_debug("wait %s: %ld\n", s[i].tag, r);
		if (r == 0)
			ret = -ETIME;
		else if (r < 0)
			ret = r;
	}
	holder_put_snapshot(s, n);
	pr_info("wait: %d\n", ret);
	return ret ? ret : len;
}

static void holder_cb_func(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct held_fence *h = container_of(cb, struct held_fence, cb);

	pr_info("callback %s: fired, error %d\n", h->tag, fence->error);
	WRITE_ONCE(h->cb_added, false);
}

static ssize_t callback_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct held_fence *h;
	int r;

	mutex_lock(&holder_mutex);
	pr_info("callback: dma_fence_add_callback() on %u fences\n", holder_nr);
	list_for_each_entry(h, &holder_fences, link) {
		if (h->cb_added)
			continue;
		pr_debug("callback %s: dma_fence_add_callback\n", h->tag);
		h->cb_added = true;
		r = dma_fence_add_callback(h->fence, &h->cb, holder_cb_func);
		if (r)
			h->cb_added = false;
		pr_debug("callback %s: %d%s\n", h->tag, r,
			r == -ENOENT ? " (already signaled)" : "");
	}
	mutex_unlock(&holder_mutex);
	return len;
}

static ssize_t deadline_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct holder_snap *s;
	unsigned int i, n;
	long ms;

	if (parse_int(ubuf, len, &ms, 0))
		return -EINVAL;
	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	pr_info("deadline: dma_fence_set_deadline(now + %ld ms) on %u fences\n", ms, n);
	for (i = 0; i < n; i++)
		dma_fence_set_deadline(s[i].fence, ktime_add_ms(ktime_get(), ms));
	holder_put_snapshot(s, n);
	return len;
}

static ssize_t enable_signaling_write(struct file *file, const char __user *ubuf, size_t len,
				      loff_t *ppos)
{
	struct holder_snap *s;
	unsigned int i, n;

	s = holder_snapshot(&n);
	if (!s)
		return -ENOMEM;
	pr_info("enable_signaling: dma_fence_enable_sw_signaling() on %u fences\n", n);
	for (i = 0; i < n; i++)
		dma_fence_enable_sw_signaling(s[i].fence);
	holder_put_snapshot(s, n);
	return len;
}

static int holder_wrap_array(void)
{
	struct dma_fence_array *array;
	struct dma_fence **fences;
	struct held_fence *h, *tmp;
	unsigned int i = 0, n = holder_nr;

	if (!n)
		return -ENOENT;
	fences = kmalloc_array(n, sizeof(*fences), GFP_KERNEL);
	if (!fences)
		return -ENOMEM;
	list_for_each_entry(h, &holder_fences, link)
		fences[i++] = dma_fence_get(h->fence);
	array = dma_fence_array_create(n, fences, dma_fence_context_alloc(1), 1, false);
	if (!array) {
		while (i--)
			dma_fence_put(fences[i]);
		kfree(fences);
		return -ENOMEM;
	}
	/* the array now owns the references in fences[]; drop ours */
	list_for_each_entry_safe(h, tmp, &holder_fences, link) {
		list_del(&h->link);
		holder_put_entry(h);
	}
	holder_nr = 0;
	holder_add_owned(&array->base, "array");
	pr_info("wrapped %u fences into a dma_fence_array\n", n);
	return 0;
}

static int holder_wrap_chain(void)
{
	struct dma_fence *prev = NULL;
	struct held_fence *h, *tmp;
	unsigned int n = holder_nr, seqno = 0;

	if (!n)
		return -ENOENT;
	list_for_each_entry_safe(h, tmp, &holder_fences, link) {
		struct dma_fence_chain *chain = dma_fence_chain_alloc();

		if (!chain) {
			dma_fence_put(prev);
			return -ENOMEM;
		}
		/* takes over our references to prev and h->fence */
		dma_fence_chain_init(chain, prev, h->fence, ++seqno);
		h->fence = NULL;
		prev = &chain->base;
		list_del(&h->link);
		kfree(h);
	}
	holder_nr = 0;
	holder_add_owned(prev, "chain");
	pr_info("wrapped %u fences into a dma_fence_chain\n", n);
	return 0;
}

static ssize_t wrap_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[16];
	size_t n = min(len, sizeof(buf) - 1);
	int ret;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = 0;
	strim(buf);
	mutex_lock(&holder_mutex);
	if (!strcmp(buf, "array"))
		ret = holder_wrap_array();
	else if (!strcmp(buf, "chain"))
		ret = holder_wrap_chain();
	else
		ret = -EINVAL;
	mutex_unlock(&holder_mutex);
	return ret ? ret : len;
}

static ssize_t syncfd_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct sync_file *sf;
	struct held_fence *h;
	char buf[16];
	int fd, n;

	if (*ppos)
		return 0;
	mutex_lock(&holder_mutex);
	h = list_first_entry_or_null(&holder_fences, struct held_fence, link);
	if (!h) {
		mutex_unlock(&holder_mutex);
		return -ENOENT;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		mutex_unlock(&holder_mutex);
		return fd;
	}
	sf = sync_file_create(h->fence);
	if (!sf) {
		put_unused_fd(fd);
		mutex_unlock(&holder_mutex);
		return -ENOMEM;
	}
	fd_install(fd, sf->file);
	pr_info("syncfd %s: sync_file fd %d in %s[%d]\n", h->tag, fd, current->comm,
		task_pid_nr(current));
	mutex_unlock(&holder_mutex);
	n = scnprintf(buf, sizeof(buf), "%d\n", fd);
	if (len < n)
		return -EINVAL;	/* fd stays installed; caller's problem */
	if (copy_to_user(ubuf, buf, n))
		return -EFAULT;
	*ppos += n;
	return n;
}

static ssize_t resv_attach_write(struct file *file, const char __user *ubuf, size_t len,
				 loff_t *ppos)
{
	struct held_fence *h;
	struct held_buf *b;
	struct dma_buf *buf;
	long fd;
	int ret;

	if (parse_int(ubuf, len, &fd, -1) || fd < 0)
		return -EINVAL;
	buf = dma_buf_get(fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		dma_buf_put(buf);
		return -ENOMEM;
	}
	b->buf = buf;
	mutex_lock(&holder_mutex);
	dma_resv_lock(buf->resv, NULL);
	ret = dma_resv_reserve_fences(buf->resv, max(holder_nr, 1u));
	if (!ret) {
		list_for_each_entry(h, &holder_fences, link) {
			dma_resv_add_fence(buf->resv, h->fence, DMA_RESV_USAGE_WRITE);
			pr_debug("resv_attach %s: added to dma-buf %p resv\n", h->tag, buf);
		}
	}
	dma_resv_unlock(buf->resv);
	pr_info("resv_attach: %u fences added to dma-buf %p's dma_resv (%d)\n", holder_nr, buf, ret);
	list_add_tail(&b->link, &holder_bufs);
	mutex_unlock(&holder_mutex);
	return ret ? ret : len;
}

#define WO_FOPS(name)							\
static const struct file_operations name##_fops = {			\
	.owner = THIS_MODULE,						\
	.open = simple_open,						\
	.write = name##_write,						\
	.llseek = noop_llseek,						\
}

WO_FOPS(drop);
WO_FOPS(wait);
WO_FOPS(callback);
WO_FOPS(deadline);
WO_FOPS(enable_signaling);
WO_FOPS(wrap);
WO_FOPS(resv_attach);

static const struct file_operations syncfd_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = syncfd_read,
	.llseek = noop_llseek,
};

static int __init fence_holder_init(void)
{
	holder_dir = debugfs_create_dir("fence_holder", NULL);
	debugfs_create_file("info", 0444, holder_dir, NULL, &info_fops);
	debugfs_create_file("count", 0444, holder_dir, NULL, &count_fops);
	debugfs_create_file("names", 0444, holder_dir, NULL, &names_fops);
	debugfs_create_file("driver_name", 0444, holder_dir, NULL, &driver_name_fops);
	debugfs_create_file("status", 0444, holder_dir, NULL, &status_fops);
	debugfs_create_file("signaled", 0444, holder_dir, NULL, &signaled_fops);
	debugfs_create_file("drop", 0200, holder_dir, NULL, &drop_fops);
	debugfs_create_file("wait", 0200, holder_dir, NULL, &wait_fops);
	debugfs_create_file("callback", 0200, holder_dir, NULL, &callback_fops);
	debugfs_create_file("deadline", 0200, holder_dir, NULL, &deadline_fops);
	debugfs_create_file("enable_signaling", 0200, holder_dir, NULL, &enable_signaling_fops);
	debugfs_create_file("wrap", 0200, holder_dir, NULL, &wrap_fops);
	debugfs_create_file("syncfd", 0444, holder_dir, NULL, &syncfd_fops);
	debugfs_create_file("resv_attach", 0200, holder_dir, NULL, &resv_attach_fops);
	pr_info("loaded (name helpers %s, rcu ops %s, inline lock %s)\n",
		IS_ENABLED(HAVE_DMA_FENCE_NAME_HELPERS) ? "yes" : "no",
		IS_ENABLED(HAVE_DMA_FENCE_RCU_OPS) ? "yes" : "no",
		IS_ENABLED(HAVE_DMA_FENCE_INLINE_LOCK) ? "yes" : "no");
	return 0;
}

static void __exit fence_holder_exit(void)
{
	debugfs_remove_recursive(holder_dir);
	holder_drop_all();
}

module_init(fence_holder_init);
module_exit(fence_holder_exit);
MODULE_DESCRIPTION("harness: keeps references to other modules' dma-fences");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
