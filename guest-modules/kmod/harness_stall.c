// SPDX-License-Identifier: GPL-2.0
/*
 * harness_stall - steps that never finish, so the harness can prove what it
 * does at a step's deadline (issue 19): a kernel that spins and a kernel task
 * that blocks, each in a function whose name the evidence must show.
 *
 * debugfs, /sys/kernel/debug/harness_stall/ (write a duration in ms):
 *   spin        stall_busy_loop(): busy-loops with preemption disabled for the
 *               given time; interrupts stay enabled, so the serial console
 *               (magic SysRq over a break) and the NMI backtraces still work.
 *               Past 20 s the soft lockup detector reports it.
 *   spin_quiet  stall_quiet_loop(): the same, but touches the soft lockup
 *               watchdog: a stuck CPU the kernel itself does not report
 *               (only the RCU stall detector would, after its 60 s).
 *   block       stall_blocked_sleep(): sleeps uninterruptibly (state D), as a
 *               task waiting for an event that never comes.
 * Every duration is capped at STALL_MAX_MS, so a stall always ends on its own
 * and never wedges the guest for good; the writer gets the time it stalled.
 * Every trigger first logs "harness_stall: NAME MS ms".
 */
#define pr_fmt(fmt) "harness_stall: " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/nmi.h>
#include <linux/preempt.h>
#include <linux/uaccess.h>

#define STALL_MAX_MS (10 * 60 * 1000)

static struct dentry *stall_dir;

static noinline void stall_busy_loop(u64 ms, bool quiet)
{
	ktime_t end = ktime_add_ms(ktime_get(), ms);

	preempt_disable();
	while (ktime_before(ktime_get(), end)) {
		if (quiet)
			touch_softlockup_watchdog();
		cpu_relax();
	}
	preempt_enable();
}

/* A separate function, so each flavour has its own name in a stack trace. */
static noinline void stall_quiet_loop(u64 ms)
{
	stall_busy_loop(ms, true);
}

static noinline void stall_blocked_sleep(u64 ms)
{
	msleep(ms);
}

static ssize_t stall_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	const char *what = file->private_data;
	u64 ms;
	int err;

	err = kstrtou64_from_user(buf, len, 0, &ms);
	if (err)
		return err;
	ms = min_t(u64, ms, STALL_MAX_MS);
	pr_info("%s %llu ms\n", what, ms);
	if (!strcmp(what, "spin"))
		stall_busy_loop(ms, false);
	else if (!strcmp(what, "spin_quiet"))
		stall_quiet_loop(ms);
	else
		stall_blocked_sleep(ms);
	pr_info("%s done\n", what);
	return len;
}

static const struct file_operations stall_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = stall_write,
	.llseek = noop_llseek,
};

static int __init stall_init(void)
{
	static const char * const names[] = { "spin", "spin_quiet", "block" };
	int i;

	stall_dir = debugfs_create_dir("harness_stall", NULL);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		debugfs_create_file(names[i], 0200, stall_dir, (void *)names[i], &stall_fops);
	return 0;
}

static void __exit stall_exit(void)
{
	debugfs_remove_recursive(stall_dir);
}

module_init(stall_init);
module_exit(stall_exit);
MODULE_DESCRIPTION("harness: steps that stall, for the evidence taken at a step's deadline");
MODULE_LICENSE("GPL");
