#!/usr/bin/env bash
# ngx_mcp_oauth_module build and test entry point.
#
#   ./build.sh [build] [--with-nginx=DIR]  build build/ngx_http_mcp_oauth_module.so
#   ./build.sh deps                        install Debian and npm packages
#   ./build.sh test [--valgrind]           deps + build + every suite
#   ./build.sh test --nginx=VERSION [--asan]
#                                          the Test::Nginx suites against nginx
#                                          VERSION built from ../shared/nginx
#                                          (--asan: with ASan and UBSan)
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
      libwww-perl liburi-perl libipc-run-perl liblist-moreutils-perl chromium
      redis-server prometheus)

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
        # the Debian packages start a system nginx, redis and prometheus;
        # not ours to run
        for p in nginx redis-server prometheus; do
            if systemctl is-active --quiet "$p" 2>/dev/null; then
                $sudo systemctl stop "$p" || true
            fi
        done
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
    local nginx_src=/usr/share/nginx/src flags=() nginx=/usr/sbin/nginx
    for a in "$@"; do
        case $a in
            --with-nginx=*) nginx_src=${a#--with-nginx=}; nginx= ;;
        esac
    done
    mkdir -p "$BUILD"
    local cflags="-g -O2 -fPIC -Wall -Wextra -Werror -Wno-unused-parameter ${EXTRA_CFLAGS:-}"
    if [[ $nginx_src == /usr/share/nginx/src ]]; then
        # the Debian recipe (Debian::Debhelper::Buildsystem::nginx_mod)
        # shellcheck disable=SC1091
        . "$nginx_src/conf_flags"
        flags=("${NGX_CONF_FLAGS[@]}")
        cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) $cflags"
    else
        flags=("${NGINX_ORG_FLAGS[@]}")
        nginx=${NGINX_BIN:-}
    fi
    log "configuring against $nginx_src"
    (cd "$nginx_src" && ./configure --with-cc-opt="$cflags" \
        --with-ld-opt="$(dpkg-buildflags --get LDFLAGS) -fPIC ${EXTRA_LDFLAGS:-}" \
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
    if [[ -n $nginx ]]; then
        printf 'load_module %s;\nevents {}\n' "$MODULE" >"$BUILD/load-test.conf"
        "$nginx" -q -t -p "$BUILD" -c "$BUILD/load-test.conf" \
            -g "error_log /dev/stderr; pid $BUILD/nginx.pid;"
    fi
    log "built $MODULE"
}

