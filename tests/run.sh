#!/usr/bin/env bash
# The test command: installs what is missing (Debian 12, as root), builds, and runs the whole
# CTest suite (the Debian package and its checks included), builds the binary as a
# distribution would (plain CMake Release build with GCC, default flags) and with clang
# (warnings are errors), runs clang-tidy over the project's code (findings are errors), then runs
# the suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the threading tests and
# real mounts under ThreadSanitizer, then the libFuzzer targets for 30 s each.
# Exits non-zero on any failure.
#   bash tests/run.sh [--no-install] [--quick]   (--quick: no clang-tidy, sanitizer or fuzz passes)
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
          restic borgbackup bup rdiff-backup rclone procps util-linux attr acl libcap2-bin git
          clang clang-tidy dpkg-dev man-db groff-base lintian systemd)
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

# build_binary NAME "ENV" CMAKE-ARGS...: configure build/NAME without presets, build only the
# encfsr binary, and check that it runs.
build_binary() {
  local name=$1 envs=$2; shift 2
  echo "== $name: configure and build the binary (${envs:+$envs }cmake $*)"
  # shellcheck disable=SC2086
  if env $envs cmake -S . -B "build/$name" "$@" >"build/$name.configure.log" 2>&1 &&
     cmake --build "build/$name" -j "$jobs" --target encfsr &&
     "build/$name/encfsr" --version; then
    echo "== $name: ok"
  else
    [ -s "build/$name.configure.log" ] && tail -20 "build/$name.configure.log"
    echo "== $name: FAILED"
    status=1
  fi
}

run_preset release ""
mkdir -p build
# A distribution's build: no presets, default flags, warnings not errors (GCC 12 has false
# positives at -O3).
build_binary dist-gcc "" -DCMAKE_BUILD_TYPE=Release
# clang: its warnings are errors too (a Debug build: clang's warnings do not depend on the
# optimiser, and it builds in half the time).
build_binary clang "CC=clang CXX=clang++" -DCMAKE_BUILD_TYPE=Debug -DENCFSR_WERROR=ON
if [ "$quick" = 0 ]; then
  # clang-tidy over the project's own code (crypto/, config/, src/ and their headers) with the
  # checked-in .clang-tidy, on the clang build's compile commands; any finding fails the run.
  echo "== clang-tidy"
  if [ -f build/clang/compile_commands.json ] &&
     run-clang-tidy -p build/clang -j "$jobs" -quiet "$PWD/(crypto|config|src)/" \
       >build/clang-tidy.log 2>&1; then
    echo "== clang-tidy: ok"
  else
    grep -E "(error|warning):" build/clang-tidy.log 2>/dev/null | sort -u | head -60 || true
    echo "== clang-tidy: FAILED (whole output: build/clang-tidy.log)"
    status=1
  fi
  # ASan + UBSan: every test, FUSE mounts, the real backup tools and the one-minute live-tree
  # soak included, except the build of the Debian package (packaging.deb: dpkg-buildpackage
  # builds it again with the distribution's flags, so it says nothing of this build).
  run_preset asan "" -E '^packaging[.]deb$'
  # ThreadSanitizer: the model driven by concurrent readers and the worker pool (label
  # "threads"), then real mounts of the TSan binary, where FUSE's worker threads, the sealing
  # pool and the inode evictor run together (libfuse itself is not instrumented; TSan still
  # sees its locks). halt_on_error: a race kills the daemon, so the test using it fails.
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
  run_preset tsan "encfsr encfsr_fs_test encfsr_util_test" -L threads
  echo "== tsan: mounts"
  if ! timeout --kill-after=30 1200 ctest --test-dir build/tsan -j "$jobs" --output-on-failure \
        --timeout 600 --no-tests=error -LE soak \
        -R '^(live_tree[.]|perf[.]|mount_cli$|manifest[.]ViewServesManifests$)'; then
    status=1
  fi
  unset TSAN_OPTIONS
  # libFuzzer targets (clang, ASan + UBSan), each on its checked-in corpus for 30 s
  # (ENCFSR_FUZZ_SECONDS): 10 targets two at a time (ctest -j2) are about 2.5 minutes, and
  # building the instrumented libraries about 3 more on 2 cores. Longer runs: tests/fuzz/README.md.
  run_preset fuzz "" -L fuzz
fi
[ $status = 0 ] && echo "== all test runs passed" || echo "== SOME TEST RUN FAILED"
exit $status
