# Shared by run-vm.sh and run-pnfs.sh (sourced): counting results, booting
# the test kernel under TCG, reading the parts of the VM's results and
# checking its console.  The caller sets work, kernel, initrd, timeout,
# passed and failed.

# result RC TEXT...: one PASS or FAIL line, counted
result() {
	local rc=$1

	shift
	if [ "$rc" -eq 0 ]; then
		echo "PASS $*"
		passed=$((passed + 1))
	else
		echo "FAIL $*"
		failed=$((failed + 1))
	fi
}

# The lines of part NAME of the VM's results (of the second boot with
# results=results2.txt).
results=results.txt
vm_part() {
	sed -n "/^BMAPVM: begin $1\$/,/^BMAPVM: end $1 rc=/p" \
		"$work/$results"
}

vm_summary() {
	local name=$1 out rc sum p f

	out=$(vm_part "$name")
	echo "$out" | grep -v '^BMAPVM:' | sed "s/^/    $name: /"
	rc=$(echo "$out" | sed -n "s/^BMAPVM: end $name rc=\([0-9]*\)$/\1/p")
	sum=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ -z "$rc" ] || [ -z "$sum" ]; then
		result 1 "VM $name: no result (see $work/results.log)"
		return
	fi
	p=${sum%% passed*}
	f=${sum#*, }
	f=${f%% failed}
	passed=$((passed + p))
	failed=$((failed + f))
	# A non-zero exit with nothing failed is a failure of its own.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		result 1 "VM $name exited $rc"
	fi
	echo "VM $name: $p passed / $f failed"
}

# boot_vm LOG CONSOLE EXTRA_APPEND IMAGE...: boot the kernel with the
# images as virtio disks vda, vdb, ...; the results go to LOG.log (LOG.txt
# without the serial port's CRs), the kernel's messages to CONSOLE.log.
# Returns qemu's exit status.
#
# tsc=unstable: under TCG on a loaded host the TSC is calibrated against
# the PIT at boot, often wrongly (314 MHz one run, something else the
# next), so CLOCK_MONOTONIC ran 8 times faster than the jiffies that
# lease and revoke timers count; without the TSC both are the same clock
# and the L7 checks can time a revoke.
boot_vm() {
	local log=$1 console=$2 append=$3 drives=() img rc

	shift 3
	for img in "$@"; do
		drives+=(-drive "file=$work/$img,if=virtio,format=raw")
	done
	timeout "$timeout" qemu-system-x86_64 -accel tcg -m 1024 -nodefaults \
		-display none -no-reboot \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=7 tsc=unstable$append" \
		-serial "file:$work/$console.log" \
		-serial "file:$work/$log.log" \
		"${drives[@]}"
	rc=$?
	touch "$work/$log.log" "$work/$console.log"
	# The serial port ends lines with CR LF.
	tr -d '\r' <"$work/$log.log" >"$work/$log.txt"
	return $rc
}

# console_clean CONSOLE NAME: no oops, BUG, WARNING, lockdep report... in the
# kernel's messages of that boot.  BUG also catches "BUG: sleeping function
# called from invalid context"; lockdep reports start with "WARNING:
# possible circular locking dependency" and similar, or end with "INFO:
# lockdep is turned off".
console_clean() {
	local bad

	bad=$(grep -nE 'Oops|BUG|WARNING|Call Trace|Kernel panic|general protection|possible circular locking|possible recursive locking|inconsistent lock state|lockdep|Leaked locks' \
		"$work/$1.log")
	[ -z "$bad" ] || echo "$bad" | head -20 | sed 's/^/    console: /'
	result "$([ -z "$bad" ] && echo 0 || echo 1)" \
		"$2: no oops, BUG, WARNING, lockdep report, leaked lock or call trace on the console"
}
