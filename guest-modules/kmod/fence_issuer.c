// SPDX-License-Identifier: GPL-2.0
/*
 * fence_issuer - issues dma-fences with its own dma_fence_ops and hands them
 * to fence_holder, so they outlive the module once it is unloaded.
 *
 * Parameters (all read at load time):
 *   lock=extern-static  a DEFINE_SPINLOCK in module data (lockdep key = the lock)
 *        extern-heap    a spinlock in a kmalloc'd object freed at exit,
 *                       initialised here (lockdep key in module data)
 *        embedded       a spinlock inside each fence object (alive as long as
 *                       the fence), initialised here: vgem's pattern
 *        inline         lock=NULL: the core's inline lock (only on kernels
 *                       with DMA_FENCE_FLAG_INLINE_LOCK_BIT; else -EOPNOTSUPP)
 *   ops=names[,release][,wait][,enable_signaling][,signaled][,set_deadline]
 *                       which optional dma_fence_ops callbacks to implement
 *                       (names = only get_driver_name/get_timeline_name)
 *   signal=now          signal every fence right after issuing it
 *          later        from a delayed work after delay_ms (exit flushes it,
 *                       so the fences are signaled at the latest in exit)
 *          never        never: the fences are unsignaled when unloaded
 *   delay_ms=50         for signal=later
 *   sync_rcu=1          synchronize_rcu() at the end of module exit
 *   count=1             number of fences (one fence context each)
 *   stash=1             hand each fence to fence_holder_stash()
 *   tag=issuer          prefix of the fence tags in fence_holder messages
 *
 * The series' contract for an issuer that may be unloaded while its fences
 * live on: signal all fences, implement neither ->release nor ->wait, use
 * the inline lock, synchronize_rcu() in exit. Exit prints which of these
 * this load broke.
 */
#define pr_fmt(fmt) "fence_issuer: " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/rcupdate.h>
#include <linux/dma-fence.h>

#include "fence_holder.h"

static char *lock_param = "extern-static";
module_param_named(lock, lock_param, charp, 0444);
MODULE_PARM_DESC(lock, "extern-static | extern-heap | embedded | inline");
static char *ops_param = "names";
module_param_named(ops, ops_param, charp, 0444);
MODULE_PARM_DESC(ops, "names[,release][,wait][,enable_signaling][,signaled][,set_deadline]");
static char *signal_param = "now";
module_param_named(signal, signal_param, charp, 0444);
MODULE_PARM_DESC(signal, "now | later | never");
static int delay_ms = 50;
module_param(delay_ms, int, 0444);
static bool sync_rcu = true;
module_param(sync_rcu, bool, 0444);
static int count = 1;
module_param(count, int, 0444);
static bool stash = true;
module_param(stash, bool, 0444);
static char *tag = "issuer";
module_param(tag, charp, 0444);

enum { LOCK_STATIC, LOCK_HEAP, LOCK_EMBEDDED, LOCK_INLINE };
enum { SIGNAL_NOW, SIGNAL_LATER, SIGNAL_NEVER };

struct issuer_fence {
	struct dma_fence base;		/* first: dma_fence_free() frees the whole object */
	spinlock_t lock;		/* lock=embedded */
	bool done;			/* what ->signaled reports */
};

struct issuer_heap_lock {
	spinlock_t lock;
};

static DEFINE_SPINLOCK(issuer_static_lock);
static struct issuer_heap_lock *issuer_heap;
static struct issuer_fence **issuer_fences;
static int issuer_lock_mode, issuer_signal_mode, issuer_nr;
static atomic_t issuer_released = ATOMIC_INIT(0);
static struct delayed_work issuer_signal_dwork;

/* Not const on purpose: filled from the ops= parameter at load; it lives in
 * module data like any driver's ops table, and is freed with the module. */
static struct dma_fence_ops issuer_ops;

static const char *issuer_get_driver_name(struct dma_fence *f)
{
	return "fence_issuer";
}

static const char *issuer_get_timeline_name(struct dma_fence *f)
{
	return "issuer-timeline";
}

static void issuer_fence_release(struct dma_fence *f)
{
	atomic_inc(&issuer_released);
	dma_fence_free(f);	/* kfree_rcu(): RCU-safe as the series asks */
}

static signed long issuer_fence_wait(struct dma_fence *f, bool intr, signed long timeout)
{
	return dma_fence_default_wait(f, intr, timeout);
}

static bool issuer_enable_signaling(struct dma_fence *f)
{
	return true;
}

static bool issuer_signaled(struct dma_fence *f)
{
	return READ_ONCE(container_of(f, struct issuer_fence, base)->done);
}

static void issuer_set_deadline(struct dma_fence *f, ktime_t deadline)
{
	pr_info("set_deadline on seqno %llu\n", f->seqno);
}

static int issuer_parse_ops(void)
{
	char *s, *p, *buf = kstrdup(ops_param, GFP_KERNEL);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	issuer_ops.get_driver_name = issuer_get_driver_name;
	issuer_ops.get_timeline_name = issuer_get_timeline_name;
	s = buf;
	while ((p = strsep(&s, ",+")) != NULL) {
		if (!*p || !strcmp(p, "names"))
			continue;
		else if (!strcmp(p, "release"))
			issuer_ops.release = issuer_fence_release;
		else if (!strcmp(p, "wait"))
			issuer_ops.wait = issuer_fence_wait;
		else if (!strcmp(p, "enable_signaling"))
			issuer_ops.enable_signaling = issuer_enable_signaling;
		else if (!strcmp(p, "signaled"))
			issuer_ops.signaled = issuer_signaled;
		else if (!strcmp(p, "set_deadline"))
			issuer_ops.set_deadline = issuer_set_deadline;
		else {
			pr_err("unknown ops flavour '%s'\n", p);
			ret = -EINVAL;
		}
	}
	kfree(buf);
	return ret;
}

