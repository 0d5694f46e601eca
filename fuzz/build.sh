#!/usr/bin/env bash
# Builds the libFuzzer harnesses of ngx_mcp_oauth_module into build/fuzz/.
#
#   fuzz/build.sh [--with-nginx=DIR] [TARGET...]   all targets when none is named
#
# Each harness is linked with nginx's own objects, compiled once from a real
# nginx source tree into build/fuzz/nginx-objs/ (see "nginx" below: DIR, or
# NGX_SOURCE=DIR, else Debian's source package of nginx-dev).
#
# Environment: CC (default clang), FUZZ_CFLAGS (added to the harnesses'
# flags), FUZZ_SANITIZE (default "-fsanitize=address,undefined
# -fsanitize-recover=undefined": nginx's objects and the harnesses),
# FUZZ_OUT (default build/fuzz: binaries, generated data, nginx-objs/),
# NGX_SOURCE (an nginx source tree), NGINX_TARBALLS (a folder of nginx.org
# tarballs, the last resort).
set -euo pipefail

FUZZ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$FUZZ")
MOD=$ROOT/ngx_mcp_oauth_module
DATA=$ROOT/t/data
FUZZ_BUILD=$ROOT/build/fuzz
OUT=${FUZZ_OUT:-$FUZZ_BUILD}
SRC=$FUZZ_BUILD/nginx-src
NGX_OBJS=$OUT/nginx-objs
NGINX_DIR=${NGX_SOURCE:-}
SCRATCH=          # a download or unpacking folder, removed on exit
SANITIZE=${FUZZ_SANITIZE--fsanitize=address,undefined -fsanitize-recover=undefined}
# nginx's objects and the harnesses; NGX_DEBUG_PALLOC: every pool allocation
# is its own malloc(), so ASan sees a one-byte overflow of any of them
CFLAGS_COMMON="-g -O1 -fno-omit-frame-pointer $SANITIZE -DNGX_DEBUG_PALLOC=1"
CC=${CC:-clang}

TARGETS=(json_scan json_tools json_members jwt_parse jwks_parse token filter
         as_params registration pages resp rsa)

log() { printf '==> %s\n' "$*" >&2; }

# the module sources each harness links (the parsers; filter and token
# #include or compile their own file)
srcs_for() {
    case $1 in
        json_scan|json_tools|json_members)
            echo "$MOD/base/ngx_http_mcp_oauth_json.c" ;;
        jwt_parse|jwks_parse)
            echo "$MOD/base/ngx_http_mcp_oauth_json.c $MOD/base/ngx_http_mcp_oauth_jwt.c $MOD/base/ngx_http_mcp_oauth_jwks.c $MOD/base/ngx_http_mcp_oauth_rsa.c $MOD/base/ngx_http_mcp_oauth_string.c" ;;
        token)
            echo "$MOD/rs/ngx_http_mcp_oauth_bearer.c" ;;
        filter)
            echo "$MOD/base/ngx_http_mcp_oauth_json.c" ;;
        as_params|registration)
            echo "$MOD/as/ngx_http_mcp_oauth_as_parse.c $MOD/base/ngx_http_mcp_oauth_string.c $MOD/base/ngx_http_mcp_oauth_jwks.c $MOD/base/ngx_http_mcp_oauth_rsa.c" ;;
        pages)
            echo "$MOD/as/ngx_http_mcp_oauth_page.c" ;;
        resp)
            echo "$MOD/state/ngx_http_mcp_oauth_resp.c" ;;
        rsa)
            echo "$MOD/base/ngx_http_mcp_oauth_rsa.c" ;;
        *)
            echo "unknown target $1" >&2; return 1 ;;
    esac
}

# ---- nginx: a real source tree, configured and compiled once ----------
#
# The harnesses link nginx's own objects (ngx_palloc.o, ngx_string.o, ...)
# from an archive, so only the ones the parsers reach are linked; nginx.o
# (main) is left out, and fuzz/ngx_stubs.c defines the two symbols that
# would pull in nginx's cycle and log (and with them all of nginx).
# The tree comes from, in order: --with-nginx=DIR or NGX_SOURCE=DIR (copied,
# the tree itself is not written to); the copy cached in build/fuzz/
# nginx-src/; Debian's source package of the nginx-dev the module builds
# against (apt-get source); an nginx.org tarball from NGINX_TARBALLS or
# ../shared/nginx, the same version if there, else the newest.

# the version of the nginx-dev the module builds against, if installed
debian_version() {
    dpkg-query -W -f='${Version}' nginx-dev 2>/dev/null || true
}

