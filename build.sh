#!/usr/bin/env bash
# ngx_mcp_oauth_module build and test entry point.
#
#   ./build.sh [build] [--with-nginx=DIR]  build build/ngx_http_mcp_oauth_module.so
#   ./build.sh deps                        install Debian and npm packages
#   ./build.sh test [--valgrind]           deps + build + every suite
#   ./build.sh demo [--iam]                deps + build + the demo on 127.0.0.1:8080
#                                          (--iam: in front of an IAM on 127.0.0.1:8082)
#   ./build.sh fuzz [SECONDS]              deps + every libFuzzer harness, long
#   ./build.sh deb                         deps + build/libnginx-mod-http-mcp-oauth_*.deb
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD="$ROOT/build"
MODULE="$BUILD/ngx_http_mcp_oauth_module.so"

DEBS=(perl curl nginx nginx-dev libssl-dev libjansson-dev build-essential
      dpkg-dev debhelper nodejs npm tini wrk valgrind clang libclang-rt-14-dev
      libtest-base-perl libtext-diff-perl libtest-longstring-perl
      libwww-perl liburi-perl libipc-run-perl liblist-moreutils-perl chromium)

log() { printf '==> %s\n' "$*" >&2; }

deps() {
    local missing=() p
    for p in "${DEBS[@]}"; do
        # node may come from elsewhere than Debian; only require it when absent
        if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null; then
            continue
        fi
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        # the Debian package starts a system nginx; it is not ours to run
        if systemctl is-active --quiet nginx 2>/dev/null; then
            $sudo systemctl stop nginx || true
        fi
    fi
    local d
    for d in t examples/demo; do
        if [[ -f $ROOT/$d/package-lock.json ]] && \
           { [[ ! -d $ROOT/$d/node_modules ]] || [[ $ROOT/$d/package-lock.json -nt $ROOT/$d/node_modules/.package-lock.json ]]; }; then
            log "npm ci in $d"
            (cd "$ROOT/$d" && npm ci --no-audit --no-fund --loglevel=error)
        fi
    done
}

build() {
    local nginx_src=/usr/share/nginx/src flags=()
    for a in "$@"; do
        case $a in
            --with-nginx=*) nginx_src=${a#--with-nginx=} ;;
        esac
    done
    mkdir -p "$BUILD"
    local cflags="-g -O2 -fPIC -Wall -Wextra -Werror -Wno-unused-parameter"
    if [[ $nginx_src == /usr/share/nginx/src ]]; then
        # the Debian recipe (Debian::Debhelper::Buildsystem::nginx_mod)
        # shellcheck disable=SC1091
        . "$nginx_src/conf_flags"
        flags=("${NGX_CONF_FLAGS[@]}")
        cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) $cflags"
    else
        flags=(--with-compat --with-http_ssl_module)
    fi
    log "configuring against $nginx_src"
    (cd "$nginx_src" && ./configure --with-cc-opt="$cflags" \
        --with-ld-opt="$(dpkg-buildflags --get LDFLAGS) -fPIC" \
        "${flags[@]}" --add-dynamic-module="$ROOT" \
        --builddir="$BUILD/objs" >"$BUILD/configure.log" 2>&1) || {
        tail -20 "$BUILD/configure.log" >&2; exit 1; }
    log "compiling"
    make -s -f "$BUILD/objs/Makefile" -C "$nginx_src" modules >"$BUILD/make.log" 2>&1 || {
        cat "$BUILD/make.log" >&2; exit 1; }
    # a new file, not rewritten in place: running nginx keep their copy
    cp "$BUILD/objs/ngx_http_mcp_oauth_module.so" "$MODULE.new"
    mv -f "$MODULE.new" "$MODULE"
    # the module must load into the nginx it was built for
    if [[ $nginx_src == /usr/share/nginx/src ]]; then
        printf 'load_module %s;\nevents {}\n' "$MODULE" >"$BUILD/load-test.conf"
        /usr/sbin/nginx -q -t -p "$BUILD" -c "$BUILD/load-test.conf" \
            -g "error_log /dev/stderr; pid $BUILD/nginx.pid;"
    fi
    log "built $MODULE"
}

run_tests() {
    local valgrind=0
    for a in "$@"; do [[ $a == --valgrind ]] && valgrind=1; done
    export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
    export TEST_NGINX_MODULE="$MODULE"
    export TEST_NGINX_DATA="$ROOT/t/data"
    if ((valgrind)); then
        export TEST_NGINX_USE_VALGRIND=1
        export TEST_NGINX_VALGRIND_SUPPRESS="$ROOT/t/valgrind.supp"
    fi
    if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
        export PERL5LIB="$ROOT/t/compat${PERL5LIB:+:$PERL5LIB}"
    fi
    log "Test::Nginx suites"
    (cd "$ROOT" && tini -s -- prove -r t/*.t)
    if compgen -G "$ROOT/t/e2e/*.test.mjs" >/dev/null; then
        log "end-to-end suites"
        (cd "$ROOT/t" && node --test e2e/)
    fi
    if [[ -x $ROOT/examples/demo/run.sh ]]; then
        log "demo self-check"
        DEMO_NO_WAIT=1 bash "$ROOT/examples/demo/run.sh"
        log "demo self-check, --iam"
        DEMO_NO_WAIT=1 bash "$ROOT/examples/demo/run.sh" --iam
    fi
    if [[ -f $ROOT/fuzz/run.sh ]]; then
        log "fuzz smoke (libFuzzer, a few seconds per parser)"
        bash "$ROOT/fuzz/run.sh" 5
    fi
}

deb_package() {
    # Debian's way (debian/, the nginx_mod build system of nginx-dev), out of
    # tree: a copy of the sources in build/deb/, so the work tree stays clean
    local pkg=libnginx-mod-http-mcp-oauth ver src out
    ver=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
    src="$BUILD/deb/$pkg-${ver%-*}"
    rm -rf "$BUILD/deb"
    mkdir -p "$src/examples"
    cp -a "$ROOT/config" "$ROOT/ngx_mcp_oauth_module" "$ROOT/debian" \
        "$ROOT/README.md" "$ROOT/LICENSE" "$ROOT/docs" "$src/"
    cp -a "$ROOT"/examples/*.conf "$src/examples/"
    log "dpkg-buildpackage $pkg $ver (log: build/deb/build.log)"
    (cd "$src" && dpkg-buildpackage -us -uc -b -Jauto) >"$BUILD/deb/build.log" 2>&1 || {
        tail -40 "$BUILD/deb/build.log" >&2; exit 1; }
    out=$(compgen -G "$BUILD/deb/${pkg}_${ver}_*.deb") || {
        echo "no ${pkg}_${ver}_*.deb in build/deb" >&2; exit 1; }
    rm -f "$BUILD/${pkg}"_*.deb
    mv "$out" "$BUILD/"
    log "built build/${out##*/} (debug symbols: build/deb/${pkg}-dbgsym_*.deb)"
}

cmd=${1:-build}
[[ $# -gt 0 ]] && shift
case $cmd in
    build)      build "$@" ;;
    --with-nginx=*) build "$cmd" "$@" ;;
    deps)       deps ;;
    test)       deps; build; run_tests "$@" ;;
    demo)       deps; build; exec bash "$ROOT/examples/demo/run.sh" "$@" ;;
    fuzz)       deps; build; exec bash "$ROOT/fuzz/run.sh" "${1:-600}" ;;
    deb)        deps; deb_package ;;
    *)          echo "usage: $0 [build [--with-nginx=DIR]] | deps | test [--valgrind] | demo [--iam] | fuzz [SECONDS] | deb" >&2; exit 2 ;;
esac
