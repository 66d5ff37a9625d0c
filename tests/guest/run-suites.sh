# SPDX-License-Identifier: GPL-2.0
# Runs every suite in /rkp/suites in order; exits non-zero if a suite script itself failed
# (its tests report through KTAP, not through the exit status).
status=0
for suite in /rkp/suites/*.sh; do
	(cd /rkp/modules && sh "$suite") || { echo "rkp-guest: suite $suite exited with $?" > /dev/kmsg; status=1; }
done
exit $status
