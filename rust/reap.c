// SPDX-License-Identifier: GPL-2.0
/*
 * Freeing a return probe's pool once the last call pending on it has returned. That return
 * happens in the breakpoint trap (NMI-like context), which cannot free memory or wait for a
 * grace period: it raises an irq_work (NMI-safe), which queues a work item, which frees the
 * pool in process context (rkp_reap_pools(), rust/engine.rs).
 */
#include <linux/irq_work.h>
#include <linux/workqueue.h>

void rkp_reap_pools(void);
void rkp_request_reap(void);
void rkp_reap_sync(void);

static void rkp_reap_workfn(struct work_struct *work)
{
	rkp_reap_pools();
}
static DECLARE_WORK(rkp_reap_work, rkp_reap_workfn);

static void rkp_reap_irq_workfn(struct irq_work *work)
{
	schedule_work(&rkp_reap_work);
}
static DEFINE_IRQ_WORK(rkp_reap_irq_work, rkp_reap_irq_workfn);

/* Any context, NMI included. */
void rkp_request_reap(void)
{
	irq_work_queue(&rkp_reap_irq_work);
}

/* Waits until no request is queued or running (module exit). */
void rkp_reap_sync(void)
{
	irq_work_sync(&rkp_reap_irq_work);
	cancel_work_sync(&rkp_reap_work);
}
