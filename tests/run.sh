#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds, and runs the whole
# CTest suite, then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the
# threading tests under ThreadSanitizer. Exits non-zero on any failure.
#   bash tests/run.sh [--no-install] [--quick]   (--quick: release build only)
set -euo pipefail
cd "$(dirname "$0")/.."

install=1 quick=0
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    --quick) quick=1 ;;
    *) echo "usage: tests/run.sh [--no-install] [--quick]" >&2; exit 2 ;;
  esac
done

packages=(build-essential cmake pkg-config fuse3 libfuse3-dev libsodium-dev libyaml-cpp-dev
          libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev python3 rsync tar diffutils
          restic borgbackup bup rdiff-backup procps util-linux attr git)
if [ "$install" = 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    state=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$state" = "install ok installed" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "tests/run.sh: missing packages (run as root to install): ${missing[*]}" >&2; exit 1
    fi
    echo "== installing: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

if [ "${CI:-}" = true ] && [ ! -c /dev/fuse ]; then
  echo "tests/run.sh: CI=true but /dev/fuse is missing: FUSE tests cannot run" >&2
  exit 1
fi

jobs=$(nproc)
status=0
run_preset() {  # run_preset PRESET "BUILD TARGETS (empty: all)" [ctest args...]
  local preset=$1 targets=$2; shift 2
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  # shellcheck disable=SC2086
  cmake --build --preset "$preset" -j "$jobs" ${targets:+--target $targets}
  echo "== $preset: ctest"
  # A whole-suite limit as well as the per-test timeouts: nothing may stall CI.
  if ! timeout --kill-after=30 1800 ctest --test-dir "build/$preset" -j "$jobs" \
        --output-on-failure --timeout 600 --no-tests=error "$@"; then
    status=1
  fi
}

run_preset release ""
if [ "$quick" = 0 ]; then
  # Sanitizer runs skip the real-backup-tool tests (label "tools": they test the tools, not
  # our memory) and the one-minute live-tree soak (label "soak": release pass only);
  # everything else, FUSE mounts included, runs under ASan + UBSan.
  run_preset asan "" -LE "tools|soak"
  # ThreadSanitizer: the model driven by concurrent readers.
  run_preset tsan "encfsr_fs_test" -L threads
fi
[ $status = 0 ] && echo "== all test runs passed" || echo "== SOME TEST RUN FAILED"
exit $status
