// SPDX-License-Identifier: GPL-2.0
/*
 * The probe event control files in rkprobes' debugfs directory: kprobe_events (definitions
 * written line by line, truncated on an O_TRUNC open, listed on read) and kprobe_profile, with
 * the file semantics of kernel/trace/trace_kprobe.c. rust/events.rs does the work.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/security.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "events.h"

static int rkp_events_seq_show(struct seq_file *m, void *v)
{
	rkp_events_show(m);
	return 0;
}

static int rkp_events_open(struct inode *inode, struct file *file)
{
	int ret = security_locked_down(LOCKDOWN_TRACEFS);

	if (ret)
		return ret;
	if ((file->f_mode & FMODE_WRITE) && (file->f_flags & O_TRUNC)) {
		ret = rkp_events_clear();
		if (ret)
			return ret;
	}
	return single_open(file, rkp_events_seq_show, NULL);
}

#define WRITE_BUFSIZE 4096

/* trace_parse_run_command() (not exported): one definition per line, '#' starts a comment. */
static ssize_t rkp_events_write(struct file *file, const char __user *ubuf, size_t count,
				loff_t *ppos)
{
	char *kbuf __free(kfree) = kmalloc(WRITE_BUFSIZE, GFP_KERNEL);
	size_t done = 0, size;
	char *buf, *tmp;
	int ret;

	if (!kbuf)
		return -ENOMEM;
	while (done < count) {
		size = min_t(size_t, count - done, WRITE_BUFSIZE - 1);
		if (copy_from_user(kbuf, ubuf + done, size))
			return -EFAULT;
		kbuf[size] = '\0';
		buf = kbuf;
		do {
			tmp = strchr(buf, '\n');
			if (tmp) {
				*tmp = '\0';
				size = tmp - buf + 1;
			} else {
				size = strlen(buf);
				if (done + size < count) {
					if (buf != kbuf)
						break;
					pr_warn("rkprobes: Line length is too long: Should be less than %d\n",
						WRITE_BUFSIZE - 2);
					return -EINVAL;
				}
			}
			done += size;
			tmp = strchr(buf, '#');
			if (tmp)
				*tmp = '\0';
			ret = rkp_events_run(buf);
			if (ret)
				return ret;
			buf += size;
		} while (done < count);
	}
	return done;
}

static const struct file_operations rkp_events_fops = {
	.owner = THIS_MODULE,
	.open = rkp_events_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = rkp_events_write,
};

static int rkp_profile_seq_show(struct seq_file *m, void *v)
{
	rkp_events_profile(m);
	return 0;
}

static int rkp_profile_open(struct inode *inode, struct file *file)
{
	int ret = security_locked_down(LOCKDOWN_TRACEFS);

	return ret ?: single_open(file, rkp_profile_seq_show, NULL);
}

static const struct file_operations rkp_profile_fops = {
	.owner = THIS_MODULE,
	.open = rkp_profile_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static struct dentry *rkp_event_files[2];

/* Creates the files in the debugfs directory @dir (made by rust/debugfs.rs). */
int rkp_event_files_create(const char *dir)
{
	struct dentry *parent = debugfs_lookup(dir, NULL);

	if (IS_ERR_OR_NULL(parent))
		return -ENOENT;
	rkp_event_files[0] = debugfs_create_file("kprobe_events", 0640, parent, NULL,
						 &rkp_events_fops);
	rkp_event_files[1] = debugfs_create_file("kprobe_profile", 0440, parent, NULL,
						 &rkp_profile_fops);
	dput(parent);
	return 0;
}

/* Removes them; when this returns no call into them is running. */
void rkp_event_files_remove(void)
{
	debugfs_remove(rkp_event_files[1]);
	debugfs_remove(rkp_event_files[0]);
}