# $SRC becomes a copy of the nginx tree $1; $2 says where it came from
install_tree() {
    if [[ ! -f $1/src/core/ngx_palloc.c ]] || [[ ! -f $1/configure && ! -f $1/auto/configure ]]; then
        echo "$1 is not an nginx source tree (no configure or src/core/ngx_palloc.c)" >&2
        exit 1
    fi
    rm -rf "$SRC" "$SRC.origin" "$SRC.new"
    mkdir -p "$SRC.new"
    (cd "$1" && tar --exclude=./objs -cf - .) | tar -xf - -C "$SRC.new"
    mv "$SRC.new" "$SRC"
    echo "$2" >"$SRC.origin"
}

# (grep reads all: with pipefail, -q would fail apt-cache with SIGPIPE)
apt_knows_nginx() {
    apt-cache showsrc nginx 2>/dev/null | grep '^Package: nginx$' >/dev/null
}

# Debian's own apt entries as deb-src (a Debian 12 system has them in
# debian.sources; else deb.debian.org for this release)
deb_src_entry() {
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources
        return
    fi
    # shellcheck disable=SC1091
    . /etc/os-release
    [[ $ID == debian && -n $VERSION_CODENAME ]] || return 1
    printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' \
        "Suites: $VERSION_CODENAME $VERSION_CODENAME-updates" 'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' '' \
        'Types: deb-src' 'URIs: http://deb.debian.org/debian-security' \
        "Suites: $VERSION_CODENAME-security" 'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
}

# a deb-src entry, in a file of ours, when apt knows no nginx source package
apt_deb_src() {
    local list=/etc/apt/sources.list.d/mcp-oauth-deb-src.sources sudo='' entry
    apt_knows_nginx && return 0
    if [[ $(id -u) != 0 ]]; then
        if ! sudo -n true 2>/dev/null; then
            log "apt has no deb-src entry, and adding one needs root"
            return 1
        fi
        sudo=sudo
    fi
    if [[ ! -f $list ]]; then
        if ! entry=$(deb_src_entry); then
            log "not Debian: no deb-src entry to add"
            return 1
        fi
        printf '%s\n' "$entry" | $sudo tee "$list" >/dev/null
        log "added $list"
    fi
    log "apt-get update"
    $sudo apt-get update -qq >>"$FUZZ_BUILD/apt-source.log" 2>&1 || true
    apt_knows_nginx
}

# Debian's source package: nginx-dev's version, else the others apt knows,
# newest first (a mirror may lack the .dsc of one)
apt_source() {
    local v
    if ! command -v apt-get >/dev/null || ! command -v dpkg-source >/dev/null; then
        log "no apt-get or dpkg-source (dpkg-dev)"
        return 1
    fi
    : >"$FUZZ_BUILD/apt-source.log"
    apt_deb_src || return 1
    SCRATCH=$(mktemp -d "$FUZZ_BUILD/apt.XXXXXX")
    for v in $( { debian_version; echo
                  apt-cache showsrc nginx | sed -n 's/^Version: //p' | sort -rV; } \
                | awk 'NF && !seen[$0]++'); do
        log "apt-get source nginx=$v"
        if (cd "$SCRATCH" && apt-get source -q "nginx=$v") >>"$FUZZ_BUILD/apt-source.log" 2>&1; then
            install_tree "$(echo "$SCRATCH"/nginx-*/)" "apt-get source nginx=$v"
            rm -rf "$SCRATCH"
            return 0
        fi
        rm -rf "${SCRATCH:?}"/*
    done
    rm -rf "$SCRATCH"
    log "apt-get source nginx failed (log: build/fuzz/apt-source.log)"
    return 1
}

# an nginx.org tarball: nginx-dev's version if there, else the newest
tarball_source() {
    local want d f tgz='' all=()
    want=$(debian_version)
    want=${want%%-*}
    for d in ${NGINX_TARBALLS:-} "$ROOT/../shared/nginx"; do
        for f in "$d"/nginx-*.tar.gz; do
            [[ ! -f $f ]] || all+=("$f")
        done
    done
    for f in "${all[@]}"; do
        [[ ${f##*/} != "nginx-$want.tar.gz" ]] || tgz=$f
    done
    [[ -n $tgz ]] || tgz=$(for f in "${all[@]}"; do echo "${f##*/} $f"; done \
                           | sort -V | tail -1 | cut -d' ' -f2)
    [[ -n $tgz ]] || return 1
    log "nginx source from $tgz${want:+ (nginx-dev is $want)}"
    SCRATCH=$(mktemp -d "$FUZZ_BUILD/tgz.XXXXXX")
    tar -xzf "$tgz" -C "$SCRATCH"
    install_tree "$(echo "$SCRATCH"/nginx-*/)" "$tgz"
    rm -rf "$SCRATCH"
}

