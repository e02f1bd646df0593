#!/bin/sh
# A rank dying (exit) or hanging (hang) mid-training ends the whole job
# within a bounded time, with a non-zero status and a clear message.
#   run-failure.sh FAILURE_PROGRAM exit|hang
set -u
prog=$1
mode=$2
. "$(dirname "$0")/mpirun.sh"
limit=60
start=$(date +%s)
# The surviving rank's allreduce gives up after 5 s; `timeout` is the
# test's own backstop (status 124 = the job hung).
out=$(timeout -k 5 $limit sh -c '. "$0"; mpirun_np 2 "$1" "$2" 5' \
        "$(dirname "$0")/mpirun.sh" "$prog" "$mode" 2>&1)
status=$?
elapsed=$(( $(date +%s) - start ))
printf '%s\n' "$out"
echo "run-failure ($mode): status $status after ${elapsed}s"
fail() { echo "run-failure ($mode): FAIL: $*"; exit 1; }
[ $status -ne 124 ] && [ $status -ne 137 ] || fail "the job hung (killed after ${limit}s)"
[ $status -ne 0 ] || fail "the job exited with status 0"
printf '%s\n' "$out" | grep -q "rank 1 .* after 2 iterations" || fail "the fault was not injected"
printf '%s\n' "$out" | grep -q "finished all iterations" && fail "a rank finished: the failure went unnoticed"
case $mode in
  exit)
    # mpirun's own report names the process that exited.
    printf '%s\n' "$out" | grep -qi "exit" || fail "no message about the exited rank" ;;
  hang)
    printf '%s\n' "$out" | grep -q "did not complete within the 5 s timeout" \
      || fail "no timeout message from the surviving rank" ;;
esac
echo "run-failure ($mode): PASS"
exit 0
