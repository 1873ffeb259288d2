#!/usr/bin/env bash
# Install the built one-folder app (packaging/build.sh) for one user, or system-wide with
# --prefix /usr/local (as root): the app folder, a `vaestudio` command, the .desktop entry and
# the icon, so the app shows up in the desktop's launcher with its icon.
#
# Usage: packaging/install-desktop.sh [--app DIR] [--prefix DIR] [--uninstall]
#   --app DIR     the built app folder (default /tmp/vaestudio-build/dist/vaestudio)
#   --prefix DIR  where to install (default ~/.local):
#                   PREFIX/lib/vaestudio/                             the app folder
#                   PREFIX/bin/vaestudio                              a link to its executable
#                   PREFIX/share/applications/vaestudio.desktop       the launcher entry
#                   PREFIX/share/icons/hicolor/scalable/apps/vaestudio.svg
#   --uninstall   remove those again
#
# The entry is packaging/vaestudio.desktop with Exec and TryExec pointing at the installed
# executable (the pip install's entry runs `vaestudio-gui`, which the frozen app does not have:
# its one executable opens the window when given no arguments). The icon name `vaestudio`
# matches what the window announces (QGuiApplication.setDesktopFileName), so Wayland docks
# pair the running window with the entry.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APP_DIR=/tmp/vaestudio-build/dist/vaestudio
PREFIX=$HOME/.local
UNINSTALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --app) APP_DIR=${2:?--app needs a folder}; shift 2 ;;
        --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 0 ;;
        *) echo "install-desktop.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done

LIB=$PREFIX/lib/vaestudio
BIN=$PREFIX/bin/vaestudio
DESKTOP=$PREFIX/share/applications/vaestudio.desktop
ICON=$PREFIX/share/icons/hicolor/scalable/apps/vaestudio.svg

refresh_caches() {
    update-desktop-database "$PREFIX/share/applications" 2>/dev/null || true
    gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" 2>/dev/null || true
}

if [ "$UNINSTALL" = 1 ]; then
    rm -rf "$LIB"
    rm -f "$BIN" "$DESKTOP" "$ICON"
    refresh_caches
    echo "removed VAE Studio from $PREFIX"
    exit 0
fi

if [ ! -x "$APP_DIR/vaestudio" ]; then
    echo "install-desktop.sh: no built app at $APP_DIR (run packaging/build.sh first, or pass --app)" >&2
    exit 2
fi

mkdir -p "$PREFIX/lib" "$PREFIX/bin"
rm -rf "$LIB.new"
cp -a "$APP_DIR" "$LIB.new"
rm -rf "$LIB"
mv "$LIB.new" "$LIB"
ln -sfn "$LIB/vaestudio" "$BIN"

# Exec/TryExec take the absolute path: ~/.local/bin is often not on the PATH a desktop session
# hands to its launcher.
install -d "$(dirname "$DESKTOP")"
sed -e "s|^Exec=.*|Exec=$LIB/vaestudio|" -e "s|^TryExec=.*|TryExec=$LIB/vaestudio|" \
    "$ROOT/packaging/vaestudio.desktop" > "$DESKTOP"
chmod 644 "$DESKTOP"
install -Dm644 "$ROOT/resources/vaestudio.svg" "$ICON"
refresh_caches
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$DESKTOP"
fi
echo "installed VAE Studio: $BIN, $DESKTOP, $ICON"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "note: $PREFIX/bin is not on PATH; the launcher entry works regardless" ;;
esac
