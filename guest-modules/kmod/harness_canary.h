/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HARNESS_CANARY_H
#define HARNESS_CANARY_H

/* An ops table that lives in harness_canary_victim's module memory. */
struct canary_victim_ops {
	const char *name;
	int (*poke)(int);
};

/* Called by harness_canary_victim at load: the canary keeps the pointer
 * (deliberately never cleared), like a fence keeps its ops. */
void harness_canary_register_victim(const struct canary_victim_ops *ops);

#endif
