#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-series.sh - check that the kernel patch series in this folder apply
# and build, patch by patch (bisectability), on a given kernel source.
#
# Usage:
#   check-series.sh [--full] [--no-sparse] [--keep] SRC [SERIES_DIR...]
#
#   SRC         kernel source directory or tarball (.tar, .tar.xz, .tar.gz);
#               e.g. /usr/src/linux-source-6.12.tar.xz
#   SERIES_DIR  series folders to apply, in order (each has a quilt-style
#               `series` file). Default: rcu-ops inline-lock (next to this
#               script).
#
# What it does, in a temporary directory (WORK, default mktemp -d):
#   1. copies/unpacks SRC into WORK/src and commits it as `base` in a fresh
#      git repository;
#   2. configures an allmodconfig build in WORK/allmod (make prepare once);
#   3. runs sparse (make C=2) over drivers/dma-buf/ on the base and counts
#      warnings (skipped without sparse or with --no-sparse);
#   4. applies every patch of every series with `git am`, in order, and after
#      each patch compiles, in the allmodconfig tree, every .c file that patch
#      touches (plus, for a touched private header, a few .c files of its
#      directory that include it). With --full every prefix compiles the
#      union of all .c files touched by all given series instead;
#   5. at the tip of each series compiles the union of all .c files touched so
#      far and re-runs sparse over drivers/dma-buf/;
#   6. prints a per-patch report; exit status 0 only if everything applied
#      and compiled and sparse reported no new warning.
#
# Environment: JOBS (default 2), WORK (work dir; kept if given), CC (default
# "ccache gcc" when ccache exists). Long-running (tens of minutes on 2 cores),
# so it is not part of `make test`.

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=${JOBS:-2}
FULL=0
SPARSE=1
KEEP=0

usage() { sed -n '4,14p' "$0" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--full) FULL=1; shift ;;
	--no-sparse) SPARSE=0; shift ;;
	--keep) KEEP=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
SRC=$1; shift
if [ $# -gt 0 ]; then
	SERIES_DIRS=("$@")
else
	SERIES_DIRS=("$HERE/rcu-ops" "$HERE/inline-lock")
fi

if [ -z "${CC:-}" ]; then
	if command -v ccache >/dev/null 2>&1; then CC="ccache gcc"; else CC=gcc; fi
fi
if [ "$SPARSE" = 1 ] && ! command -v sparse >/dev/null 2>&1; then
	echo "sparse not found, skipping sparse checks (apt-get install sparse)" >&2
	SPARSE=0
fi

if [ -n "${WORK:-}" ]; then
	KEEP=1
	mkdir -p "$WORK"
else
	WORK=$(mktemp -d /tmp/check-series.XXXXXX)
fi
WORK=$(cd "$WORK" && pwd)
LOGS=$WORK/logs
mkdir -p "$LOGS"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; KEEP=1; log "work dir kept: $WORK"; exit 1; }

for d in "${SERIES_DIRS[@]}"; do
	[ -f "$d/series" ] || die "$d/series not found"
done

# 1. source tree ------------------------------------------------------------
log "preparing source tree in $WORK/src"
mkdir -p "$WORK/src"
if [ -d "$SRC" ]; then
	tar -C "$SRC" --exclude=.git -cf - . | tar -C "$WORK/src" -xf - ||
		die "copying $SRC failed"
elif [ -f "$SRC" ]; then
	tar -C "$WORK/src" --strip-components=1 -xf "$SRC" ||
		die "unpacking $SRC failed"
else
	die "$SRC is neither a directory nor a tarball"
fi
[ -f "$WORK/src/Makefile" ] || die "no kernel Makefile in $SRC"

G() { git -C "$WORK/src" -c user.name="check-series" -c user.email="check-series@localhost" "$@"; }
G init -q || die "git init failed"
G add -f -A >/dev/null || die "git add failed"
G commit -q -m base || die "git commit failed"
G tag base

# 2. allmodconfig ---------------------------------------------------------------
OBJ=$WORK/allmod
M() { make -C "$WORK/src" O="$OBJ" CC="$CC" -j"$JOBS" "$@"; }
log "allmodconfig + prepare in $OBJ"
M allmodconfig >"$LOGS/allmodconfig.log" 2>&1 || die "allmodconfig failed"
M prepare >"$LOGS/prepare.log" 2>&1 || die "make prepare failed (see $LOGS/prepare.log)"

# 3. sparse baseline --------------------------------------------------------
sparse_count() { # $1: log name
	M C=2 drivers/dma-buf/ >"$LOGS/$1" 2>&1
	grep -E ': (warning|error):' "$LOGS/$1" | sed "s|$WORK/src/||" | sort -u >"$LOGS/$1.warnings"
	wc -l <"$LOGS/$1.warnings"
}
SPARSE_BASE=-
if [ "$SPARSE" = 1 ]; then
	log "sparse baseline over drivers/dma-buf/"
	SPARSE_BASE=$(sparse_count sparse-base.log)
	log "sparse baseline: $SPARSE_BASE warnings"
fi

