#!/usr/bin/env bash
# make deb: builds dist/stepworker_<version>_<arch>.deb and checks it with lintian.
#
# The binary is a release build with the Swift standard library linked in statically (no Swift
# toolchain needed where it runs), in its own scratch path (.build-release) so it never fights
# the debug build. The version comes from one place, StepworkerVersion.string in
# Sources/stepworker/StepworkerCommand.swift; packaging/deb/changelog must start with it.
# Package layout and maintainer scripts: packaging/deb/ (see docs/systemd.md, "Packaging").
#
# Environment: SWIFT (default swift), DIST (output folder, default dist),
# LINTIAN=0 skips lintian. Progress goes to stderr; the one line on stdout is the .deb's path.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 3>&1 1>&2

SWIFT=${SWIFT:-swift}
DIST=${DIST:-dist}
STAGE=.build-deb
LINTIAN=${LINTIAN:-1}

say() { printf 'build-deb: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

version=$(sed -n 's/^ *static let string = "\([^"]*\)".*/\1/p' Sources/stepworker/StepworkerCommand.swift)
[ -n "$version" ] || die "no StepworkerVersion.string in Sources/stepworker/StepworkerCommand.swift"
changelog_version=$(sed -n '1s/^stepworker (\([^)]*\)).*/\1/p' packaging/deb/changelog)
[ "$changelog_version" = "$version" ] ||
    die "packaging/deb/changelog starts with $changelog_version, the binary says $version: add a changelog entry"

scripts/install-deps.sh deb
arch=$(dpkg --print-architecture)

# The flags (scripts/release-flags, which make bench uses too): release, the Swift standard
# library linked in, -Osize (issue 12: 1.8 MB less binary, no more CPU per task in make bench).
read -r -a release_flags <scripts/release-flags
say "release build of stepworker $version (${release_flags[*]})"
start=$(date +%s)
"$SWIFT" build "${release_flags[@]}" --product stepworker
bin="$("$SWIFT" build "${release_flags[@]}" --show-bin-path)/stepworker"
say "release build took $(($(date +%s) - start)) s"
binary_version=$("$bin" --version)
[ "$binary_version" = "$version" ] || die "$bin --version says '$binary_version', expected '$version'"

root="$STAGE/root"
rm -rf "$STAGE"
mkdir -p "$root/DEBIAN" "$DIST"

# The binary, stripped as dh_strip does (the Swift metadata sections stay: strip only drops
# symbol tables, .comment and .note). make bench's size row strips with the same flags
# (Sources/stepworker-bench/Bench+Size.swift): change both together.
install -D -m 0755 "$bin" "$root/usr/bin/stepworker"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/stepworker"

# systemd: the unit (bookworm's systemd reads /lib/systemd/system), the user, the state dir.
install -D -m 0644 packaging/systemd/stepworker.service "$root/lib/systemd/system/stepworker.service"
install -D -m 0644 packaging/sysusers.d/stepworker.conf "$root/usr/lib/sysusers.d/stepworker.conf"
install -D -m 0644 packaging/tmpfiles.d/stepworker.conf "$root/usr/lib/tmpfiles.d/stepworker.conf"

# Example handlers, and the example configuration as the conffile, with the handlers' paths
# turned from repository-relative into the installed ones. A change to the example's comment
# or paths that the edit below no longer matches fails the build instead of shipping stale text.
examples=/usr/share/stepworker/examples/handlers
for handler in examples/handlers/*; do
    install -D -m 0755 "$handler" "$root$examples/$(basename "$handler")"
done
conf="$root/etc/stepworker/stepworker.toml"
mkdir -p "$(dirname "$conf")"
sed -e "s|\"\\.\\./\\.\\./examples/handlers/|\"$examples/|" \
    -e 's|^\(# stepworker configuration: .*\) See docs/configuration.md.$|\1 See /usr/share/doc/stepworker/docs/configuration.md.|' \
    -e 's|^# This example runs from the repository as it is: its handlers are the ones in$|# Installed by the stepworker package: the activities below are examples (their handlers are|' \
    -e "s|^# examples/handlers/, named relative to this file's directory.\$|# in $examples/). Replace them with yours, then run \`stepworker check\`.|" \
    etc/stepworker/stepworker.toml >"$conf"
chmod 0644 "$conf"
if grep -q '\.\./' "$conf" || ! grep -q "^# Installed by the stepworker package" "$conf" ||
    ! grep -q "\"$examples/" "$conf"; then
    die "etc/stepworker/stepworker.toml changed shape: update the sed edit in scripts/build-deb.sh"
fi

# Prometheus recording rules and alerts (docs/metrics.md), and their promtool unit tests so an
# edited copy can be tested again. In /usr/share/stepworker rather than /usr/share/doc: a
# prometheus.yml loads the file from there (rule_files), and /usr/share/doc may be excluded
# (dpkg path-exclude) on minimal systems.
for rules in packaging/prometheus/stepworker.rules.yml packaging/prometheus/stepworker.rules.test.yml; do
    install -D -m 0644 "$rules" "$root/usr/share/stepworker/prometheus/$(basename "$rules")"
done

# Documentation: copyright, changelog, README and docs, the man page.
doc="$root/usr/share/doc/stepworker"
install -D -m 0644 packaging/deb/copyright "$doc/copyright"
# A native package (the packaging lives with the code; no Debian revision): changelog.gz.
gzip -9n <packaging/deb/changelog >"$doc/changelog.gz"
install -m 0644 README.md "$doc/README.md"
install -D -m 0644 -t "$doc/docs" docs/*.md
mkdir -p "$root/usr/share/man/man1"
sed "s/@VERSION@/$version/" packaging/deb/stepworker.1 | gzip -9n >"$root/usr/share/man/man1/stepworker.1.gz"
if [ -f packaging/deb/lintian-overrides ]; then
    install -D -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/stepworker"
fi

# Control files.
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
install -m 0644 packaging/deb/conffiles "$root/DEBIAN/conffiles"

# Depends: from the shared libraries the binary links (dpkg-shlibdeps wants a debian/control),
# plus procps (control.in) for the unit's ExecReload=/bin/kill, which a minimal Debian lacks.
shlib="$STAGE/shlibdeps"
mkdir -p "$shlib/debian"
printf 'Source: stepworker\n\nPackage: stepworker\nArchitecture: any\n' >"$shlib/debian/control"
depends=$(cd "$shlib" && dpkg-shlibdeps -O -e"$OLDPWD/$root/usr/bin/stepworker" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies for usr/bin/stepworker"
case "$depends" in *libsystemd0*) ;; *) die "Depends lacks libsystemd0: $depends" ;; esac
rm -rf "$shlib"

installed_size=$(du -s --apparent-size --block-size=1024 --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" packaging/deb/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"

deb="$DIST/stepworker_${version}_${arch}.deb"
start=$(date +%s)
# xz at its highest level: 1% smaller than dpkg-deb's default (xz -6) for a few more seconds.
dpkg-deb --root-owner-group -Zxz -z9 --build "$root" "$deb" >/dev/null
say "dpkg-deb took $(($(date +%s) - start)) s"
say "built $deb ($(du -h "$deb" | cut -f1)); $(grep '^Depends:' "$root/DEBIAN/control")"

if [ "$LINTIAN" != 0 ]; then
    say "lintian $deb"
    start=$(date +%s)
    # spelling-error-in-binary (info) only finds typos in the strings of linked-in libraries.
    lintian --fail-on error --display-info --suppress-tags spelling-error-in-binary "$deb" ||
        die "lintian reports errors"
    say "lintian: no errors ($(($(date +%s) - start)) s)"
fi
echo "$deb" >&3