# every Test::Nginx suite against $TEST_NGINX_BINARY (default Debian's nginx)
suites() {
    export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
    export TEST_NGINX_MODULE="$MODULE"
    export TEST_NGINX_DATA="$ROOT/t/data"
    local selftest=()
    if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
        export PERL5LIB="$ROOT/t/compat${PERL5LIB:+:$PERL5LIB}"
        selftest=(t/compat/selftest/)
    fi
    log "Test::Nginx suites ($("$TEST_NGINX_BINARY" -v 2>&1 | sed 's/.*: //'))"
    (cd "$ROOT" && tini -s -- prove -r t/*.t "${selftest[@]}")
    # the same flows with the authorization server's state in Redis (t/150
    # is the zone's own: a full zone)
    log "authorization server suites, state in Redis"
    (cd "$ROOT" && TEST_NGINX_STATE=redis tini -s -- prove \
        t/110-as-register.t t/120-as-authorize.t t/125-as-cimd.t \
        t/130-as-token.t t/140-as-revoke.t t/170-iam.t t/210-as-assertion.t \
        t/220-as-device.t t/230-as-consent.t)
}

run_tests() {
    local a
    for a in "$@"; do
        if [[ $a == --valgrind ]]; then
            export TEST_NGINX_USE_VALGRIND=1
            export TEST_NGINX_VALGRIND_SUPPRESS="$ROOT/t/valgrind.supp"
        fi
    done
    suites
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

# What nginx.org's packages and Docker images are configured with, as far as
# the suites use it; --with-compat gives the module their signature.
NGINX_ORG_FLAGS=(--with-compat --with-debug --with-threads
    --with-http_ssl_module --with-http_v2_module --with-http_realip_module
    --with-http_auth_request_module --with-http_stub_status_module
    --with-http_sub_module --with-http_gunzip_module)
NGINX_STABLE=1.30.4

nginx_tarball() {
    local d
    for d in ${NGINX_TARBALLS:-} "$ROOT/../shared/nginx"; do
        if [[ -f $d/nginx-$1.tar.gz ]]; then echo "$d/nginx-$1.tar.gz"; return; fi
    done
    echo "nginx-$1.tar.gz is not in ${NGINX_TARBALLS:-$ROOT/../shared/nginx}" \
         "(set NGINX_TARBALLS to the folder holding nginx.org tarballs)" >&2
    exit 1
}

# nginx VERSION from its nginx.org tarball, built into build/nginx-VERSION
# (-asan: with AddressSanitizer and UBSan), never installed; then the module
# against it. Sets TEST_NGINX_BINARY and MODULE.
nginx_org() {
    local ver=$1 asan=$2 dir src tarball cc= ld=
    dir="$BUILD/nginx-$ver"
    if ((asan)); then
        dir+=-asan
        ld="-fsanitize=address,undefined"
        # NGX_DEBUG_PALLOC: every pool allocation is its own malloc(), so
        # ASan sees overruns inside pool blocks too
        cc="$ld -fno-omit-frame-pointer -DNGX_DEBUG_PALLOC=1"
    fi
    src="$dir/nginx-$ver"
    if [[ ! -x $src/objs/nginx ]]; then
        tarball=$(nginx_tarball "$ver") || exit 1
        rm -rf "$dir"
        mkdir -p "$dir"
        tar -xzf "$tarball" -C "$dir"
        log "building nginx $ver${cc:+ with ASan and UBSan} (log: build/${dir##*/}/nginx.log)"
        # nginx's own memcpy(dst, NULL, 0) (ngx_pstrdup of an empty
        # string) is not checked in nginx, only in the module
        (cd "$src" && ./configure --prefix="$dir" "${NGINX_ORG_FLAGS[@]}" \
            --with-cc-opt="-g -O1 $cc${cc:+ -fno-sanitize=nonnull-attribute}" \
            --with-ld-opt="$ld" \
            && make -j"$(nproc)") >"$dir/nginx.log" 2>&1 || {
            tail -30 "$dir/nginx.log" >&2; exit 1; }
    fi
    export TEST_NGINX_BINARY="$src/objs/nginx"
    BUILD=$dir MODULE=$dir/ngx_http_mcp_oauth_module.so
    NGINX_BIN=$TEST_NGINX_BINARY EXTRA_CFLAGS=$cc EXTRA_LDFLAGS=$ld \
        build --with-nginx="$src"
}

# ./build.sh test [--valgrind] | test --nginx=VERSION [--asan] | test --asan
test_cmd() {
    local ver= asan=0 rest=() a reports
    for a in "$@"; do
        case $a in
            --nginx=*) ver=${a#--nginx=} ;;
            --asan)    asan=1 ;;
            *)         rest+=("$a") ;;
        esac
    done
    deps
    if [[ -z $ver ]] && ((!asan)); then
        build
        run_tests "${rest[@]}"
        return
    fi
    if ((asan)); then
        # a report, not the exit status, is what fails the run: a worker that
        # dies is restarted by the master and a test may not notice.
        # ngx_module_names is defined by nginx and by every dynamic module,
        # each for itself: not an ODR violation
        reports="$BUILD/sanitizer"
        rm -rf "$reports"
        mkdir -p "$reports"
        export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0:log_path=$reports/asan"
        export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan"
    fi
    nginx_org "${ver:-$NGINX_STABLE}" "$asan"
    suites
    # HTTP/2 is configured differently from 1.25.1 on ("http2 on")
    log "end-to-end over HTTP/2"
    (cd "$ROOT/t" && node --test e2e/http2.test.mjs)
    if ((asan)) && compgen -G "$reports/*" >/dev/null; then
        cat "$reports"/* >&2
        echo "sanitizer reports in $reports" >&2
        exit 1
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
    test)       test_cmd "$@" ;;
    demo)       deps; build; exec bash "$ROOT/examples/demo/run.sh" "$@" ;;
    fuzz)       deps; build; exec bash "$ROOT/fuzz/run.sh" "${1:-600}" ;;
    deb)        deps; deb_package ;;
    *)          echo "usage: $0 [build [--with-nginx=DIR]] | deps | test [--valgrind | --nginx=VERSION [--asan]] | demo [--iam] | fuzz [SECONDS] | deb" >&2; exit 2 ;;
esac
