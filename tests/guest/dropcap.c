// SPDX-License-Identifier: GPL-2.0
/*
 * rkp-dropcap CMD [ARGS]: runs CMD as root without CAP_SYSLOG (bounding, effective, permitted
 * and inheritable), so a guest suite can read debugfs files as a root that may not see kernel
 * addresses. Built by scripts/vm.sh against the kernel's nolibc (tools/include/nolibc), so any
 * guest architecture builds without a C library of its own.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
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
	if (syscall(__NR_capget, &hdr, data)) {
		perror("rkp-dropcap: capget");
		return 2;
	}
	data[CAP_TO_INDEX(CAP_SYSLOG)].effective &= ~CAP_TO_MASK(CAP_SYSLOG);
	data[CAP_TO_INDEX(CAP_SYSLOG)].permitted &= ~CAP_TO_MASK(CAP_SYSLOG);
	data[CAP_TO_INDEX(CAP_SYSLOG)].inheritable &= ~CAP_TO_MASK(CAP_SYSLOG);
	if (syscall(__NR_capset, &hdr, data)) {
		perror("rkp-dropcap: capset");
		return 2;
	}
	/* No PATH search: busybox's applets are in /bin. */
	if (!strchr(argv[1], '/')) {
		static char path[256] = "/bin/";

		strncat(path, argv[1], sizeof(path) - 6);
		argv[1] = path;
	}
	execve(argv[1], argv + 1, environ);
	perror("rkp-dropcap: exec");
	return 127;
}
