#!/usr/bin/env bash
# clang-format's check (the repository's .clang-format) over every C++ file git tracks. Prints each file that is not
# formatted and how to fix it; exits 1 if any. About two seconds for the whole tree.
#   check-format.sh [ROOT]     fix: clang-format -i FILE…
set -u
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root" || exit 2
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed (./kaoko deps installs it)"; exit 2; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' | grep -v '/node_modules/')
else
  mapfile -t files < <(find . -name '*.cpp' -o -name '*.hpp' -o -name '*.h' | grep -v -e '/node_modules/' -e '/build')
fi
# One clang-format process for the whole list: it names each file that differs ("FILE:LINE:COL: error: code should
# be clang-formatted"); the file names are taken from those lines.
mapfile -t bad < <(clang-format --dry-run --Werror "${files[@]}" 2>&1 |
                   sed -n 's/^\(.*\):[0-9][0-9]*:[0-9][0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
if [ ${#bad[@]} -gt 0 ]; then
  printf 'check-format: not formatted: %s\n' "${bad[@]}"
  echo "check-format: ${#bad[@]} of ${#files[@]} files; fix with: clang-format -i ${bad[*]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted as .clang-format says"