static void issuer_signal_all(const char *why)
{
	int i, n = 0;

	for (i = 0; i < issuer_nr; i++) {
		struct issuer_fence *f = issuer_fences[i];

		WRITE_ONCE(f->done, true);
		if (!dma_fence_signal(&f->base))
			n++;
	}
	if (n)
		pr_debug("signaled %d fences (%s)\n", n, why);
}

static void issuer_signal_work(struct work_struct *work)
{
	issuer_signal_all("later, from work");
}

static int __init fence_issuer_init(void)
{
	spinlock_t *l;
	char name[32];
	int i, ret;

	if (!strcmp(lock_param, "extern-static"))
		issuer_lock_mode = LOCK_STATIC;
	else if (!strcmp(lock_param, "extern-heap"))
		issuer_lock_mode = LOCK_HEAP;
	else if (!strcmp(lock_param, "embedded"))
		issuer_lock_mode = LOCK_EMBEDDED;
	else if (!strcmp(lock_param, "inline"))
		issuer_lock_mode = LOCK_INLINE;
	else {
		pr_err("unknown lock flavour '%s'\n", lock_param);
		return -EINVAL;
	}
#ifndef HAVE_DMA_FENCE_INLINE_LOCK
	if (issuer_lock_mode == LOCK_INLINE) {
		pr_err("lock=inline: this kernel has no inline fence lock (no DMA_FENCE_FLAG_INLINE_LOCK_BIT): not applicable\n");
		return -EOPNOTSUPP;
	}
#endif
	if (!strcmp(signal_param, "now"))
		issuer_signal_mode = SIGNAL_NOW;
	else if (!strcmp(signal_param, "later"))
		issuer_signal_mode = SIGNAL_LATER;
	else if (!strcmp(signal_param, "never"))
		issuer_signal_mode = SIGNAL_NEVER;
	else {
		pr_err("unknown signal mode '%s'\n", signal_param);
		return -EINVAL;
	}
	if (count < 1 || count > 10000) {
		pr_err("count=%d out of range\n", count);
		return -EINVAL;
	}
	ret = issuer_parse_ops();
	if (ret)
		return ret;

	if (issuer_lock_mode == LOCK_HEAP) {
		issuer_heap = kzalloc(sizeof(*issuer_heap), GFP_KERNEL);
		if (!issuer_heap)
			return -ENOMEM;
		spin_lock_init(&issuer_heap->lock);
	}
	issuer_fences = kcalloc(count, sizeof(*issuer_fences), GFP_KERNEL);
	if (!issuer_fences) {
		kfree(issuer_heap);
		return -ENOMEM;
	}
	INIT_DELAYED_WORK(&issuer_signal_dwork, issuer_signal_work);

	for (i = 0; i < count; i++) {
		struct issuer_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

		if (!f)
			break;
		switch (issuer_lock_mode) {
		case LOCK_STATIC:
			l = &issuer_static_lock;
			break;
		case LOCK_HEAP:
			l = &issuer_heap->lock;
			break;
		case LOCK_EMBEDDED:
			spin_lock_init(&f->lock);
			l = &f->lock;
			break;
		default:
			l = NULL;	/* inline lock, initialised by the core */
			break;
		}
		dma_fence_init(&f->base, &issuer_ops, l, dma_fence_context_alloc(1), 1);
		issuer_fences[issuer_nr++] = f;
		if (stash) {
			snprintf(name, sizeof(name), "%s#%d", tag, i);
			ret = fence_holder_stash(&f->base, name);
			if (ret)
				pr_err("fence_holder_stash: %d\n", ret);
		}
	}
	pr_info("issued %d fences: lock=%s ops=%s signal=%s sync_rcu=%d stash=%d\n",
		issuer_nr, lock_param, ops_param, signal_param, sync_rcu, stash);

	if (issuer_signal_mode == SIGNAL_NOW)
		issuer_signal_all("now");
	else if (issuer_signal_mode == SIGNAL_LATER)
		schedule_delayed_work(&issuer_signal_dwork, msecs_to_jiffies(delay_ms));
	return 0;
}

static void __exit fence_issuer_exit(void)
{
	bool kept_ops = issuer_ops.release || issuer_ops.wait;
	int i;

	if (issuer_signal_mode == SIGNAL_LATER)
		flush_delayed_work(&issuer_signal_dwork);	/* runs it now if pending */
	else
		cancel_delayed_work_sync(&issuer_signal_dwork);

	pr_info("exit: %d fences, contract: signaled %s, ->release/->wait %s, lock %s, synchronize_rcu %s\n",
		issuer_nr,
		issuer_signal_mode == SIGNAL_NEVER ? "NO" : "yes",
		kept_ops ? "IMPLEMENTED (ops stay attached)" : "none",
		issuer_lock_mode == LOCK_INLINE ? "inline" : "ISSUER'S",
		sync_rcu ? "yes" : "NO");

	for (i = 0; i < issuer_nr; i++)
		dma_fence_put(&issuer_fences[i]->base);
	kfree(issuer_fences);
	if (sync_rcu)
		synchronize_rcu();
	/* lock=extern-heap: the lock goes with the module, fences or not */
	kfree(issuer_heap);
	pr_debug("exit done, %d fences released through ->release\n",
		 atomic_read(&issuer_released));
}

module_init(fence_issuer_init);
module_exit(fence_issuer_exit);
MODULE_DESCRIPTION("harness: issues dma-fences with the module's own ops and lock");
MODULE_LICENSE("GPL");
