# SPDX-License-Identifier: GPL-2.0
. /rkp/lib.sh
plan 2
ok "a passing test"
not_ok "a deliberately failing test" "harness self-test"
