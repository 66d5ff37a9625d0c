// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a seq_file (such as /proc/kallsyms) from the kernel. kernel_read() refuses files
 * without ->read_iter, which procfs files that use ->proc_read do not have; seq_read_iter()
 * (exported) does the same work as seq_read() when given a kernel iov_iter.
 *
 * Every seq_file's mutex is of one lockdep class. The file read here is rkprobes' own private
 * instance, whose mutex no one else can take: it gets a class of its own, so that a client
 * that registers probes while holding a lock it also takes in a seq_file of its own does not
 * give lockdep a false cycle through the shared class.
 */
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/seq_file.h>
#include <linux/uio.h>

ssize_t rkp_seq_file_read(struct file *file, void *buf, size_t len, loff_t *pos);

static struct lock_class_key rkp_seq_file_lock_key;

ssize_t rkp_seq_file_read(struct file *file, void *buf, size_t len, loff_t *pos)
{
	struct kvec kvec = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;
	struct kiocb kiocb;
	ssize_t ret;

	if (!file->private_data)
		return -EINVAL;
	if (*pos == 0)
		lockdep_set_class(&((struct seq_file *)file->private_data)->lock,
				  &rkp_seq_file_lock_key);
	init_sync_kiocb(&kiocb, file);
	kiocb.ki_pos = *pos;
	iov_iter_kvec(&iter, ITER_DEST, &kvec, 1, len);
	ret = seq_read_iter(&kiocb, &iter);
	*pos = kiocb.ki_pos;
	return ret;
}
