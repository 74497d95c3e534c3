/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fence_holder: keeps references to fences of other modules, the way a real
 * consumer (another driver, a sync_file, a dma_resv, an array, a chain)
 * would, so that they outlive the module that issued them.
 *
 * The holder never depends on an issuer: issuers call into the holder, so
 * an issuer can be unloaded while the holder (and its references) stay.
 */
#ifndef FENCE_HOLDER_H
#define FENCE_HOLDER_H

struct dma_fence;

/*
 * Take a new reference to @fence and keep it in the holder's stash.
 * @tag is copied (may be NULL) and only used in messages.
 * Returns 0, -ENOSPC when the stash is full.
 */
int fence_holder_stash(struct dma_fence *fence, const char *tag);

#endif
