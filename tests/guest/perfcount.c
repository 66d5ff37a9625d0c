// SPDX-License-Identifier: GPL-2.0
/*
 * rkp-perfcount ID N: opens trace event ID (the `id` file of its tracefs directory) with
 * perf_event_open() as a counter of this task, opens /proc/version N times, and prints what
 * the counter read: how many records perf got from the event. Built by scripts/vm.sh against
 * the kernel's nolibc, as rkp-dropcap is.
 */
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
	};
	long long count = -1;
	int fd, i;

	if (argc != 3) {
		fprintf(stderr, "usage: rkp-perfcount ID N\n");
		return 2;
	}
	attr.config = atoi(argv[1]);
	fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0) {
		perror("rkp-perfcount: perf_event_open");
		return 1;
	}
	for (i = 0; i < atoi(argv[2]); i++)
		close(open("/proc/version", O_RDONLY));
	if (read(fd, &count, sizeof(count)) != sizeof(count)) {
		perror("rkp-perfcount: read");
		return 1;
	}
	printf("%lld\n", count);
	return 0;
}
