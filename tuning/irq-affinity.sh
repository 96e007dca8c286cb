#!/usr/bin/env bash
# Move every IRQ off the worker cores, onto the other online CPUs.
#   tuning/irq-affinity.sh [--dry-run] CORES        e.g. tuning/irq-affinity.sh 2-5
# Writes each /proc/irq/N/smp_affinity_list (its current CPUs minus CORES, or
# every housekeeping CPU when nothing is left) and /proc/irq/default_smp_affinity
# (for IRQs registered later). Needs root unless --dry-run. Per-CPU and managed
# IRQs refuse the write: they are reported and left (isolcpus=managed_irq,...
# keeps managed ones off isolated cores at boot). Not persistent: run it at boot
# (or use the tuned profile), and stop irqbalance, which would move them back.
# Exit: 0 done (some IRQs may have refused), 1 error, 2 usage.
set -euo pipefail

usage() {
	echo "usage: tuning/irq-affinity.sh [--dry-run] CORES   (CORES: a CPU list like 2-5,8)" >&2
	exit 2
}
dry=0
cores=
for a in "$@"; do
	case $a in
	--dry-run) dry=1 ;;
	-h | --help) usage ;;
	-*) echo "irq-affinity.sh: unknown option '$a'" >&2; usage ;;
	*) [ -z "$cores" ] || usage; cores=$a ;;
	esac
done
[ -n "$cores" ] || usage
root=${ZCS_IRQ_ROOT:-} # tests only: a fake /proc and /sys tree

# expand "0-3,8" into "0 1 2 3 8"; fails on anything else
expand() {
	local part lo hi c parts=() cpus=()
	IFS=, read -ra parts <<< "$1"
	for part in "${parts[@]}"; do
		if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
			lo=${BASH_REMATCH[1]} hi=${BASH_REMATCH[2]}
			[ "$lo" -le "$hi" ] || return 1
		elif [[ $part =~ ^[0-9]+$ ]]; then
			lo=$part hi=$part
		else
			return 1
		fi
		for ((c = lo; c <= hi; c++)); do cpus+=("$c"); done
	done
	echo "${cpus[@]}"
}
range() { if [ "$1" = "$2" ]; then echo "$1"; else echo "$1-$2"; fi; }
# compress "0 1 2 3 8" (sorted) into "0-3,8"
compress() {
	local list='' lo='' prev='' c
	for c in $1; do
		if [ -n "$prev" ] && [ "$c" -eq $((prev + 1)) ]; then
			prev=$c
			continue
		fi
		[ -z "$lo" ] || list+="${list:+,}$(range "$lo" "$prev")"
		lo=$c prev=$c
	done
	[ -z "$lo" ] || list+="${list:+,}$(range "$lo" "$prev")"
	echo "$list"
}
# "a b c" minus "x y" (space-separated CPU numbers)
minus() {
	local c rest=()
	for c in $1; do [[ " $2 " == *" $c "* ]] || rest+=("$c"); done
	echo "${rest[@]}"
}
# hex mask of "0 1 8" in /proc/irq format: 32-bit groups, comma-separated
mask() {
	local c max=0 words=() i hex=''
	for c in $1; do [ "$c" -le "$max" ] || max=$c; done
	for ((i = 0; i <= max / 32; i++)); do words[i]=0; done
	for c in $1; do words[c / 32]=$((words[c / 32] | (1 << (c % 32)))); done
	for ((i = max / 32; i >= 0; i--)); do
		hex+="${hex:+,}$(printf '%08x' "${words[i]}")"
	done
	echo "$hex"
}

want=$(expand "$cores") || { echo "irq-affinity.sh: CORES '$cores' is not a CPU list like 2-5,8" >&2; exit 2; }
online_f=$root/sys/devices/system/cpu/online
online=$(expand "$(cat "$online_f")") || { echo "irq-affinity.sh: cannot read $online_f" >&2; exit 1; }
for c in $want; do
	[[ " $online " == *" $c "* ]] || { echo "irq-affinity.sh: cpu $c is not online ($online_f)" >&2; exit 1; }
done
house=$(minus "$online" "$want")
[ -n "$house" ] || { echo "irq-affinity.sh: CORES $cores leave no CPU for IRQs" >&2; exit 1; }
if [ "$dry" = 0 ] && [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
	echo "irq-affinity.sh: writing /proc/irq/*/smp_affinity_list needs root (or use --dry-run)" >&2
	exit 1
fi
if [ -z "$root" ] && pgrep -x irqbalance > /dev/null 2>&1; then
	echo "irq-affinity.sh: warning: irqbalance is running and will move IRQs back;" \
		"systemctl disable --now irqbalance" >&2
fi

moved=0 kept=0 refused=0
act=$([ "$dry" = 1 ] && echo "would move" || echo "moved")
for d in "$root"/proc/irq/[0-9]*; do
	irq=${d##*/}
	f=$d/smp_affinity_list
	cur=$(cat "$f" 2> /dev/null) || { echo "irq $irq: cannot read $f" >&2; refused=$((refused + 1)); continue; }
	curx=$(expand "$cur") || { echo "irq $irq: cannot parse '$cur' in $f" >&2; refused=$((refused + 1)); continue; }
	new=$(minus "$curx" "$want")
	if [ "$new" = "$curx" ]; then
		kept=$((kept + 1))
		continue
	fi
	[ -n "$new" ] || new=$house
	newl=$(compress "$new")
	if [ "$dry" = 1 ] || echo "$newl" 2> /dev/null > "$f"; then
		echo "irq $irq: $act $cur -> $newl"
		moved=$((moved + 1))
	else
		echo "irq $irq: kernel refused $newl on $f (per-CPU or managed IRQ): stays on $cur" >&2
		refused=$((refused + 1))
	fi
done

def=$root/proc/irq/default_smp_affinity
m=$(mask "$house")
if [ "$dry" = 1 ]; then
	echo "default_smp_affinity: would set $m (CPUs $(compress "$house"))"
elif echo "$m" > "$def"; then
	echo "default_smp_affinity: $m (CPUs $(compress "$house"))"
else
	echo "irq-affinity.sh: cannot write $def" >&2
	exit 1
fi
echo "irq-affinity: $moved IRQ(s) $act, $kept already off $cores, $refused left where they are"
