#!/bin/sh
# Builds the pieces of the cgroup v2 VM test under $OUT (default target/vm):
#   vmlinuz    a Debian cloud kernel (apt-get download linux-image-cloud-amd64's dependency)
#   initrd.gz  busybox-static, the release judge with its libraries, static test programs,
#              tests/vm/init as /init
# Needs: apt-get (only when the kernel is not there yet), dpkg-deb, busybox-static, gcc with
# static libc, cpio, gzip. Prints the paths on success; exits non-zero with a message otherwise.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/target/vm}
JUDGE=${JUDGE:-$ROOT/target/release/judge}
mkdir -p "$OUT"

die() { echo "build.sh: $*" >&2; exit 1; }
for t in dpkg-deb gzip gcc ldd; do command -v $t >/dev/null || die "missing tool: $t"; done
[ -x /bin/busybox ] && file_busybox=/bin/busybox || file_busybox=
[ -n "$file_busybox" ] || die "missing /bin/busybox (apt-get install busybox-static)"
ldd "$file_busybox" 2>&1 | grep -q 'not a dynamic' || die "/bin/busybox is not static (apt-get install busybox-static)"
[ -x "$JUDGE" ] || die "missing $JUDGE (cargo build --release)"

# --- kernel -----------------------------------------------------------------------------------
if [ ! -s "$OUT/vmlinuz" ]; then
    command -v apt-get >/dev/null || die "no kernel at $OUT/vmlinuz and no apt-get to fetch one"
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image/{print $2; exit}')
    [ -n "$pkg" ] || die "apt-cache knows no linux-image-cloud-amd64 (apt-get update?)"
    rm -rf "$OUT/kdeb" && mkdir -p "$OUT/kdeb"
    (cd "$OUT/kdeb" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
    dpkg-deb -x "$OUT"/kdeb/*.deb "$OUT/kdeb/x"
    cp "$OUT"/kdeb/x/boot/vmlinuz-* "$OUT/vmlinuz"
    cp "$OUT"/kdeb/x/boot/config-* "$OUT/kernel.config"
    rm -rf "$OUT/kdeb"
fi

# --- initramfs --------------------------------------------------------------------------------
R=$OUT/rootfs
rm -rf "$R"
mkdir -p "$R/usr/bin" "$R/usr/sbin" "$R/usr/lib/x86_64-linux-gnu" "$R/usr/lib64" "$R/usr/local/bin" \
    "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/run" "$R/progs" "$R/newroot" "$R/var/tmp"
ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
cp "$file_busybox" "$R/usr/bin/busybox"
for a in $("$file_busybox" --list); do
    [ "$a" = busybox ] || ln -s busybox "$R/usr/bin/$a"
done
cp "$JUDGE" "$R/usr/local/bin/judge"
# The judge's libraries and the loader, where ldd finds them (the /lib* symlinks are usr-merged).
for lib in $(ldd "$JUDGE" | awk '/=>/{print $3} $1 ~ /^\//{print $1}'); do
    real=$(readlink -f "$lib")
    case "$lib" in
        /lib64/*) dest=$R/usr/lib64/$(basename "$lib") ;;
        /lib/*) dest=$R/usr/lib/${lib#/lib/} ;;
        /usr/lib/*|/usr/lib64/*) dest=$R$lib ;;
        *) die "unexpected library path $lib" ;;
    esac
    mkdir -p "$(dirname "$dest")"; cp "$real" "$dest"
done
[ -f /etc/ld.so.cache ] && cp /etc/ld.so.cache "$R/etc/"
cat > "$R/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
P
cat > "$R/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
echo 'passwd: files' > "$R/etc/nsswitch.conf"
echo '127.0.0.1 localhost' > "$R/etc/hosts"

for p in spin memhog forkbomb flood whoami sleep_ms net threads childspin ps blocked daemon setxattr; do
    gcc -O2 -static -pthread -o "$R/progs/$p" "$ROOT/tests/programs/$p.c" || die "gcc -static $p.c failed (libc6-dev?)"
done
cp "$ROOT/tests/vm/init" "$R/init"; chmod 755 "$R/init"

# GNU cpio when installed, else busybox's (-o -H newc, names on stdin one per line).
if command -v cpio >/dev/null; then CPIO="cpio --quiet"; else CPIO="$file_busybox cpio"; fi
(cd "$R" && find . | $CPIO -o -H newc) | gzip -1 > "$OUT/initrd.gz"
echo "kernel: $OUT/vmlinuz"
echo "initrd: $OUT/initrd.gz ($(du -h "$OUT/initrd.gz" | cut -f1))"
