// SPDX-License-Identifier: GPL-2.0
/*
 * harness_canary_victim - registers an ops table (in its own module memory)
 * with harness_canary and deliberately does not unregister it at exit.
 * After `rmmod harness_canary_victim`, harness_canary's call_victim trigger
 * reads the freed table: "BUG: unable to handle page fault" in
 * canary_call_unloaded_victim.
 */
#include <linux/module.h>
#include "harness_canary.h"

static noinline int canary_victim_poke(int x)
{
	return x + 1;
}

static const struct canary_victim_ops canary_victim_ops = {
	.name = "harness_canary_victim",
	.poke = canary_victim_poke,
};

static int __init canary_victim_init(void)
{
	harness_canary_register_victim(&canary_victim_ops);
	return 0;
}

static void __exit canary_victim_exit(void)
{
	/* deliberately leaves the registration dangling */
}

module_init(canary_victim_init);
module_exit(canary_victim_exit);
MODULE_DESCRIPTION("harness canary: a module to be unloaded under the canary's feet");
MODULE_LICENSE("GPL");