nginx_source() {
    if [[ -n $NGINX_DIR ]]; then
        local origin
        origin=$(cd "$NGINX_DIR" && pwd)
        [[ $origin == "$SRC" || ( -f $SRC.origin && $(cat "$SRC.origin") == "$origin" ) ]] \
            || install_tree "$origin" "$origin"
    elif [[ ! -f $SRC.origin ]]; then
        apt_source || tarball_source || {
            echo "no nginx source tree: apt-get source nginx failed" \
                 "(build/fuzz/apt-source.log) and there is no nginx-*.tar.gz in" \
                 "${NGINX_TARBALLS:-} $ROOT/../shared/nginx; give one with" \
                 "fuzz/build.sh --with-nginx=DIR or NGX_SOURCE=DIR" >&2
            exit 1; }
    fi
    log "nginx source: build/fuzz/nginx-src ($(cat "$SRC.origin"))"
}

# nginx's configure flags: Debian's (the module's build), without the paths
conf_flags() {
    local f NGX_CONF_FLAGS=(--with-compat --with-debug --with-threads
        --with-http_ssl_module --with-http_v2_module --with-http_realip_module)
    # shellcheck disable=SC1091
    [[ ! -f /usr/share/nginx/src/conf_flags ]] || . /usr/share/nginx/src/conf_flags
    for f in "${NGX_CONF_FLAGS[@]}"; do
        if [[ $f == --with* ]]; then echo "$f"; fi
    done
}

# $NGX_OBJS/libnginx.a: every object of the tree but nginx.o (main),
# instrumented for libFuzzer and the sanitizers
nginx_objs() {
    local flags stamp configure=./configure cc_opt="$CFLAGS_COMMON -fsanitize=fuzzer-no-link"
    mapfile -t flags < <(conf_flags)
    stamp="$(cat "$SRC.origin") $CC $cc_opt ${flags[*]}"
    if [[ -f $NGX_OBJS/libnginx.a && $(cat "$NGX_OBJS/stamp" 2>/dev/null) == "$stamp" ]]; then
        return
    fi
    log "compiling nginx (once; log: ${NGX_OBJS#"$ROOT/"}.log)"
    rm -rf "$NGX_OBJS"
    # configure runs its test programs with the sanitizers: no leak reports
    # (a tarball has ./configure, a clone of nginx's repository auto/configure)
    [[ -f $SRC/configure ]] || configure=auto/configure
    (cd "$SRC" && ASAN_OPTIONS=detect_leaks=0 $configure --with-cc="$CC" \
            --with-cc-opt="$cc_opt" --with-ld-opt="-fsanitize=fuzzer-no-link $SANITIZE" \
            "${flags[@]}" --builddir="$NGX_OBJS" \
        && make -f "$NGX_OBJS/Makefile" -j"$(nproc)" binary) >"$NGX_OBJS.log" 2>&1 || {
        tail -30 "$NGX_OBJS.log" >&2; exit 1; }
    find "$NGX_OBJS" -name '*.o' ! -path "$NGX_OBJS/src/core/nginx.o" -print0 \
        | xargs -0 ar rcs "$NGX_OBJS/libnginx.a.new"
    mv "$NGX_OBJS/libnginx.a.new" "$NGX_OBJS/libnginx.a"
    echo "$stamp" >"$NGX_OBJS/stamp"
}