# helpers -------------------------------------------------------------------
# files touched by a patch file
patch_files() { sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$1" | sort -u; }

# objects to compile for a list of touched files (stdin)
objs_for_files() {
	local f dir base
	while read -r f; do
		[ -f "$WORK/src/$f" ] || continue
		case "$f" in
		*.c)
			# A .c file #included by another one (i915 and xe selftests,
			# host1x hw) is compiled through its includer.
			dir=$(dirname "$f"); base=$(basename "$f")
			inc=$(cd "$WORK/src" && grep -lE "^#include \"([^\"]*/)?$base\"" \
				"$dir"/*.c "$(dirname "$dir")"/*.c 2>/dev/null | grep -vx "$f")
			if [ -n "$inc" ]; then
				echo "$inc" | sed 's|\.c$|.o|'
			else
				# amdkfd and amd display objects are built by amdgpu's Makefile
				echo "${f%.c}.o" |
					sed -E 's|^drivers/gpu/drm/amd/(amdkfd\|display)/|drivers/gpu/drm/amd/amdgpu/../\1/|'
			fi ;;
		drivers/*.h|sound/*.h|net/*.h|fs/*.h)
			dir=$(dirname "$f"); base=$(basename "$f")
			# the file instantiating it (trace headers), and a few users
			( cd "$WORK/src" &&
			  { grep -l "CREATE_TRACE_POINTS" "$dir"/*.c 2>/dev/null |
				xargs -r grep -l "\"$base\"" 2>/dev/null
			    grep -l "#include \"$base\"" "$dir"/*.c 2>/dev/null | head -2; } ) |
				sed 's|\.c$|.o|' ;;
		esac
	done | sort -u
}

compile_objs() { # $1: log file; rest: objects. Prints failed objects.
	local logf=$1; shift
	[ $# -gt 0 ] || return 0
	M -k "$@" >"$logf" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		grep -oE '\[[^]]*: ([^ ]+\.o)\] Error' "$logf" | sed -E 's/.*: ([^ ]+\.o)\] Error/\1/' |
			sed "s|^$OBJ/||" | sort -u
		# make may fail before reaching any object (e.g. Makefile error)
		grep -qE '\] Error' "$logf" || echo "(make failed, see $logf)"
	fi
	return $rc
}

ALL_FILES=$WORK/all-files.txt
: >"$ALL_FILES"
for d in "${SERIES_DIRS[@]}"; do
	while read -r p; do
		case "$p" in ''|\#*) continue ;; esac
		patch_files "$d/$p" >>"$ALL_FILES"
	done <"$d/series"
done
sort -u -o "$ALL_FILES" "$ALL_FILES"
ALL_OBJS=$(objs_for_files <"$ALL_FILES")

# 4./5. apply and compile ---------------------------------------------------
REPORT=$WORK/report.txt
: >"$REPORT"
FAILED=0
SEEN_FILES=$WORK/seen-files.txt
: >"$SEEN_FILES"
n=0
for d in "${SERIES_DIRS[@]}"; do
	sname=$(basename "$d")
	while read -r p; do
		case "$p" in ''|\#*) continue ;; esac
		n=$((n + 1))
		tag=$(printf '%02d' $n)
		if ! G am -q "$d/$p" >"$LOGS/$tag-am.log" 2>&1; then
			G am --abort >/dev/null 2>&1
			printf '%-12s %-60s %s\n' "$sname" "$p" "APPLY-FAILED" | tee -a "$REPORT"
			FAILED=1
			break 2
		fi
		patch_files "$d/$p" >"$WORK/files-$tag.txt"
		cat "$WORK/files-$tag.txt" >>"$SEEN_FILES"
		if [ "$FULL" = 1 ]; then
			objs=$ALL_OBJS
		else
			objs=$(objs_for_files <"$WORK/files-$tag.txt")
		fi
		nobj=$(echo "$objs" | grep -c . || true)
		log "[$sname] $p: compiling $nobj objects"
		# shellcheck disable=SC2086
		bad=$(compile_objs "$LOGS/$tag-build.log" $objs)
		if [ $? -eq 0 ]; then
			printf '%-12s %-60s OK (%d objects)\n' "$sname" "$p" "$nobj" | tee -a "$REPORT"
		else
			printf '%-12s %-60s BUILD-FAILED: %s\n' "$sname" "$p" "$(echo $bad)" | tee -a "$REPORT"
			FAILED=1
		fi
	done <"$d/series"

	# tip of this series: union of everything touched so far
	objs=$(sort -u "$SEEN_FILES" | objs_for_files)
	nobj=$(echo "$objs" | grep -c . || true)
	log "[$sname] tip: compiling union of $nobj objects"
	# shellcheck disable=SC2086
	bad=$(compile_objs "$LOGS/tip-$sname-build.log" $objs)
	if [ $? -eq 0 ]; then
		printf '%-12s %-60s OK (%d objects)\n' "$sname" "(tip, all touched files)" "$nobj" | tee -a "$REPORT"
	else
		printf '%-12s %-60s BUILD-FAILED: %s\n' "$sname" "(tip, all touched files)" "$(echo $bad)" | tee -a "$REPORT"
		FAILED=1
	fi
	if [ "$SPARSE" = 1 ]; then
		cnt=$(sparse_count "sparse-$sname.log")
		new=$(comm -13 "$LOGS/sparse-base.log.warnings" "$LOGS/sparse-$sname.log.warnings" | wc -l)
		printf '%-12s %-60s sparse drivers/dma-buf/: %s warnings (base %s), %s new\n' \
			"$sname" "(tip)" "$cnt" "$SPARSE_BASE" "$new" | tee -a "$REPORT"
		if [ "$new" -ne 0 ]; then
			comm -13 "$LOGS/sparse-base.log.warnings" "$LOGS/sparse-$sname.log.warnings" | tee -a "$REPORT"
			FAILED=1
		fi
	fi
done

echo
echo "=== check-series report ($(date -u +%FT%TZ), src: $SRC) ==="
cat "$REPORT"
if [ "$FAILED" = 0 ]; then
	echo "RESULT: PASS"
else
	KEEP=1
	echo "RESULT: FAIL (logs in $LOGS)"
fi
exit $FAILED
