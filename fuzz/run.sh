#!/usr/bin/env bash
# Runs the libFuzzer harnesses of ngx_mcp_oauth_module.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Builds first when a binary is missing or older than its sources, then runs
# each harness (all when none is named) for SECONDS (default 5) on its seed
# corpus fuzz/corpus/<target>/ (read only: every crash-regression-* file
# there runs first) plus build/fuzz/corpus/<target>/, where new inputs go.
# Exits non-zero when a harness crashes, hangs, leaks or reports anything.
#
# Environment: FUZZ_JOBS (targets run at once, default 1), FUZZ_ARGS (more
# libFuzzer flags, e.g. "-jobs=2 -workers=2" or "-only_ascii=1"); and
# fuzz/build.sh's, e.g. NGX_SOURCE (the nginx source tree to build with).
set -uo pipefail

FUZZ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$FUZZ")
MOD=$ROOT/ngx_mcp_oauth_module
OUT=$ROOT/build/fuzz

SECS=${1:-5}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(json_scan json_tools json_members jwt_parse jwks_parse token filter
    as_params registration pages resp rsa)
JOBS=${FUZZ_JOBS:-1}

[[ $SECS =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }

# longest input per target: a body / answer / token / header a little past
# what the module takes (16 KB tokens are refused before decoding)
max_len() {
    case $1 in
        jwt_parse)      echo 17000 ;;
        token)          echo 2048 ;;
        json_members)   echo 4096 ;;
        as_params)      echo 4096 ;;
        registration)   echo 17000 ;;
        *)              echo 8192 ;;
    esac
}

# jwt_parse takes tokens and "HEADER\nPAYLOAD\nSIG" JSON: both dictionaries;
# registration takes JSON and URLs
dict() {
    case $1 in
        jwt_parse)
            cat "$FUZZ/dict/jwt.dict" "$FUZZ/dict/json.dict" >"$OUT/jwt_parse.dict"
            echo "$OUT/jwt_parse.dict" ;;
        as_params)
            echo "$FUZZ/dict/oauth.dict" ;;
        registration)
            cat "$FUZZ/dict/oauth.dict" "$FUZZ/dict/json.dict" >"$OUT/registration.dict"
            echo "$OUT/registration.dict" ;;
        *)  echo "$FUZZ/dict/json.dict" ;;
    esac
}

# rebuild when a binary is missing, a source or nginx's objects are newer,
# or NGX_SOURCE names an nginx tree (it may not be the one built)
stale=()
for t in "${TARGETS[@]}"; do
    bin=$OUT/fuzz_$t
    [[ -f $FUZZ/fuzz_$t.c ]] || { echo "unknown target $t" >&2; exit 2; }
    if [[ ! -x $bin || -n ${NGX_SOURCE:-} || $OUT/nginx-objs/libnginx.a -nt $bin ]] \
       || [[ -n $(find "$FUZZ" "$MOD" "$ROOT/t/data/jwks" "$ROOT/t/data/tokens" \
            -newer "$bin" \( -name '*.c' -o -name '*.h' -o -name '*.json' -o -name '*.jwt' \
            -o -name build.sh \) \
            -not -path "$FUZZ/corpus/*" 2>/dev/null | head -1) ]]; then
        stale+=("$t")
    fi
done
if ((${#stale[@]})); then
    bash "$FUZZ/build.sh" "${stale[@]}" || { echo "fuzz build failed" >&2; exit 1; }
fi

# logs of this run apart (another run.sh, e.g. ./build.sh test, may run at
# the same time); build/fuzz/logs/latest points to the newest
LOGS=$OUT/logs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$LOGS"
ln -sfn "$(basename "$LOGS")" "$OUT/logs/latest"

run_one() {
    local t=$1 log=$LOGS/$1.log rc
    mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
    # shellcheck disable=SC2086
    (cd "$OUT" && "$OUT/fuzz_$t" \
        -max_total_time="$SECS" -timeout=5 -rss_limit_mb=2048 \
        -max_len="$(max_len "$t")" -dict="$(dict "$t")" \
        -artifact_prefix="$OUT/artifacts/$t/" -print_final_stats=1 \
        ${FUZZ_ARGS:-} \
        "$OUT/corpus/$t" "$FUZZ/corpus/$t") >"$log" 2>&1
    rc=$?
    echo "$rc" >"$log.rc"
}

summary() {
    local t=$1 log=$LOGS/$1.log rc execs eps cov ft corp
    rc=$(cat "$log.rc" 2>/dev/null || echo '?')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '%-13s %-6s %12s %9s %7s %7s %12s\n' "$t" \
        "$([[ $rc == 0 ]] && echo ok || echo "FAIL($rc)")" \
        "${execs:--}" "${eps:--}" "${cov:--}" "${ft:--}" "${corp:--}"
}

running=0
for t in "${TARGETS[@]}"; do
    echo "==> fuzz_$t for ${SECS}s" >&2
    if ((JOBS > 1)); then
        run_one "$t" &
        running=$((running + 1))
        if ((running >= JOBS)); then
            wait -n
            running=$((running - 1))
        fi
    else
        run_one "$t"
    fi
done
wait

failed=0
printf '\n%-13s %-6s %12s %9s %7s %7s %12s\n' target result execs exec/s cov ft corpus
for t in "${TARGETS[@]}"; do
    summary "$t"
    if [[ $(cat "$LOGS/$t.log.rc" 2>/dev/null) != 0 ]]; then
        failed=1
    fi
done

known=$(grep -cvE '^[[:space:]]*(#|$)' "$FUZZ/ubsan.supp" 2>/dev/null || true)
if ((known > 0)); then
    printf '\nnote: %s known UBSan report(s) suppressed by fuzz/ubsan.supp\n' "$known"
fi

if ((failed)); then
    for t in "${TARGETS[@]}"; do
        [[ $(cat "$LOGS/$t.log.rc" 2>/dev/null) == 0 ]] && continue
        printf '\n==== fuzz_%s failed (log: %s) ====\n' "$t" "$LOGS/$t.log"
        grep -E -A25 'ERROR: |runtime error|==mcp-fuzz==|deadly signal|Timeout|out-of-memory' \
            "$LOGS/$t.log" | head -60
        ls "$OUT/artifacts/$t/" 2>/dev/null | sed 's/^/  artifact: /'
    done
    exit 1
fi