# nginx's include path (ALL_INCS) and libraries, from its Makefile
nginx_flags() {
    local d
    sed -n '/^ALL_INCS = /,/^$/p' "$NGX_OBJS/Makefile" | tr -s ' \t\\' '\n' \
        | sed -n '/^-I$/{n;p}' | while read -r d; do
            if [[ $d == /* ]]; then echo "-I$d"; else echo "-I$SRC/$d"; fi
        done
    sed -n '/$(LINK) -o/,/^$/p' "$NGX_OBJS/Makefile" | tr -s ' \t\\' '\n' | grep -E '^-l' || true
}

# (temporary files carry $$: two builds may run at once, e.g. run.sh from
# ./build.sh test next to a long fuzzing run)

# bytes of a file as a C initializer
c_bytes() {
    od -An -v -tx1 "$1" | sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^ *//'
}

# t/data, embedded: key sets, the signing inputs of every test token, and a
# few whole tokens (the key sets then need no path at run time)
gen_data() {
    local h=$OUT/gen/mcp_fuzz_data.h tmp f n=0 base si
    mkdir -p "$OUT/gen"
    tmp=$(mktemp -d)
    {
        echo "/* generated by fuzz/build.sh from t/data: do not edit */"
        echo
        for f in main oct nokid rotated; do
            echo "static const unsigned char mcp_fuzz_jwks_$f[] = {"
            c_bytes "$DATA/jwks/$f.json"
            echo "};"
            echo
        done

        echo "typedef struct { const char *name; const unsigned char *data; size_t len; } mcp_fuzz_blob_t;"
        echo

        # "header.payload" of every token file with two dots or more
        local names=()
        for f in "$DATA"/tokens/*.jwt; do
            si=$(cut -d. -f1-2 <"$f")
            [[ $si == *.* ]] || continue
            printf '%s' "$si" >"$tmp/si"
            echo "static const unsigned char mcp_fuzz_si_$n[] = {"
            c_bytes "$tmp/si"
            echo "};"
            names+=("$(basename "$f")")
            n=$((n + 1))
        done
        echo
        echo "#define MCP_FUZZ_SIGNING_INPUTS  $n"
        echo "static const mcp_fuzz_blob_t mcp_fuzz_signing_inputs[] = {"
        for ((i = 0; i < n; i++)); do
            echo "    { \"${names[$i]}\", mcp_fuzz_si_$i, sizeof(mcp_fuzz_si_$i) },"
        done
        echo "};"
        echo

        # whole tokens, one per algorithm family, for the JWKS harness
        n=0
        names=()
        for base in rs256 ps256 es256 es384 es512 eddsa hs256; do
            f=$DATA/tokens/$base.jwt
            [[ -f $f ]] || continue
            echo "static const unsigned char mcp_fuzz_tok_$n[] = {"
            c_bytes "$f"
            echo "};"
            names+=("$base.jwt")
            n=$((n + 1))
        done
        echo
        echo "#define MCP_FUZZ_TOKENS  $n"
        echo "static const mcp_fuzz_blob_t mcp_fuzz_tokens[] = {"
        for ((i = 0; i < n; i++)); do
            echo "    { \"${names[$i]}\", mcp_fuzz_tok_$i, sizeof(mcp_fuzz_tok_$i) },"
        done
        echo "};"
    } >"$h.new.$$"
    rm -rf "$tmp"
    if cmp -s "$h.new.$$" "$h"; then rm -f "$h.new.$$"; else mv "$h.new.$$" "$h"; fi
}

build_target() {
    local t=$1 srcs bin=$OUT/fuzz_$t
    srcs=$(srcs_for "$t")
    local inc=("${NGX_INCS[@]}"
               -I"$MOD" -I"$MOD/base" -I"$MOD/state" -I"$MOD/rs" -I"$MOD/as"
               -I"$FUZZ" -I"$OUT/gen")
    # shellcheck disable=SC2086,SC2206
    local flags=($CFLAGS_COMMON -fsanitize=fuzzer
                 -DMCP_FUZZ_UBSAN_SUPP="\"$FUZZ/ubsan.supp\""
                 -DMCP_FUZZ_KEYS="\"$DATA/keys\""
                 -Wall -Wno-unused-parameter -Wno-unused-function ${FUZZ_CFLAGS:-})
    log "fuzz_$t"
    # shellcheck disable=SC2086
    "$CC" "${flags[@]}" "${inc[@]}" -o "$bin.new.$$" \
        "$FUZZ/fuzz_$t.c" "$FUZZ/ngx_stubs.c" $srcs \
        "$NGX_OBJS/libnginx.a" "${NGX_LIBS[@]}" -lcrypto -ljansson
    mv "$bin.new.$$" "$bin"
}

main() {
    local targets=() t
    for t in "$@"; do
        case $t in
            --with-nginx=*) NGINX_DIR=${t#--with-nginx=} ;;
            *)              targets+=("$t") ;;
        esac
    done
    ((${#targets[@]})) || targets=("${TARGETS[@]}")
    command -v "$CC" >/dev/null || { echo "$CC not found (apt-get install clang)" >&2; exit 1; }
    mkdir -p "$FUZZ_BUILD" "$OUT"
    # one build at a time (./build.sh test may run next to a long fuzzing run)
    trap 'rm -rf "$SCRATCH"' EXIT
    exec 9>"$FUZZ_BUILD/build.lock"
    flock 9
    nginx_source
    nginx_objs
    mapfile -t NGX_INCS < <(nginx_flags | grep '^-I')
    mapfile -t NGX_LIBS < <(nginx_flags | grep '^-l')
    gen_data
    for t in "${targets[@]}"; do
        build_target "$t"
    done
}

main "$@"
