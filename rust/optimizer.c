// SPDX-License-Identifier: GPL-2.0
/*
 * The jump optimizer's schedule (rust/engine/optimize.rs does the work): like Linux's
 * kprobe_optimizer, it runs a few ticks after the last request, so that a burst of
 * registrations shares one RCU-tasks grace period.
 */
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

/* Linux's OPTIMIZE_DELAY. */
#define RKP_OPTIMIZE_DELAY 5

void rkp_optimize(void);
void rkp_kick_optimizer(void);
void rkp_stop_optimizer(void);
void rkp_synchronize_rcu_tasks(void);

static void rkp_optimizer_workfn(struct work_struct *work)
{
	rkp_optimize();
}
static DECLARE_DELAYED_WORK(rkp_optimizer, rkp_optimizer_workfn);

/* Process context. A request while one is pending changes nothing. */
void rkp_kick_optimizer(void)
{
	schedule_delayed_work(&rkp_optimizer, RKP_OPTIMIZE_DELAY);
}

/* Waits until no run is queued or running (module exit). */
void rkp_stop_optimizer(void)
{
	cancel_delayed_work_sync(&rkp_optimizer);
}

/* synchronize_rcu_tasks() is a macro on kernels without TASKS_RCU. */
void rkp_synchronize_rcu_tasks(void)
{
	synchronize_rcu_tasks();
}
