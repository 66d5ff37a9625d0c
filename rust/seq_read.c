// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a seq_file (such as /proc/kallsyms) from the kernel. kernel_read() refuses files
 * without ->read_iter, which procfs files that use ->proc_read do not have; seq_read_iter()
 * (exported) does the same work as seq_read() when given a kernel iov_iter.
 */
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/uio.h>

ssize_t rkp_seq_file_read(struct file *file, void *buf, size_t len, loff_t *pos);

ssize_t rkp_seq_file_read(struct file *file, void *buf, size_t len, loff_t *pos)
{
	struct kvec kvec = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;
	struct kiocb kiocb;
	ssize_t ret;

	if (!file->private_data)
		return -EINVAL;
	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = *pos;
	iov_iter_kvec(&iter, ITER_DEST, &kvec, 1, len);
	ret = seq_read_iter(&kiocb, &iter);
	*pos = kiocb.ki_pos;
	return ret;
}
