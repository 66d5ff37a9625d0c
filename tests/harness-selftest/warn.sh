# SPDX-License-Identifier: GPL-2.0
. /rkp/lib.sh
plan 1
check "rkp_test_warn.ko loads (and warns)" insmod rkp_test_warn.ko
