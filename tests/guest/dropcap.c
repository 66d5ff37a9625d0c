// SPDX-License-Identifier: GPL-2.0
/*
 * rkp-dropcap CMD [ARGS]: runs CMD as root without CAP_SYSLOG (bounding, effective, permitted
 * and inheritable), so a guest suite can read debugfs files as a root that may not see kernel
 * addresses. Built static for the guest by scripts/vm.sh.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	/* Root gets its bounding set back on exec: drop it there too. */
	if (argc < 2 || prctl(PR_CAPBSET_DROP, CAP_SYSLOG, 0, 0, 0)) {
		perror("rkp-dropcap: PR_CAPBSET_DROP");
		return 2;
	}
	if (syscall(SYS_capget, &hdr, data)) {
		perror("rkp-dropcap: capget");
		return 2;
	}
	data[CAP_TO_INDEX(CAP_SYSLOG)].effective &= ~CAP_TO_MASK(CAP_SYSLOG);
	data[CAP_TO_INDEX(CAP_SYSLOG)].permitted &= ~CAP_TO_MASK(CAP_SYSLOG);
	data[CAP_TO_INDEX(CAP_SYSLOG)].inheritable &= ~CAP_TO_MASK(CAP_SYSLOG);
	if (syscall(SYS_capset, &hdr, data)) {
		perror("rkp-dropcap: capset");
		return 2;
	}
	execvp(argv[1], argv + 1);
	perror("rkp-dropcap: exec");
	return 127;
}
