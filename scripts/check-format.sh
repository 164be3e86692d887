#!/bin/sh
# The C sources of the module follow .clang-format (httpd-like style);
# tables keep their hand layout between "clang-format off/on" comments.
# Fails and names the files that do not; `clang-format -i` fixes them.
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || {
    echo "check-format: clang-format not found (apt-get install clang-format)" >&2
    exit 1
}
bad=""
for f in mod_oauth2_federated.c src/*.c src/*.h; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        bad="$bad $f"
    fi
done
if [ -n "$bad" ]; then
    echo "check-format: not formatted (clang-format -i):$bad" >&2
    exit 1
fi
echo "format: $(ls mod_oauth2_federated.c src/*.c src/*.h | wc -l) files follow .clang-format"
