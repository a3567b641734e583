#!/usr/bin/env bash
# Makes Tinker's Python SDK importable for scripts/tinker-sdk-check.py where there is no PyPI, without installing
# anything: the SDK's own src/ from a checkout you give, and the dependencies python3 lacks from Debian 12's packages,
# unpacked (not installed, so the trainer's /usr/bin/python3 is untouched) and linked into one folder for PYTHONPATH.
# docs/training.md ("Checking with the real SDK") says which versions this gave and what the check found.
#
#   scripts/tinker-sdk-env.sh SDK_CHECKOUT OUT_DIR      (run `apt-get update` once before)
#   PYTHONPATH=OUT_DIR/path python3 scripts/tinker-sdk-check.py --base-model .evolver/models/tiny
#   PYTHONPATH=OUT_DIR/path:OUT_DIR/path-torch ...      (adds Debian's torch, for forward_backward_custom)
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SDK_CHECKOUT OUT_DIR" >&2
  exit 2
fi
sdk=$(realpath "$1")
out=$(realpath -m "$2")
if [ ! -f "$sdk/pyproject.toml" ] || [ ! -d "$sdk/src/tinker" ]; then
  echo "$sdk is not a checkout of Tinker's Python SDK (no pyproject.toml and src/tinker there)" >&2
  exit 2
fi
# the SDK's models need pydantic 2; Debian 12's python3-pydantic is 1.10, so it must come with python3 itself
if ! python3 -c 'import pydantic, sys; sys.exit(not pydantic.VERSION.startswith("2"))' 2>/dev/null; then
  echo "$(command -v python3) has no pydantic 2, which the SDK needs and Debian 12 does not package" >&2
  exit 2
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$sdk/pyproject.toml" | head -n 1)

# Python module -> the Debian package that holds it; a module python3 already imports is taken from python3
modules=(httpx:python3-httpx httpcore:python3-httpcore h11:python3-h11 h2:python3-h2 hpack:python3-hpack
  hyperframe:python3-hyperframe rfc3986:python3-rfc3986 anyio:python3-anyio sniffio:python3-sniffio
  distro:python3-distro certifi:python3-certifi idna:python3-idna google.protobuf:python3-protobuf
  zstandard:python3-zstandard)
mkdir -p "$out/debs" "$out/root" "$out/path" "$out/path-torch"
missing=()
for entry in "${modules[@]}"; do
  module=${entry%%:*}
  python3 -c "import $module" 2>/dev/null || missing+=("$entry")
done
if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | cut -d: -f2 | sort -u)
  # shellcheck disable=SC2086 # one word per package
  if ! (cd "$out/debs" && apt-get download $packages); then
    echo "apt-get download failed; run 'apt-get update' once and retry" >&2
    exit 1
  fi
  for deb in "$out"/debs/*.deb; do
    dpkg-deb -x "$deb" "$out/root"
  done
  for entry in "${missing[@]}"; do
    top=${entry%%:*}
    top=${top%%.*}
    ln -sfn "$out/root/usr/lib/python3/dist-packages/$top" "$out/path/$top"
  done
fi

ln -sfn "$sdk/src/tinker" "$out/path/tinker"
# tinker/_version.py reads the version from package metadata, which an installer would have written
mkdir -p "$out/path/tinker-$version.dist-info"
printf 'Metadata-Version: 2.1\nName: tinker\nVersion: %s\n' "$version" > "$out/path/tinker-$version.dist-info/METADATA"

# Debian's torch is built against Debian's numpy 1.x and cannot read numpy 2 arrays, so both come together
for package in torch functorch torchgen numpy; do
  if [ -e "/usr/lib/python3/dist-packages/$package" ]; then
    ln -sfn "/usr/lib/python3/dist-packages/$package" "$out/path-torch/$package"
  fi
done

PYTHONPATH="$out/path" python3 -c 'import tinker, tinker.resources.training; print(f"Tinker SDK {tinker.__version__} importable")'
echo "PYTHONPATH=$out/path (add :$out/path-torch for forward_backward_custom)"
