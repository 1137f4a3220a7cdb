# Sourced by the shell tests: PASS/FAIL lines, their counts, and the summary that sets
# the script's exit status.
pass=0; fail=0
check() { # check <0|1> <description>
    if [ "$1" = 1 ]; then echo "PASS $2"; pass=$((pass+1)); else echo "FAIL $2"; fail=$((fail+1)); fi
}
summary() { # summary [name]: "name: N passed, M failed"; status 0 only without a failure
    echo "${1:+$1: }$pass passed, $fail failed"
    [ $fail = 0 ]
}
