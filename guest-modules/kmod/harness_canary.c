// SPDX-License-Identifier: GPL-2.0
/*
 * harness_canary - deliberate bugs of the classes LKDTM does not provide, so
 * the harness can prove a kernel build reports them (issue 8).
 *
 * debugfs, /sys/kernel/debug/harness_canary/ (write anything to trigger):
 *   rcu_suspicious  canary_unprotected_deref(): rcu_dereference() outside any
 *                   read-side section -> "WARNING: suspicious RCU usage"
 *                   (PROVE_RCU; reported once per boot; lockdep must still be
 *                   on, so trigger it BEFORE lockdep_abba)
 *   lockdep_abba    canary_abba_deadlock(): canary_lock_a -> canary_lock_b,
 *                   then b -> a -> "WARNING: possible circular locking
 *                   dependency detected" (turns lockdep off for the boot)
 *   call_victim     canary_call_unloaded_victim(): reads the ops table that
 *                   harness_canary_victim registered and calls ->poke; after
 *                   `rmmod harness_canary_victim` this is
 *                   "BUG: unable to handle page fault" (kills the writer;
 *                   run it last). Before the rmmod it just logs 42.
 *   warn            canary_warn(): WARN(1, ...) -> "WARNING: ... canary_warn"
 *   victim          r: whether a victim registered (pointer only, never
 *                   dereferenced)
 * Every trigger first logs "harness_canary: trigger NAME".
 *
 * Function names are chosen for the detector's titles (harness/scan_formats.py
 * skips frames whose names contain e.g. "rcu", "lockdep", "lock_acquire",
 * "spin_lock"): the titles come out as
 *   WARNING: suspicious RCU usage in canary_unprotected_deref   (LOCKDEP)
 *   possible deadlock in canary_abba_deadlock                   (LOCKDEP)
 *   BUG: unable to handle page fault in canary_call_unloaded_victim (PAGE_FAULT)
 *   WARNING in canary_warn                                      (WARNING)
 */
#define pr_fmt(fmt) "harness_canary: " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>

#include "harness_canary.h"

static struct dentry *canary_dir;
static const struct canary_victim_ops *canary_victim;
static DEFINE_MUTEX(canary_lock_a);
static DEFINE_MUTEX(canary_lock_b);
static int canary_rcu_value = 42;
static int __rcu *canary_rcu_ptr;

void harness_canary_register_victim(const struct canary_victim_ops *ops)
{
	WRITE_ONCE(canary_victim, ops);
	pr_info("victim registered: ops at %px\n", ops);
}
EXPORT_SYMBOL_GPL(harness_canary_register_victim);

static noinline int canary_unprotected_deref(void)
{
	int *p;

	/* no rcu_read_lock(): PROVE_RCU must complain right here */
	p = rcu_dereference(canary_rcu_ptr);
	return p ? *p : -1;
}

static noinline void canary_abba_deadlock(void)
{
	mutex_lock(&canary_lock_a);
	mutex_lock(&canary_lock_b);
	mutex_unlock(&canary_lock_b);
	mutex_unlock(&canary_lock_a);

	/* the reverse order: lockdep reports the cycle on this acquisition */
	mutex_lock(&canary_lock_b);
	mutex_lock(&canary_lock_a);
	mutex_unlock(&canary_lock_a);
	mutex_unlock(&canary_lock_b);
}

static noinline int canary_call_unloaded_victim(void)
{
	const struct canary_victim_ops *ops = READ_ONCE(canary_victim);

	if (!ops)
		return -ENOENT;
	/* ops (and ->poke) are in the victim's module memory */
	return ops->poke(41);
}

static noinline void canary_warn(void)
{
	WARN(1, "harness_canary: deliberate warning\n");
}

static ssize_t canary_trigger_write(struct file *file, const char __user *ubuf, size_t len,
			     loff_t *ppos)
{
	const char *what = file->f_path.dentry->d_name.name;
	int r;

	pr_info("trigger %s\n", what);
	if (!strcmp(what, "rcu_suspicious")) {
		r = canary_unprotected_deref();
		pr_info("rcu_suspicious: read %d\n", r);
	} else if (!strcmp(what, "lockdep_abba")) {
		canary_abba_deadlock();
		pr_info("lockdep_abba: done\n");
	} else if (!strcmp(what, "call_victim")) {
		r = canary_call_unloaded_victim();
		pr_info("call_victim: %d\n", r);
		if (r < 0)
			return r;
	} else if (!strcmp(what, "warn")) {
		canary_warn();
	} else {
		return -EINVAL;
	}
	return len;
}

static const struct file_operations canary_trigger_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = canary_trigger_write,
	.llseek = noop_llseek,
};

static int victim_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", READ_ONCE(canary_victim) ? "registered" : "none");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(victim);

static int __init harness_canary_init(void)
{
	rcu_assign_pointer(canary_rcu_ptr, &canary_rcu_value);
	canary_dir = debugfs_create_dir("harness_canary", NULL);
	debugfs_create_file("rcu_suspicious", 0200, canary_dir, NULL, &canary_trigger_fops);
	debugfs_create_file("lockdep_abba", 0200, canary_dir, NULL, &canary_trigger_fops);
	debugfs_create_file("call_victim", 0200, canary_dir, NULL, &canary_trigger_fops);
	debugfs_create_file("warn", 0200, canary_dir, NULL, &canary_trigger_fops);
	debugfs_create_file("victim", 0444, canary_dir, NULL, &victim_fops);
	return 0;
}

static void __exit harness_canary_exit(void)
{
	debugfs_remove_recursive(canary_dir);
}

module_init(harness_canary_init);
module_exit(harness_canary_exit);
MODULE_DESCRIPTION("harness canary: deliberate lockdep, RCU and use-after-unload bugs");
MODULE_LICENSE("GPL");
