#!/usr/bin/env bash
# Line coverage of the module's sources by the fuzz corpora (clang
# source-based coverage, no sanitizers: nginx's objects are compiled once
# more without them, into build/fuzz/cov/nginx-objs/):
#
#   fuzz/coverage.sh [TARGET...]
#
# Replays fuzz/corpus/<target>/ and build/fuzz/corpus/<target>/ through a
# coverage build in build/fuzz/cov/ and prints llvm-cov's report for the
# module files; HTML in build/fuzz/cov/html/.
set -euo pipefail

FUZZ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$FUZZ")
OUT=$ROOT/build/fuzz
COV=$OUT/cov
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(json_scan json_tools json_members jwt_parse jwks_parse token filter
    as_params registration)

PROFDATA=$(command -v llvm-profdata || command -v llvm-profdata-14)
LLVMCOV=$(command -v llvm-cov || command -v llvm-cov-14)

mkdir -p "$COV"
rm -f "$COV"/*.profraw

objs=()
for t in "${TARGETS[@]}"; do
    echo "==> fuzz_$t (coverage)" >&2
    FUZZ_OUT=$COV FUZZ_SANITIZE='' FUZZ_CFLAGS="-fprofile-instr-generate -fcoverage-mapping" \
        bash "$FUZZ/build.sh" "$t" >/dev/null
    mkdir -p "$OUT/corpus/$t"
    LLVM_PROFILE_FILE="$COV/$t.%p.profraw" \
        "$COV/fuzz_$t" -runs=0 "$FUZZ/corpus/$t" "$OUT/corpus/$t" >/dev/null 2>&1 || true
    if ((${#objs[@]})); then objs+=(-object "$COV/fuzz_$t"); else objs=("$COV/fuzz_$t"); fi
done

"$PROFDATA" merge -sparse "$COV"/*.profraw -o "$COV/all.profdata"
"$LLVMCOV" report "${objs[@]}" -instr-profile="$COV/all.profdata" \
    "$ROOT"/ngx_mcp_oauth_module/*/*.c
"$LLVMCOV" show "${objs[@]}" -instr-profile="$COV/all.profdata" \
    -format=html -output-dir="$COV/html" "$ROOT"/ngx_mcp_oauth_module/*/*.c >/dev/null
echo "HTML: $COV/html/index.html" >&2
